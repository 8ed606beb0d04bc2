// One dataset: metadata, where it is registered (catalogue PIDs), its files with SHA-256 and
// storage URI (paged), and "verify now" against the destination.
import { useCallback, useEffect, useState } from 'react';
import type { DatasetDetailView, DatasetSummaryView, VerifyReport } from '../../../shared/app-model.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { ScreenHeader } from '../../components/ScreenHeader.js';
import { formatBytes, formatTime, plural } from '../../format.js';

const PAGE = 100;

export function DatasetDetail({ dataset, onBack }: { dataset: DatasetSummaryView; onBack(): void }) {
  const client = useClient();
  // The same name may be in several proposals, visits or catalogues: the request names which dataset.
  const { name } = dataset;
  const proposal = dataset.proposal;
  const visit = dataset.visit ?? null;
  const catalogue = dataset.catalogue;
  const which = { name, proposal, visit, ...(catalogue ? { catalogue } : {}) };
  const [detail, setDetail] = useState<DatasetDetailView | null>(null);
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [deep, setDeep] = useState(false);
  const [verifying, setVerifying] = useState(false);
  const [report, setReport] = useState<VerifyReport | null>(null);

  const load = useCallback(() => {
    client
      .call('history.dataset', { name, proposal, visit, ...(catalogue ? { catalogue } : {}), offset, limit: PAGE })
      .then(setDetail, (e: unknown) => setError(errorInfoOf(e)));
  }, [client, name, proposal, visit, catalogue, offset]);
  useEffect(load, [load]);

  const verify = async () => {
    setVerifying(true);
    setReport(null);
    setError(null);
    try {
      setReport(await client.call('history.verify', { ...which, deep }));
    } catch (e) {
      setError(errorInfoOf(e));
    } finally {
      setVerifying(false);
    }
  };

  const d = detail?.dataset;
  return (
    <section className="screen">
      <ScreenHeader title={name}>
        <button type="button" className="button" onClick={onBack}>
          Back to history
        </button>
      </ScreenHeader>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {d ? (
        <div className="two-columns">
          <section className="card" aria-labelledby="ds-about">
            <h2 id="ds-about">About</h2>
            <dl className="kv">
              <div>
                <dt>Proposal</dt>
                <dd>{d.proposal ?? '—'}</dd>
              </div>
              <div>
                <dt>Files</dt>
                <dd>
                  {d.files.toLocaleString()} ({formatBytes(d.bytes)})
                </dd>
              </div>
              <div>
                <dt>Recorded</dt>
                <dd>{formatTime(d.createdAt)}</dd>
              </div>
              {Object.entries(d.about).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
            {Object.keys(d.metadata).length ? (
              <>
                <h3 className="subheading">Scientific metadata</h3>
                <dl className="kv" data-testid="scientific-metadata">
                  {Object.entries(d.metadata).map(([k, v]) => (
                    <div key={k}>
                      <dt>{k}</dt>
                      <dd>{v}</dd>
                    </div>
                  ))}
                </dl>
              </>
            ) : null}
          </section>
          <section className="card" aria-labelledby="ds-reg">
            <h2 id="ds-reg">Catalogue</h2>
            {detail.registrations.length ? (
              <ul className="plain-list">
                {detail.registrations.map((r) => (
                  <li key={r.catalogue}>
                    <strong>{r.catalogue}</strong>: {r.state}
                    {r.pid ? (
                      <>
                        {' '}
                        · PID <code data-testid="pid">{r.pid}</code>
                      </>
                    ) : (
                      ' · no PID'
                    )}
                    {r.detail ? <span className="muted"> — {r.detail}</span> : null}
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">Not registered in any catalogue.</p>
            )}
            <h2>Verify</h2>
            <label className="checkbox">
              <input type="checkbox" checked={deep} onChange={(e) => setDeep(e.target.checked)} /> Read every file back and
              re-hash it (slow, definitive)
            </label>
            <button type="button" className="button button--primary" onClick={() => void verify()} disabled={verifying}>
              {verifying ? 'Verifying…' : 'Verify now'}
            </button>
            <div aria-live="polite">
              {report ? (
                <p className={report.failed ? 'text-error' : 'text-ok'} data-testid="verify-result">
                  {report.failed
                    ? `${report.failed} of ${plural(report.checked, 'file')} FAILED verification.`
                    : `All ${plural(report.checked, 'file')} verified${deep ? ' (read back and re-hashed)' : ''}.`}
                </p>
              ) : null}
              {report?.results
                .filter((r) => !r.ok)
                .map((r) => (
                  <p key={r.relpath} className="text-error">
                    <code>{r.relpath}</code>: {r.problem}
                  </p>
                ))}
            </div>
          </section>
        </div>
      ) : null}
      {detail ? (
        <section aria-labelledby="ds-files">
          <h2 id="ds-files">Files</h2>
          <table className="table table--files">
            <thead>
              <tr>
                <th scope="col">Path</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">SHA-256</th>
                <th scope="col">Storage URI</th>
              </tr>
            </thead>
            <tbody>
              {detail.files.map((f) => (
                <tr key={`${f.relpath}:${f.sha256}`} data-relpath={f.relpath}>
                  <th scope="row">
                    <code>{f.relpath}</code>
                  </th>
                  <td className="num">{formatBytes(f.size)}</td>
                  <td className="mono hash" data-testid="sha256">
                    {f.sha256}
                  </td>
                  <td className="mono uri">{f.storageUri}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {detail.total > PAGE ? (
            <div className="button-row">
              <button
                type="button"
                className="button"
                disabled={offset === 0}
                onClick={() => setOffset(Math.max(0, offset - PAGE))}
              >
                Previous
              </button>
              <span>
                {offset + 1}–{Math.min(offset + PAGE, detail.total)} of {detail.total.toLocaleString()}
              </span>
              <button
                type="button"
                className="button"
                disabled={offset + PAGE >= detail.total}
                onClick={() => setOffset(offset + PAGE)}
              >
                Next
              </button>
            </div>
          ) : null}
        </section>
      ) : null}
    </section>
  );
}
