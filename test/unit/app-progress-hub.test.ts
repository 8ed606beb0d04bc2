// The batching between the engine (thousands of events per second) and the UI: at most one
// update per 100 ms, only for jobs that changed, with the newest file changes capped.
import { describe, expect, it } from 'vitest';
import type { JobsUpdate } from '../../src/shared/app-model.js';
import type { JobEvent } from '../../src/shared/model.js';
import { jobIdOf, ProgressHub } from '../../src/main/app-backend/progress-hub.js';
import type { Scheduler } from '../../src/main/app-backend/ports.js';
import { jobView } from './app-fixtures.js';

/** A clock the test moves by hand; timers fire when it passes them. */
function manualScheduler() {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  const s: Scheduler = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return () => {
        timers = timers.filter((x) => x !== t);
      };
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      now = next.at;
      timers = timers.filter((t) => t !== next);
      next.fn();
    }
    now = end;
  };
  return { s, advance };
}

const fileEvent = (jobId: number, i: number): JobEvent => ({
  type: 'file-state',
  jobId,
  relpath: `f${i}`,
  state: i % 2 ? 'verified' : 'transferring',
});

describe('ProgressHub', () => {
  it('turns 1,000 file events per second into at most 10 updates per second', () => {
    const { s, advance } = manualScheduler();
    const out: JobsUpdate[] = [];
    const hub = new ProgressHub({ scheduler: s, views: (ids) => ids.map((id) => jobView({ id })), emit: (u) => out.push(u) });
    for (let ms = 0; ms < 3000; ms++) {
      hub.ingest(fileEvent(1, ms));
      advance(1);
    }
    advance(200);
    expect(out.length).toBeGreaterThanOrEqual(29);
    expect(out.length).toBeLessThanOrEqual(31);
    const changes = out.reduce((n, u) => n + u.fileChanges.length + u.fileChangesDropped, 0);
    expect(changes).toBe(3000);
    expect(Math.max(...out.map((u) => u.fileChanges.length))).toBeLessThanOrEqual(200);
  });

  it('sends the first change at once after a quiet time, and only the jobs that moved', () => {
    const { s, advance } = manualScheduler();
    const out: JobsUpdate[] = [];
    const hub = new ProgressHub({ scheduler: s, views: (ids) => ids.map((id) => jobView({ id })), emit: (u) => out.push(u) });
    advance(5000);
    hub.ingest({ type: 'scan-progress', jobId: 3, files: 10, bytes: 100 });
    advance(0);
    expect(out.map((u) => u.jobs.map((j) => j.id))).toEqual([[3]]);
    expect(hub.liveJob(3)?.scanned).toEqual({ files: 10, bytes: 100 });
    advance(1000);
    expect(out.length).toBe(1);
  });

  it('keeps the newest changes when a burst exceeds the cap', () => {
    const { s, advance } = manualScheduler();
    const out: JobsUpdate[] = [];
    const hub = new ProgressHub({ scheduler: s, views: () => [], emit: (u) => out.push(u), maxFileChanges: 5 });
    advance(1000);
    hub.ingest(fileEvent(1, 0));
    advance(0);
    for (let i = 1; i <= 50; i++) hub.ingest(fileEvent(1, i));
    advance(100);
    const last = out.at(-1)!;
    expect(last.fileChanges.map((c) => c.relpath)).toEqual(['f46', 'f47', 'f48', 'f49', 'f50']);
    expect(last.fileChangesDropped).toBe(45);
  });

  it('tracks running, operator pauses and errors, and stops after dispose', () => {
    const { s, advance } = manualScheduler();
    const out: JobsUpdate[] = [];
    const hub = new ProgressHub({ scheduler: s, views: (ids) => ids.map((id) => jobView({ id })), emit: (u) => out.push(u) });
    hub.setRunning(4, true);
    hub.markOperatorPaused(4);
    hub.setRunning(4, false);
    expect(hub.liveJob(4)).toMatchObject({ running: false, operatorPaused: true });
    hub.setRunning(4, true);
    expect(hub.liveJob(4)).toMatchObject({ running: true, operatorPaused: false, error: null });
    hub.setError(4, { code: 'internal', message: 'boom', retryable: false });
    hub.dispose();
    const n = out.length;
    hub.touch(4);
    advance(1000);
    expect(out.length).toBe(n);
  });

  it('finds the job of every engine event', () => {
    expect(
      jobIdOf({
        type: 'progress',
        progress: { jobId: 5, filesTotal: 0, filesDone: 0, bytesTotal: 0, bytesDone: 0, rate: 0, eta: null, counts: {} },
      }),
    ).toBe(5);
    expect(jobIdOf({ type: 'job-paused', jobId: 6, reason: 'x' })).toBe(6);
  });
});
