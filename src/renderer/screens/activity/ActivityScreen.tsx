// Activity: every job with its progress and actions, and the selected job's files in a
// virtualised table filtered by state. Reads the ActivityStore; actions go to main and their
// answers (and the batched updates) flow back through the store.
import { useEffect, useState } from 'react';
import { FILE_STATES, type FileState } from '../../../shared/model.js';
import type { ErrorInfo } from '../../../shared/errors.js';
import { errorInfoOf } from '../../api-client.js';
import { useClient } from '../../app/client-context.js';
import { useActivity, useActivityStore } from '../../app/store-context.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { Field } from '../../components/Field.js';
import { ScreenHeader } from '../../components/ScreenHeader.js';
import { FileTable } from './FileTable.js';
import { JobCard, type JobAction } from './JobCard.js';

export function ActivityScreen() {
  const client = useClient();
  const store = useActivityStore();
  const snapshot = useActivity();
  const [busy, setBusy] = useState<{ jobId: number; action: JobAction } | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const selectedJob = snapshot.jobs.find((j) => j.id === snapshot.selected) ?? null;

  // Show the newest job when none is chosen yet.
  useEffect(() => {
    if (snapshot.selected === null && snapshot.jobs[0]) store.select(snapshot.jobs[0].id);
  }, [store, snapshot.selected, snapshot.jobs]);

  const act = async (jobId: number, action: JobAction) => {
    setBusy({ jobId, action });
    setError(null);
    try {
      const command =
        action === 'pause'
          ? 'jobs.pause'
          : action === 'resume'
            ? 'jobs.resume'
            : action === 'retryFailed'
              ? 'jobs.retryFailed'
              : 'jobs.stop';
      store.putJob(await client.call(command, { jobId }));
    } catch (e) {
      setError(errorInfoOf(e));
    } finally {
      setBusy(null);
    }
  };

  const counts = selectedJob?.counts ?? {};
  const filterValue = snapshot.filter.length === 1 ? snapshot.filter[0]! : '';

  return (
    <section className="screen screen--wide activity">
      <ScreenHeader title="Activity" />
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {snapshot.jobs.length === 0 ? (
        <p className="empty">No jobs yet. Define a dataset under “New dataset” to start one.</p>
      ) : null}
      <div className="activity__layout">
        <div className="activity__jobs" aria-label="Jobs">
          {snapshot.jobs.map((j) => (
            <JobCard
              key={j.id}
              job={j}
              selected={j.id === snapshot.selected}
              busy={busy?.jobId === j.id ? busy.action : null}
              onSelect={() => store.select(j.id)}
              onAction={(a) => void act(j.id, a)}
            />
          ))}
        </div>
        {selectedJob ? (
          <div className="activity__files">
            <div className="activity__files-head">
              <h2>Files of {selectedJob.dataset}</h2>
              <Field name="state-filter" label="Show">
                <select
                  value={filterValue}
                  onChange={(e) => store.setFilter(e.target.value ? [e.target.value as FileState] : [])}
                >
                  <option value="">All states ({selectedJob.filesTotal.toLocaleString()})</option>
                  {FILE_STATES.map((s) => (
                    <option key={s} value={s}>
                      {s} ({(counts[s] ?? 0).toLocaleString()})
                    </option>
                  ))}
                </select>
              </Field>
            </div>
            <FileTable snapshot={snapshot} />
          </div>
        ) : null}
      </div>
    </section>
  );
}
