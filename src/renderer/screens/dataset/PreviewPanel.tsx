// What will be sent, live: count, total size, a sample of names, and what the scan left out.
import type { SourcePreview } from '../../../shared/app-model.js';
import { formatBytes, plural } from '../../format.js';
import type { PreviewState } from './use-preview.js';

export function PreviewPanel({ state }: { state: PreviewState }) {
  const { preview, error, scanning } = state;
  return (
    <section className="preview" aria-labelledby="preview-title" aria-busy={scanning}>
      <h3 id="preview-title">What will be sent</h3>
      <div aria-live="polite" className="preview__summary" data-testid="preview-summary">
        {scanning && !preview ? (
          'Scanning…'
        ) : error ? (
          <span className="text-error">{error.message}</span>
        ) : preview ? (
          summary(preview, scanning)
        ) : (
          'Add files or folders to see what will be sent.'
        )}
      </div>
      {preview && preview.sample.length ? (
        <ul className="preview__sample" aria-label="Sample of files">
          {preview.sample.map((f) => (
            <li key={f.relpath}>
              <code>{f.relpath}</code> <span className="muted">{formatBytes(f.size)}</span>
            </li>
          ))}
          {preview.files > preview.sample.length ? (
            <li className="muted">… and {plural(preview.files - preview.sample.length, 'more file')}</li>
          ) : null}
        </ul>
      ) : null}
      {preview && preview.notesTotal ? (
        <details className="preview__notes">
          <summary>{plural(preview.notesTotal, 'item')} left out</summary>
          <ul>
            {preview.notes.map((n) => (
              <li key={n.path}>
                <code>{n.path}</code>: {n.detail}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}

function summary(p: SourcePreview, scanning: boolean): string {
  const base = `${plural(p.files, 'file')}, ${formatBytes(p.bytes)}${p.complete ? '' : ' so far (the folder is large; the job will scan all of it)'}`;
  return scanning ? `${base} — updating…` : base;
}
