// History: search the local catalogue by dataset name or proposal, open a dataset's detail.
import { useEffect, useState } from 'react';
import type { DatasetSummaryView } from '../../../shared/app-model.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { ScreenHeader } from '../../components/ScreenHeader.js';
import { formatBytes, formatTime } from '../../format.js';
import { DatasetDetail } from './DatasetDetail.js';

export function HistoryScreen() {
  const client = useClient();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<DatasetSummaryView[] | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [open, setOpen] = useState<DatasetSummaryView | null>(null);

  useEffect(() => {
    let current = true;
    const t = setTimeout(() => {
      client
        .call('history.search', { query })
        .then((r) => {
          if (current) {
            setResults(r);
            setError(null);
          }
        })
        .catch((e: unknown) => {
          if (current) setError(errorInfoOf(e));
        });
    }, 150);
    return () => {
      current = false;
      clearTimeout(t);
    };
  }, [client, query]);

  if (open) return <DatasetDetail dataset={open} onBack={() => setOpen(null)} />;

  return (
    <section className="screen">
      <ScreenHeader title="History" />
      <Field
        name="history-search"
        label="Search datasets"
        hint="Words in the name, proposal, technique, sample, metadata or file names"
      >
        <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
      </Field>
      <ErrorBanner error={error} />
      <div aria-live="polite" className="sr-status">
        {results ? `${results.length} dataset${results.length === 1 ? '' : 's'}` : ''}
      </div>
      {results && results.length ? (
        <table className="table">
          <caption className="sr-only">Datasets in the local catalogue, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Dataset</th>
              <th scope="col">Proposal</th>
              <th scope="col">Visit</th>
              <th scope="col">Technique</th>
              <th scope="col" className="num">
                Files
              </th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">Recorded</th>
            </tr>
          </thead>
          <tbody>
            {results.map((d) => (
              <tr key={`${d.name}\0${d.proposal ?? ''}\0${d.visit ?? ''}\0${d.catalogue ?? ''}`} data-dataset={d.name}>
                <th scope="row">
                  <button type="button" className="link-button" onClick={() => setOpen(d)}>
                    {d.name}
                  </button>
                </th>
                <td>{d.proposal ?? '—'}</td>
                <td>{d.visit ?? '—'}</td>
                <td>
                  {d.technique ?? '—'}
                  {d.status === 'acquiring' ? <span className="muted"> (acquiring)</span> : null}
                </td>
                <td className="num">{d.files.toLocaleString()}</td>
                <td className="num">{formatBytes(d.bytes)}</td>
                <td>{formatTime(d.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : results ? (
        <p className="empty">No dataset{query ? ` matches “${query}”` : ' recorded yet'}.</p>
      ) : null}
    </section>
  );
}
