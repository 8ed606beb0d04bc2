// Sign in to the facility catalogue named by the profile, or continue with the local catalogue.
// The password goes to main once and is never kept in the page.
import { useState, type FormEvent } from 'react';
import type { SessionView } from '../../../shared/app-model.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { ScreenHeader } from '../../components/ScreenHeader.js';

export function SignInScreen({ session, onDone }: { session: SessionView; onDone(s: SessionView): void }) {
  const client = useClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const remote = session.catalogue.signInRequired;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onDone(await client.call('session.signIn', { username: username.trim(), password }));
    } catch (err) {
      setError(errorInfoOf(err));
    } finally {
      setPassword('');
      setBusy(false);
    }
  };

  const useLocal = async () => {
    setError(null);
    try {
      onDone(await client.call('session.useLocal', undefined));
    } catch (err) {
      setError(errorInfoOf(err));
    }
  };

  return (
    <section className="screen screen--narrow" aria-labelledby="signin-title">
      <ScreenHeader title="Sign in" />
      <p className="lead">
        {remote ? (
          <>
            Datasets are registered in <strong>{session.catalogue.name}</strong>
            {session.catalogue.url ? (
              <>
                {' '}
                at <code>{session.catalogue.url}</code>
              </>
            ) : null}{' '}
            under the user who signs in here.
          </>
        ) : (
          <>
            This facility profile uses the <strong>local catalogue</strong>: datasets, files and checksums are recorded on this
            computer. No sign-in is needed.
          </>
        )}
      </p>
      <ErrorBanner error={error} />
      {remote ? (
        <form className="card form" onSubmit={(e) => void submit(e)} aria-busy={busy}>
          <Field name="username" label="User name" required error={error?.field === 'username' ? error.message : undefined}>
            <input type="text" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
          </Field>
          <Field name="password" label="Password" required error={error?.field === 'password' ? error.message : undefined}>
            <input
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          </Field>
          <div className="form__actions">
            <button type="submit" className="button button--primary" disabled={busy || !username.trim() || !password}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </div>
        </form>
      ) : null}
      <div className="card">
        <h2>{remote ? 'Or work without the facility catalogue' : 'Local catalogue'}</h2>
        <p>
          {remote
            ? 'Uploads are recorded in the local catalogue only; sign in later to register them.'
            : 'Pick an investigation next, then define the dataset.'}
        </p>
        <button type="button" className={`button ${remote ? '' : 'button--primary'}`} onClick={() => void useLocal()}>
          Continue with the local catalogue
        </button>
      </div>
    </section>
  );
}
