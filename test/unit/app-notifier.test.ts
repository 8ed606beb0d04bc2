// Notifications: once when a dataset is verified and registered, once when it needs attention,
// and nothing for jobs that were only listed at start-up.
import { describe, expect, it } from 'vitest';
import { JobNotifier, type Notice } from '../../src/main/app/notifier.js';
import { jobView } from './app-fixtures.js';

const update = (...jobs: ReturnType<typeof jobView>[]) => ({ jobs, fileChanges: [], fileChangesDropped: 0 });

describe('JobNotifier', () => {
  it('says "verified and registered" once when a running job finishes cleanly', () => {
    const notices: Notice[] = [];
    const n = new JobNotifier((x) => notices.push(x));
    n.onUpdate(update(jobView()));
    const done = jobView({ running: false, state: 'done', finishedAt: 9_000, filesDone: 10, counts: { verified: 10 } });
    n.onUpdate(update(done));
    n.onUpdate(update(done));
    expect(notices).toEqual([
      {
        kind: 'done',
        jobId: 1,
        title: 'lyso_042 verified and registered',
        body: '10 files verified at s3 and recorded in the catalogue.',
      },
    ]);
  });

  it('says "needs attention" with the failures and the pause reason', () => {
    const notices: Notice[] = [];
    const n = new JobNotifier((x) => notices.push(x));
    n.onUpdate(update(jobView()));
    n.onUpdate(update(jobView({ attention: true, counts: { verified: 3, failed: 2 } })));
    n.onUpdate(update(jobView({ attention: true, counts: { verified: 3, failed: 2 } })));
    expect(notices).toEqual([
      expect.objectContaining({ kind: 'attention', title: 'lyso_042 needs attention', body: '2 files failed' }),
    ]);
  });

  it('stays quiet about jobs it never saw running', () => {
    const notices: Notice[] = [];
    const n = new JobNotifier((x) => notices.push(x));
    n.onUpdate(update(jobView({ running: false, state: 'done', finishedAt: 1, attention: true, counts: { failed: 1 } })));
    expect(notices).toEqual([]);
  });
});
