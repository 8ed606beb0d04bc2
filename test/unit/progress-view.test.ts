import { describe, expect, it } from 'vitest';
import { ProgressView, formatDuration, progressLine, registrationLine, summaryText } from '../../src/main/cli/progress-view.js';
import type { JobSummary } from '../../src/shared/model.js';

const summary: JobSummary = {
  job: {
    id: 7,
    kind: 'batch',
    state: 'done',
    dataset: 'lyso',
    proposal: 'P1',
    visit: null,
    catalogue: 'local',
    destination: 'archive',
    sources: ['/d'],
    metadata: {},
    createdAt: 0,
    updatedAt: 0,
    finishedAt: 0,
    reason: null,
  },
  counts: { verified: 3, failed: 1 },
  bytesSent: 3 * 1024 * 1024,
  bytesTotal: 4 * 1024 * 1024,
  durationMs: 2000,
  failures: [
    {
      relpath: 'bad.raw',
      error: {
        code: 'unreadable',
        message: 'unreadable: no permission to read /d/bad.raw; fix its permissions',
        retryable: false,
      },
    },
  ],
};

describe('terminal progress', () => {
  it('formats the live line with files, bytes, rate and ETA', () => {
    expect(
      progressLine({
        jobId: 1,
        filesTotal: 10,
        filesDone: 4,
        bytesTotal: 10 * 1024 ** 3,
        bytesDone: 1024 ** 3,
        rate: 100 * 1024 ** 2,
        eta: 3725,
        counts: { failed: 2 },
      }),
    ).toBe('4/10 files · 1.0 GiB/10.0 GiB · 100 MiB/s · ETA 1:02:05 · 2 failed');
    expect(formatDuration(65)).toBe('1:05');
  });

  it('summarises counts, bytes, duration and every failure with its reason', () => {
    const text = summaryText(summary);
    expect(text).toContain('3 verified, 1 failed');
    expect(text).toContain('3.0 MiB sent of 4.0 MiB in 0:02 (1.5 MiB/s)');
    expect(text).toContain('✗ bad.raw: unreadable: no permission to read /d/bad.raw');
    expect(text).toMatch(/^Job 7 · dataset "lyso" \(proposal P1\) → archive: done$/m);
  });

  it('says what a dry run found without claiming anything was sent', () => {
    const dry: JobSummary = {
      ...summary,
      job: { ...summary.job, kind: 'dry-run' },
      counts: { discovered: 2, skipped: 1 },
      bytesSent: 0,
      failures: [],
    };
    const text = summaryText(dry);
    expect(text).toMatch(/^Dry run \(job 7\) · dataset "lyso" \(proposal P1\) → archive: done$/m);
    expect(text).toContain('2 to send, 1 already there');
    expect(text).toContain('4.0 MiB in all; nothing was sent (dry run)');
    expect(text).not.toContain('discovered');
  });

  it("tells where the catalogue registration stands, with the server's reason and field", () => {
    const base = {
      dataset: 'lyso',
      catalogue: 'scicat https://scicat.example',
      remoteId: null,
      filesQueued: 0,
      filesRegistered: 3,
      nextAttemptAt: null,
      finished: true,
      updatedAt: 0,
    };
    expect(registrationLine({ ...base, state: 'registered', remoteId: '20.500/abc', lastError: null })).toBe(
      '✓ catalogue scicat https://scicat.example: dataset "lyso" registered as 20.500/abc (3 file(s) registered)',
    );
    expect(
      registrationLine({
        ...base,
        state: 'needs-attention',
        lastError: {
          code: 'metadata-invalid',
          message: 'm',
          retryable: false,
          reason: 'energy must be a number',
          field: 'scientificMetadata.energy',
        },
      }),
    ).toMatch(
      /needs attention: energy must be a number \(field scientificMetadata\.energy\)\. Files stay uploaded.*beamdrop catalogue retry/,
    );
  });

  it('redraws one line on a terminal and prints JSON lines with --json', () => {
    const out: string[] = [];
    const tty = new ProgressView({ write: (s) => out.push(s), isTTY: true }, false);
    tty.onEvent({
      type: 'progress',
      progress: { jobId: 1, filesTotal: 2, filesDone: 1, bytesTotal: 2048, bytesDone: 1024, rate: 0, eta: null, counts: {} },
    });
    tty.onEvent({ type: 'job-finished', summary });
    expect(out[0]).toMatch(/^\r\x1b\[2K1\/2 files/);
    expect(out[1]).toBe('\r\x1b[2K');
    const lines: string[] = [];
    new ProgressView({ write: (s) => lines.push(s), isTTY: false }, true).onEvent({ type: 'job-paused', jobId: 1, reason: 'r' });
    expect(JSON.parse(lines[0]!)).toEqual({ type: 'job-paused', jobId: 1, reason: 'r' });
  });
});
