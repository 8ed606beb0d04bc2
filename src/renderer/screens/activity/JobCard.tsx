// One job at a glance: dataset, destination, state, progress (files and bytes), rate, ETA,
// backlog for sync, the reason it stopped, and the actions that apply to its state.
import type { JobView } from '../../../shared/app-model.js';
import { ENDED_JOB_STATES } from '../../../shared/model.js';
import { StateBadge } from '../../components/StateBadge.js';
import { formatBytes, formatEta, formatRate, percent, plural } from '../../format.js';

export type JobAction = 'pause' | 'resume' | 'retryFailed' | 'stop';

interface Props {
  job: JobView;
  selected: boolean;
  busy: JobAction | null;
  onSelect(): void;
  onAction(a: JobAction): void;
}

export function JobCard({ job, selected, busy, onSelect, onAction }: Props) {
  const pct = percent(job.bytesTotal ? job.bytesDone : job.filesDone, job.bytesTotal || job.filesTotal);
  const failed = job.counts.failed ?? 0;
  // A job the journal says is running but this app does not run was interrupted (crash, quit);
  // one interrupted while `finishing` (its dataset being finalised) is finalised by Resume.
  const active = job.state === 'scanning' || job.state === 'stopping' || job.state === 'finishing';
  const stateLabel = job.running
    ? active
      ? job.state
      : 'running'
    : active || job.state === 'running'
      ? 'interrupted'
      : job.state;
  return (
    <article
      className={`job-card${selected ? ' job-card--selected' : ''}${job.attention ? ' job-card--attention' : ''}`}
      aria-label={`Job ${job.id}: ${job.dataset}`}
      data-job-id={job.id}
    >
      <button type="button" className="job-card__select" onClick={onSelect} aria-pressed={selected}>
        <span className="job-card__title">{job.dataset}</span>
        <span className="job-card__meta">
          #{job.id} · {job.kind} · {job.proposal ?? 'no proposal'} → {job.destination}
        </span>
      </button>
      <div className="job-card__status">
        <StateBadge state={stateLabel} />
        {job.attention ? <span className="badge badge--attention">needs attention</span> : null}
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-label={`Progress of ${job.dataset}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
      >
        <div className="progress__bar" style={{ width: `${pct}%` }} />
      </div>
      <dl className="job-card__numbers">
        <div>
          <dt>Files</dt>
          <dd>
            {job.filesDone.toLocaleString()} / {job.filesTotal.toLocaleString()}
          </dd>
        </div>
        <div>
          <dt>Data</dt>
          <dd>
            {formatBytes(job.bytesDone)} / {formatBytes(job.bytesTotal)}
          </dd>
        </div>
        <div>
          <dt>Rate</dt>
          <dd>{job.running ? formatRate(job.rate) : '—'}</dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd>{job.running ? formatEta(job.eta) : '—'}</dd>
        </div>
        {job.backlog !== null ? (
          <div>
            <dt>Backlog</dt>
            <dd>{plural(job.backlog, 'file')}</dd>
          </div>
        ) : null}
        <div>
          <dt>Verified</dt>
          <dd>{((job.counts.verified ?? 0) + (job.counts.registered ?? 0)).toLocaleString()}</dd>
        </div>
        {job.counts.skipped ? (
          <div>
            <dt>Skipped</dt>
            <dd>{job.counts.skipped.toLocaleString()}</dd>
          </div>
        ) : null}
        {failed ? (
          <div>
            <dt>Failed</dt>
            <dd className="text-error">{failed.toLocaleString()}</dd>
          </div>
        ) : null}
      </dl>
      {job.reason ? (
        <p className="job-card__reason" role={job.attention ? 'alert' : undefined}>
          {job.reason}
        </p>
      ) : null}
      <div className="button-row">
        {job.running ? (
          <button type="button" className="button" disabled={busy !== null} onClick={() => onAction('pause')}>
            {busy === 'pause' ? 'Pausing…' : 'Pause'}
          </button>
        ) : null}
        {!job.running && job.kind !== 'dry-run' && !ENDED_JOB_STATES.has(job.state) ? (
          <button type="button" className="button" disabled={busy !== null} onClick={() => onAction('resume')}>
            {busy === 'resume' ? 'Resuming…' : 'Resume'}
          </button>
        ) : null}
        {failed ? (
          <button type="button" className="button" disabled={busy !== null} onClick={() => onAction('retryFailed')}>
            {busy === 'retryFailed' ? 'Retrying…' : `Retry ${plural(failed, 'failed file')}`}
          </button>
        ) : null}
        {job.kind === 'sync' && job.running ? (
          <button type="button" className="button button--danger" disabled={busy !== null} onClick={() => onAction('stop')}>
            {busy === 'stop' ? 'Stopping…' : 'Stop acquisition'}
          </button>
        ) : null}
      </div>
    </article>
  );
}
