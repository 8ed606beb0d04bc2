// The destinations: where each goes, whose credentials, whether its secret is in the OS keychain
// (or the environment), and actions: store or remove the secret, test the connection, remove
// an operator-added destination. Secrets are write-only here.
import { useState } from 'react';
import type { DestinationView } from '../../../shared/app-model.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';

export function DestinationsPanel({ destinations, onChanged }: { destinations: DestinationView[]; onChanged(): void }) {
  return (
    <section className="card" aria-labelledby="dest-title">
      <h2 id="dest-title">Destinations</h2>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Location</th>
            <th scope="col">Credentials</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {destinations.map((d) => (
            <DestinationRow key={d.name} d={d} onChanged={onChanged} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function DestinationRow({ d, onChanged }: { d: DestinationView; onChanged(): void }) {
  const client = useClient();
  const [secret, setSecret] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setMessage(null);
    try {
      setMessage({ ok: true, text: await what() });
      onChanged();
    } catch (e) {
      setMessage({ ok: false, text: errorInfoOf(e).message });
    } finally {
      setBusy(false);
    }
  };
  const secretLabel = d.kind === 's3' ? 'S3 secret access key' : 'WebDAV password';
  return (
    <tr data-destination={d.name}>
      <th scope="row">
        {d.name}
        {d.origin === 'profile' ? <span className="muted"> (profile)</span> : null}
      </th>
      <td>{d.kind}</td>
      <td className="mono">
        {d.location}
        <br />
        <span className="muted">{d.keyTemplate}</span>
      </td>
      <td>
        {d.credential === 'not-needed' ? (
          'not needed'
        ) : d.credential === 'available' ? (
          <span className="text-ok">secret stored</span>
        ) : (
          <span className="text-error">secret missing</span>
        )}
        {d.identity ? (
          <>
            <br />
            <span className="muted">as {d.identity}</span>
          </>
        ) : null}
      </td>
      <td>
        <div className="button-row">
          {d.kind !== 'filesystem' ? (
            <form
              className="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                void run(async () => {
                  await client.call('settings.setSecret', { destination: d.name, secret });
                  setSecret('');
                  return 'Stored in the OS keychain.';
                });
              }}
            >
              <label className="sr-only" htmlFor={`secret-${d.name}`}>
                {secretLabel} for {d.name}
              </label>
              <input
                id={`secret-${d.name}`}
                type="password"
                autoComplete="off"
                placeholder={secretLabel}
                value={secret}
                onChange={(e) => setSecret(e.target.value)}
              />
              <button type="submit" className="button" disabled={busy || !secret}>
                Store
              </button>
            </form>
          ) : null}
          {d.kind !== 'filesystem' && d.credential === 'available' ? (
            <button
              type="button"
              className="button button--quiet"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await client.call('settings.deleteSecret', { destination: d.name });
                  return 'Secret removed from the OS keychain.';
                })
              }
            >
              Forget secret
            </button>
          ) : null}
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() =>
              void run(
                async () =>
                  `Reachable, credentials accepted (${(await client.call('settings.testDestination', { destination: d.name })).ms} ms).`,
              )
            }
          >
            Test
          </button>
          {d.origin === 'operator' ? (
            <button
              type="button"
              className="button button--danger"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await client.call('settings.removeDestination', { name: d.name });
                  return 'Removed.';
                })
              }
            >
              Remove
            </button>
          ) : null}
        </div>
        {message ? (
          <p className={message.ok ? 'text-ok' : 'text-error'} role="status">
            {message.text}
          </p>
        ) : null}
      </td>
    </tr>
  );
}
