// Logs: the recent lines of the one log file, newest first, filtered by level and text, refreshed
// every few seconds while the screen is open.
import { useCallback, useEffect, useState } from 'react';
import type { LogLevel, LogLine } from '../../../shared/app-model.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { ScreenHeader } from '../../components/ScreenHeader.js';
import { formatClock } from '../../format.js';

const REFRESH_MS = 3000;

export function LogsScreen() {
  const client = useClient();
  const [minLevel, setMinLevel] = useState<LogLevel>('info');
  const [query, setQuery] = useState('');
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [live, setLive] = useState(true);

  const load = useCallback(() => {
    client.call('logs.recent', { minLevel, limit: 500, query }).then(
      (l) => {
        setLines(l);
        setError(null);
      },
      (e: unknown) => setError(errorInfoOf(e)),
    );
  }, [client, minLevel, query]);
  useEffect(() => {
    load();
    if (!live) return;
    const t = setInterval(load, REFRESH_MS);
    return () => clearInterval(t);
  }, [load, live]);

  return (
    <section className="screen screen--wide">
      <ScreenHeader title="Logs">
        <button type="button" className="button" onClick={load}>
          Refresh
        </button>
      </ScreenHeader>
      <div className="toolbar">
        <Field name="level" label="Level at least">
          <select value={minLevel} onChange={(e) => setMinLevel(e.target.value as LogLevel)}>
            <option value="debug">debug</option>
            <option value="info">info</option>
            <option value="warn">warn</option>
            <option value="error">error</option>
          </select>
        </Field>
        <Field name="log-search" label="Contains">
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        </Field>
        <label className="checkbox">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> Refresh every {REFRESH_MS / 1000} s
        </label>
      </div>
      <ErrorBanner error={error} />
      {lines && lines.length === 0 ? <p className="empty">No log lines at this level.</p> : null}
      {lines && lines.length ? (
        <ol className="log-list" aria-label="Log lines, newest first">
          {lines.map((l, i) => (
            <li key={`${l.time}-${i}`} className={`log-line log-line--${l.level}`} data-level={l.level}>
              <time dateTime={new Date(l.time).toISOString()}>{formatClock(l.time)}</time>
              <span className={`badge badge--log-${l.level}`}>{l.level}</span>
              <span className="log-line__msg">{l.message}</span>
              {Object.keys(l.fields).length ? <code className="log-line__fields">{JSON.stringify(l.fields)}</code> : null}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
