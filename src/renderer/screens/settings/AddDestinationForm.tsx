// Adds a destination of the operator's own (a personal bucket, a NAS folder). Only ids go here;
// the secret is stored afterwards in the OS keychain from the destinations table.
import { useState, type FormEvent } from 'react';
import type { SettingsView } from '../../../shared/app-model.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { DEFAULT_KEY_TEMPLATE } from '../../../shared/key-template-default.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';

type Kind = 's3' | 'webdav' | 'filesystem';
const EMPTY = {
  name: '',
  kind: 'filesystem' as Kind,
  endpoint: '',
  region: '',
  bucket: '',
  accessKeyId: '',
  url: '',
  username: '',
  root: '',
  keyTemplate: DEFAULT_KEY_TEMPLATE,
};

export function AddDestinationForm({ onSaved }: { onSaved(s: SettingsView): void }) {
  const client = useClient();
  const [f, setF] = useState(EMPTY);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const set = (patch: Partial<typeof EMPTY>) => setF({ ...f, ...patch });
  const err = (field: string) => (error?.field === field ? error.message : undefined);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const config: Record<string, unknown> = { kind: f.kind, keyTemplate: f.keyTemplate };
    if (f.kind === 's3')
      Object.assign(config, {
        endpoint: f.endpoint,
        bucket: f.bucket,
        ...(f.region ? { region: f.region } : {}),
        ...(f.accessKeyId ? { credentials: { accessKeyId: f.accessKeyId } } : {}),
      });
    if (f.kind === 'webdav')
      Object.assign(config, { url: f.url, ...(f.username ? { credentials: { username: f.username } } : {}) });
    if (f.kind === 'filesystem') config.root = f.root;
    try {
      onSaved(await client.call('settings.saveDestination', { name: f.name.trim(), config }));
      setF(EMPTY);
    } catch (x) {
      setError(errorInfoOf(x));
    }
  };

  return (
    <form className="card form" onSubmit={(e) => void save(e)} aria-labelledby="add-dest-title">
      <h2 id="add-dest-title">Add a destination</h2>
      <div className="two-columns">
        <Field name="name" label="Name" required error={err('name')}>
          <input type="text" value={f.name} onChange={(e) => set({ name: e.target.value })} />
        </Field>
        <Field name="kind" label="Kind" error={err('config.kind')}>
          <select value={f.kind} onChange={(e) => set({ kind: e.target.value as Kind })}>
            <option value="filesystem">Folder (mounted filesystem)</option>
            <option value="s3">S3</option>
            <option value="webdav">WebDAV</option>
          </select>
        </Field>
      </div>
      {f.kind === 'filesystem' ? (
        <Field name="root" label="Folder" required error={err('config.root')}>
          <input type="text" value={f.root} onChange={(e) => set({ root: e.target.value })} placeholder="/mnt/archive" />
        </Field>
      ) : null}
      {f.kind === 's3' ? (
        <div className="two-columns">
          <Field name="endpoint" label="Endpoint URL" required error={err('config.endpoint')}>
            <input
              type="url"
              value={f.endpoint}
              onChange={(e) => set({ endpoint: e.target.value })}
              placeholder="https://s3.facility.example:9000"
            />
          </Field>
          <Field name="bucket" label="Bucket" required error={err('config.bucket')}>
            <input type="text" value={f.bucket} onChange={(e) => set({ bucket: e.target.value })} />
          </Field>
          <Field name="region" label="Region" hint="Default us-east-1">
            <input type="text" value={f.region} onChange={(e) => set({ region: e.target.value })} />
          </Field>
          <Field name="accessKeyId" label="Access key id" error={err('config.credentials.accessKeyId')}>
            <input type="text" value={f.accessKeyId} onChange={(e) => set({ accessKeyId: e.target.value })} />
          </Field>
        </div>
      ) : null}
      {f.kind === 'webdav' ? (
        <div className="two-columns">
          <Field name="url" label="Collection URL" required error={err('config.url')}>
            <input
              type="url"
              value={f.url}
              onChange={(e) => set({ url: e.target.value })}
              placeholder="https://dav.facility.example/archive"
            />
          </Field>
          <Field name="username" label="User name">
            <input type="text" value={f.username} onChange={(e) => set({ username: e.target.value })} />
          </Field>
        </div>
      ) : null}
      <Field
        name="keyTemplate"
        label="Key template"
        hint="Variables: {facility} {beamline} {proposal} {visit} {dataset} {date} {relpath}; must end with {relpath}"
        error={err('config.keyTemplate')}
      >
        <input type="text" value={f.keyTemplate} onChange={(e) => set({ keyTemplate: e.target.value })} />
      </Field>
      {error && !error.field?.startsWith('config.') && error.field !== 'name' ? <ErrorBanner error={error} /> : null}
      <div className="form__actions">
        <button type="submit" className="button">
          Add destination
        </button>
      </div>
    </form>
  );
}
