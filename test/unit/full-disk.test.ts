// What Beamdrop makes of a full disk, without filling one: the answers MinIO and Apache really give
// when their filesystem is full (recorded by test/fault/full-disk.test.ts on a small tmpfs), a real
// SQLITE_FULL (SQLite's page limit) and a real ENOSPC (/dev/full), and the wait for space with a
// fake clock: backoff, giving up after waitMs, a stop, going on once a probe is stored.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { BeamdropError, type ErrorInfo } from '../../src/shared/errors.js';
import { profileSchema } from '../../src/shared/profile-schema.js';
import { EXIT, EXIT_OF_ERROR } from '../../src/main/cli/exit-codes.js';
import { classifyError, isOutOfSpace } from '../../src/main/engine/jobs/classify-error.js';
import { SpaceWait, type ProbeOutcome } from '../../src/main/engine/jobs/space-wait.js';
import { isLocalDiskFull, localDiskFull } from '../../src/main/engine/journal/local-disk-full.js';
import { mapS3Error } from '../../src/main/engine/storage/s3/s3-errors.js';
import { httpError } from '../../src/main/engine/storage/webdav/webdav-errors.js';

const S3_CTX = { name: 'archive', endpoint: 'http://minio:9000', bucket: 'raw', action: 'upload P1/a.h5', key: 'P1/a.h5' };

/** An error shaped as the AWS SDK throws it for an S3 error answer. */
const sdkError = (code: string, status: number, message: string) =>
  Object.assign(new Error(message), { name: code, Code: code, $metadata: { httpStatusCode: status } });

function realSqliteFull(): unknown {
  const db = new Database(':memory:');
  try {
    db.pragma('max_page_count = 4');
    db.exec('CREATE TABLE t (x BLOB)');
    for (;;) db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4096));
  } catch (e) {
    return e;
  } finally {
    db.close();
  }
}

function realEnospc(): unknown {
  try {
    writeFileSync('/dev/full', 'x');
  } catch (e) {
    return e;
  }
  throw new Error('/dev/full took a write');
}

describe('a destination out of space', () => {
  it.each([
    [
      '507 XMinioStorageFull (the object does not fit)',
      sdkError(
        'XMinioStorageFull',
        507,
        'Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed.',
      ),
    ],
    [
      '500 InternalError, cause no space left on device (the drive filled during the write)',
      sdkError('InternalError', 500, 'We encountered an internal error, please try again.: cause(no space left on device)'),
    ],
    ['400 XMinioAdminBucketQuotaExceeded', sdkError('XMinioAdminBucketQuotaExceeded', 400, 'Bucket quota exceeded')],
  ])('MinIO %s is disk-full, retryable, naming the destination', (_, e) => {
    const m = mapS3Error(e, S3_CTX);
    expect(m.code).toBe('disk-full');
    expect(m.retryable).toBe(true);
    expect(m.message).toContain('destination "archive" is out of space');
    expect(m.message).toMatch(/free space/);
    const c = classifyError(m, { destination: 'archive' });
    expect(c.scope).toBe('destination');
    expect(isOutOfSpace(c.info)).toBe(true);
  });

  it('a 500 InternalError for another cause stays a transient transfer failure', () => {
    const m = mapS3Error(sdkError('InternalError', 500, 'We encountered an internal error, please try again.'), S3_CTX);
    expect(m.code).toBe('transfer-failed');
    expect(isOutOfSpace(m)).toBe(false);
  });

  it('WebDAV 507 Insufficient Storage is disk-full and retryable, naming the destination', () => {
    const e = httpError(507, {
      destination: 'dav',
      root: 'https://dav.example/archive/',
      url: 'https://dav.example/archive/P1/.x.part',
      key: 'P1/a.h5',
      action: 'uploading',
    });
    expect(e.code).toBe('disk-full');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('destination "dav" is out of space');
    expect(e.message).toContain('507');
  });

  it('the upload policy has a wait for space, longer than a network blip', () => {
    const policy = profileSchema.parse({}).upload;
    expect(policy.outOfSpace).toEqual({ baseDelayMs: 10_000, maxDelayMs: 300_000, waitMs: 3_600_000 });
    expect(policy.outOfSpace.baseDelayMs).toBeGreaterThan(policy.retries.baseDelayMs);
    expect(policy.outOfSpace.maxDelayMs).toBeGreaterThan(policy.retries.maxDelayMs);
  });
});

describe('the local disk under the data folder is full', () => {
  const paths = { root: '/data/beamdrop', journal: '/data/beamdrop/journal.sqlite' };

  it('a real SQLITE_FULL is local, never a file problem, and ends the command with exit 5 naming the journal', () => {
    const e = realSqliteFull();
    expect((e as { code: string }).code).toBe('SQLITE_FULL');
    expect(isLocalDiskFull(e)).toBe(true);
    expect(classifyError(e, { destination: 'archive', file: 'a.h5' }).scope).toBe('local');
    const m = localDiskFull(e, paths) as BeamdropError;
    expect(m).toBeInstanceOf(BeamdropError);
    expect(m.code).toBe('local-disk-full');
    expect(m.message).toContain("the disk holding Beamdrop's data folder /data/beamdrop is full");
    expect(m.message).toContain('/data/beamdrop/journal.sqlite');
    expect(m.message).toContain('Free space');
    expect(EXIT_OF_ERROR[m.code]).toBe(EXIT.localDiskFull);
    expect(EXIT.localDiskFull).toBe(5);
    // Already mapped: passed through as it is.
    expect(localDiskFull(m, paths)).toBe(m);
    expect(classifyError(m, { destination: 'archive' }).scope).toBe('local');
  });

  it('a real ENOSPC is a full local disk; a file in the data folder names it, another disk is said to be another', () => {
    const e = realEnospc();
    expect(isLocalDiskFull(e)).toBe(true);
    expect((localDiskFull(e, paths) as BeamdropError).message).toMatch(/^a local disk is full/);
    const inFolder = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC', path: '/data/beamdrop/logs/beamdrop.log' });
    expect((localDiskFull(inFolder, paths) as BeamdropError).message).toContain('data folder /data/beamdrop is full');
  });

  it('other errors pass through untouched', () => {
    const e = new Error('boom');
    expect(isLocalDiskFull(e)).toBe(false);
    expect(localDiskFull(e, paths)).toBe(e);
    const destinationFull = new BeamdropError({ code: 'disk-full', message: 'full', retryable: true });
    expect(isLocalDiskFull(destinationFull)).toBe(false);
  });
});

describe('waiting for space', () => {
  const full: ErrorInfo = { code: 'disk-full', message: 'destination "archive" is out of space', retryable: true };

  function fakeClock() {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
  }

  function waiter(timing: { baseDelayMs: number; maxDelayMs: number; waitMs: number }, signal?: AbortSignal) {
    const clock = fakeClock();
    const log = { waiting: 0, delays: [] as number[], back: 0 };
    const w = new SpaceWait({
      clock,
      timing,
      signal,
      onWaiting: () => void log.waiting++,
      onProbeScheduled: (_, delayMs) => void log.delays.push(delayMs),
      onBack: () => void log.back++,
    });
    return { w, log, clock };
  }

  const probes = (...outcomes: ProbeOutcome[]) => {
    let i = 0;
    return async () => outcomes[Math.min(i++, outcomes.length - 1)]!;
  };

  it('probes with a growing backoff up to maxDelayMs and goes on once a probe is stored', async () => {
    const { w, log } = waiter({ baseDelayMs: 1_000, maxDelayMs: 4_000, waitMs: 3_600_000 });
    const r = await w.wait(
      full,
      probes(
        { kind: 'full', info: full },
        { kind: 'full', info: full },
        { kind: 'full', info: full },
        { kind: 'full', info: full },
        { kind: 'stored' },
      ),
    );
    expect(r).toEqual({ kind: 'back' });
    expect(log.waiting).toBe(1);
    expect(log.back).toBe(1);
    expect(log.delays).toHaveLength(5);
    for (const d of log.delays) expect(d).toBeLessThanOrEqual(4_000);
    expect(log.delays[0]).toBeGreaterThanOrEqual(500);
    expect(log.delays[4]).toBeGreaterThanOrEqual(2_000);
  });

  it('gives up after waitMs without a stored file, and at once when waitMs is 0', async () => {
    const { w, clock } = waiter({ baseDelayMs: 1_000, maxDelayMs: 5_000, waitMs: 30_000 });
    const r = await w.wait(full, probes({ kind: 'full', info: full }));
    expect(r.kind).toBe('gave-up');
    expect(clock.now()).toBe(30_000);
    const none = waiter({ baseDelayMs: 1_000, maxDelayMs: 5_000, waitMs: 0 });
    let probed = 0;
    expect(
      await none.w.wait(full, async () => {
        probed++;
        return { kind: 'stored' };
      }),
    ).toMatchObject({ kind: 'gave-up' });
    expect(probed).toBe(0);
  });

  it('a stored file restarts the wait; another destination problem or a stop ends it', async () => {
    const { w, clock } = waiter({ baseDelayMs: 1_000, maxDelayMs: 1_000, waitMs: 10_000 });
    expect(await w.wait(full, probes({ kind: 'full', info: full }, { kind: 'stored' }))).toEqual({ kind: 'back' });
    const afterFirst = clock.now();
    // The next wait counts its 10 s from now, not from the first one.
    const r = await w.wait(full, probes({ kind: 'full', info: full }));
    expect(r.kind).toBe('gave-up');
    expect(clock.now() - afterFirst).toBe(10_000);
    const down: ErrorInfo = { code: 'destination-unreachable', message: 'cannot reach', retryable: true };
    expect(await w.wait(full, probes({ kind: 'down', info: down }))).toMatchObject({ kind: 'gave-up' });
    const fresh = waiter({ baseDelayMs: 1_000, maxDelayMs: 1_000, waitMs: 10_000 });
    expect(await fresh.w.wait(full, probes({ kind: 'down', info: down }))).toEqual({ kind: 'down', info: down });
    const stop = new AbortController();
    stop.abort();
    const stopped = waiter({ baseDelayMs: 1_000, maxDelayMs: 1_000, waitMs: 10_000 }, stop.signal);
    expect(await stopped.w.wait(full, probes({ kind: 'stored' }))).toEqual({ kind: 'stopped' });
  });
});
