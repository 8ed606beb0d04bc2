// The app backend's job control on the real engine and MinIO, without a browser: pause and
// resume, retry failed files, pause-all / resume-all (the tray), and shutdown() leaving a
// resumable journal. Bandwidth is limited so that a job is still running when it is paused.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/shared/app-model.js';
import { emptyDefinition, type DatasetDefinition } from '../../src/shared/dataset-definition.js';
import type { Result } from '../../src/shared/ipc-contract.js';
import { createBackend, type AppBackend } from '../../src/main/app-backend/create-backend.js';
import { harness, makeTree, randomBytesOf, type Harness } from '../support/engine-harness.js';

let h: Harness;
let backend: AppBackend;

const call = async <T>(command: string, request: unknown): Promise<T> => {
  const r = (await backend.dispatch(command, request)) as Result<T>;
  if (!r.ok) throw new Error(`${command}: ${r.error.code}: ${r.error.message}`);
  return r.value;
};
const view = async (jobId: number) => (await call<JobView[]>('jobs.list', { limit: 50 })).find((j) => j.id === jobId)!;
const definition = (patch: Partial<DatasetDefinition>): DatasetDefinition => ({
  ...emptyDefinition(),
  investigation: 'P-1',
  destination: 's3',
  ...patch,
});

beforeEach(async () => {
  h = await harness();
  backend = createBackend({
    engine: h.engine,
    profile: h.profile,
    profileSource: 'test',
    version: 'test',
    shell: { pickPaths: async () => [], setStartAtLogin: () => undefined },
  });
});
afterEach(async () => {
  await backend.shutdown();
  await h.engine.close();
});

describe('app backend: job control', () => {
  it('pauses (no attention asked) and resumes a running job to the end', async () => {
    await call('settings.update', { bandwidth: '200k' });
    const src = makeTree({ 'big.bin': randomBytesOf(600_000) });
    const { jobId } = await call<{ jobId: number }>('jobs.start', { definition: definition({ name: 'slow', sources: [src] }) });
    await expect.poll(async () => (await view(jobId)).state, { timeout: 10_000 }).toBe('running');
    const paused = await call<JobView>('jobs.pause', { jobId });
    expect(paused).toMatchObject({ state: 'paused', running: false, attention: false });
    expect(paused.reason).toMatch(/stopped by the operator/);
    expect(await call<JobView>('jobs.resume', { jobId })).toMatchObject({ running: true });
    await expect.poll(async () => (await view(jobId)).state, { timeout: 20_000 }).toBe('done');
    expect((await view(jobId)).counts).toEqual({ verified: 1 });
  });

  it('retries the failed files once their cause is gone', async () => {
    const src = makeTree({ 'a.dat': 'alpha', 'b.dat': 'bravo' });
    const remote = join(h.archive, 'P-1', 'retry_me');
    mkdirSync(remote, { recursive: true });
    writeFileSync(join(remote, 'b.dat'), 'not bravo');
    const { jobId } = await call<{ jobId: number }>('jobs.start', {
      definition: definition({ name: 'retry_me', destination: 'filesystem', sources: [src] }),
    });
    await expect.poll(async () => (await view(jobId)).state, { timeout: 10_000 }).toBe('done');
    expect(await view(jobId)).toMatchObject({ counts: { verified: 1, failed: 1 }, attention: true });
    const page = await call<{ rows: { relpath: string; error: { code: string } | null }[] }>('jobs.files', {
      jobId,
      states: ['failed'],
      offset: 0,
      limit: 10,
    });
    expect(page.rows).toEqual([
      expect.objectContaining({ relpath: 'b.dat', error: expect.objectContaining({ code: 'conflict' }) }),
    ]);

    rmSync(join(remote, 'b.dat'));
    await call('jobs.retryFailed', { jobId });
    await expect.poll(async () => (await view(jobId)).counts, { timeout: 10_000 }).toEqual({ verified: 2 });
    expect(await view(jobId)).toMatchObject({ state: 'done', attention: false });
  });

  it('pauses all and resumes all (the tray menu)', async () => {
    await call('settings.update', { bandwidth: '200k' });
    const a = await call<{ jobId: number }>('jobs.start', {
      definition: definition({ name: 'one', sources: [makeTree({ '1.bin': randomBytesOf(400_000, 2) })] }),
    });
    const b = await call<{ jobId: number }>('jobs.start', {
      definition: definition({ name: 'two', sources: [makeTree({ '2.bin': randomBytesOf(400_000, 3) })] }),
    });
    const paused = await call<JobView[]>('jobs.pauseAll', undefined);
    expect(paused.map((j) => [j.id, j.state, j.running])).toEqual([
      [a.jobId, 'paused', false],
      [b.jobId, 'paused', false],
    ]);
    const resumed = await call<JobView[]>('jobs.resumeAll', undefined);
    expect(resumed.map((j) => j.running)).toEqual([true, true]);
    await expect
      .poll(async () => [(await view(a.jobId)).state, (await view(b.jobId)).state], { timeout: 30_000 })
      .toEqual(['done', 'done']);
  });

  it('refuses a second start of the same running dataset, naming the field', async () => {
    await call('settings.update', { bandwidth: '100k' });
    const src = makeTree({ 'x.bin': randomBytesOf(300_000, 4) });
    await call('jobs.start', { definition: definition({ name: 'twice', sources: [src] }) });
    const again = await backend.dispatch('jobs.start', { definition: definition({ name: 'twice', sources: [src] }) });
    expect(again).toMatchObject({ ok: false, error: { code: 'job-busy', field: 'name' } });
  });

  it('refuses a second start of a dataset whose sync session is running, and stops it finalised', async () => {
    const src = makeTree({ 'frame1.cbf': 'one' });
    const sync = definition({ name: 'watched_twice', destination: 'filesystem', sources: [src], mode: 'sync' });
    sync.completeness = { ...sync.completeness, quietSeconds: 0.5 };
    const { jobId } = await call<{ jobId: number }>('jobs.start', { definition: sync });
    await expect.poll(async () => (await view(jobId)).counts, { timeout: 20_000 }).toEqual({ verified: 1 });
    const again = await backend.dispatch('jobs.start', { definition: sync });
    expect(again).toMatchObject({
      ok: false,
      error: { code: 'job-busy', field: 'name', message: expect.stringMatching(new RegExp(`job ${jobId}`)) },
    });
    expect((await call<JobView[]>('jobs.list', { limit: 50 })).filter((j) => j.dataset === 'watched_twice')).toHaveLength(1);
    expect(await call<JobView>('jobs.stop', { jobId })).toMatchObject({ state: 'done', running: false });
    expect(h.engine.services.catalogue.dataset('watched_twice')).toMatchObject({ status: 'complete', files: 1 });
  });

  it('shutdown() leaves a paused, resumable job in the journal', async () => {
    await call('settings.update', { bandwidth: '100k' });
    const { jobId } = await call<{ jobId: number }>('jobs.start', {
      definition: definition({ name: 'quit_midway', sources: [makeTree({ 'q.bin': randomBytesOf(500_000, 5) })] }),
    });
    await expect.poll(async () => (await view(jobId)).state, { timeout: 10_000 }).toBe('running');
    await backend.shutdown();
    expect(h.engine.services.journal.job(jobId)).toMatchObject({ state: 'paused' });
    expect(await backend.dispatch('jobs.resume', { jobId })).toMatchObject({ ok: false, error: { code: 'cancelled' } });
  });
});
