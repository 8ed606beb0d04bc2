// An error that belongs to no single field, with the operator-readable message from ErrorInfo.
import type { ErrorInfo } from '../../shared/errors.js';

export function ErrorBanner({ error, onDismiss }: { error: ErrorInfo | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="banner banner--error" role="alert" data-error-code={error.code}>
      <p>{error.message}</p>
      {onDismiss ? (
        <button type="button" className="button button--quiet" onClick={onDismiss}>
          Dismiss
        </button>
      ) : null}
    </div>
  );
}
