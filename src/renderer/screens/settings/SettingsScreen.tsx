// Settings: destinations and their secrets, then the upload policy (files and parts at once,
// bandwidth schedule), the default destination and start at login. The facility profile stays
// the admins' file; what is set here overrides it for this computer.
import { useEffect, useState, type FormEvent } from 'react';
import type { SettingsView } from '../../../shared/app-model.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { ScreenHeader } from '../../components/ScreenHeader.js';
import { AddDestinationForm } from './AddDestinationForm.js';
import { DestinationsPanel } from './DestinationsPanel.js';

export function SettingsScreen() {
  const client = useClient();
  const [settings, setSettings] = useState<SettingsView | null>(null);
  const [form, setForm] = useState({
    concurrency: '',
    partConcurrency: '',
    bandwidth: '',
    defaultDestination: '',
    startAtLogin: false,
  });
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [saved, setSaved] = useState(false);

  const apply = (s: SettingsView) => {
    setSettings(s);
    setForm({
      concurrency: String(s.concurrency),
      partConcurrency: String(s.partConcurrency),
      bandwidth: s.bandwidth,
      defaultDestination: s.defaultDestination ?? '',
      startAtLogin: s.startAtLogin,
    });
  };
  useEffect(() => {
    client.call('settings.get', undefined).then(apply, (e: unknown) => setError(errorInfoOf(e)));
  }, [client]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    const int = (v: string, field: string) => {
      const n = Number(v);
      if (!Number.isInteger(n))
        throw { code: 'usage', retryable: false, field, message: 'Write a whole number.' } satisfies ErrorInfo;
      return n;
    };
    try {
      apply(
        await client.call('settings.update', {
          concurrency: int(form.concurrency, 'concurrency'),
          partConcurrency: int(form.partConcurrency, 'partConcurrency'),
          bandwidth: form.bandwidth,
          startAtLogin: form.startAtLogin,
          ...(form.defaultDestination ? { defaultDestination: form.defaultDestination } : {}),
        }),
      );
      setSaved(true);
    } catch (err) {
      setError(typeof err === 'object' && err !== null && 'field' in err ? (err as ErrorInfo) : errorInfoOf(err));
    }
  };
  const fieldError = (f: string) => (error?.field === f ? error.message : undefined);

  if (!settings)
    return (
      <section className="screen">
        <ScreenHeader title="Settings" />
        <ErrorBanner error={error} />
      </section>
    );
  return (
    <section className="screen">
      <ScreenHeader title="Settings" />
      <p className="muted">
        Facility profile: <code>{settings.profileSource}</code>
        {settings.facility ? ` · ${settings.facility}` : ''}
        {settings.beamline ? ` ${settings.beamline}` : ''} · data folder <code>{settings.dataDir}</code>
      </p>
      <DestinationsPanel
        destinations={settings.destinations}
        onChanged={() => void client.call('settings.get', undefined).then(apply)}
      />
      <AddDestinationForm onSaved={apply} />
      <form className="card form" onSubmit={(e) => void save(e)} aria-labelledby="policy-title">
        <h2 id="policy-title">Uploads</h2>
        <div className="two-columns">
          <Field name="concurrency" label="Files at once" hint="1 to 64" error={fieldError('concurrency')}>
            <input
              type="text"
              inputMode="numeric"
              value={form.concurrency}
              onChange={(e) => setForm({ ...form, concurrency: e.target.value })}
            />
          </Field>
          <Field
            name="partConcurrency"
            label="Parts of one file at once (S3)"
            hint="1 to 32"
            error={fieldError('partConcurrency')}
          >
            <input
              type="text"
              inputMode="numeric"
              value={form.partConcurrency}
              onChange={(e) => setForm({ ...form, partConcurrency: e.target.value })}
            />
          </Field>
        </div>
        <Field
          name="bandwidth"
          label="Bandwidth schedule"
          error={fieldError('bandwidth')}
          hint={
            <>
              One rate such as <code>50M</code>, <code>off</code>, or a timetable as in rclone:{' '}
              <code>Mon-08:00,20M Mon-20:00,off</code> (bare numbers are KiB/s)
            </>
          }
        >
          <input type="text" value={form.bandwidth} onChange={(e) => setForm({ ...form, bandwidth: e.target.value })} />
        </Field>
        <Field name="defaultDestination" label="Default destination" error={fieldError('defaultDestination')}>
          <select value={form.defaultDestination} onChange={(e) => setForm({ ...form, defaultDestination: e.target.value })}>
            {settings.destinations.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name}
              </option>
            ))}
          </select>
        </Field>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={form.startAtLogin}
            onChange={(e) => setForm({ ...form, startAtLogin: e.target.checked })}
          />
          Start Beamdrop in the tray when I log in
        </label>
        {error && !error.field ? <ErrorBanner error={error} /> : null}
        <div className="form__actions">
          {saved ? (
            <span className="text-ok" role="status">
              Saved.
            </span>
          ) : null}
          <button type="submit" className="button button--primary">
            Save
          </button>
        </div>
      </form>
    </section>
  );
}
