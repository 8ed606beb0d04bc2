// One rate and size text for every view: `status` and the watch output (syncLine), the live line
// and summary (progress-view), and the app (renderer/format.ts) all print what shared/sizes.ts says.
import { describe, expect, it } from 'vitest';
import { progressLine, summaryText } from '../../src/main/cli/progress-view.js';
import { syncLine } from '../../src/main/cli/watch-command.js';
import { formatRate as appRate } from '../../src/renderer/format.js';
import type { JobSummary, SyncStatus } from '../../src/shared/model.js';
import { formatBytes, formatRate } from '../../src/shared/sizes.js';

const sync: SyncStatus = {
  jobId: 3,
  state: 'running',
  folders: [{ path: '/data', mode: 'watch' }],
  waiting: { files: 0, bytes: 0 },
  backlog: { files: 0, bytes: 0 },
  done: { files: 61, bytes: 61 * 1024 },
  failed: 0,
  versions: 0,
  changed: 0,
  deletedLocally: 0,
  rate: 4.2087542087542085,
  eta: null,
  destinationDown: null,
};

describe('rate and size text', () => {
  it('prints whole bytes below 1 KiB and one decimal above', () => {
    expect(formatBytes(4.2087542087542085)).toBe('4 B');
    expect(formatBytes(1023.7)).toBe('1.0 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(150 * 1024 ** 2)).toBe('150 MiB');
  });

  it('prints a rate the same way, never a fraction of a byte nor NaN', () => {
    expect(formatRate(4.2087542087542085)).toBe('4 B/s');
    expect(formatRate(2.5 * 1024 ** 2)).toBe('2.5 MiB/s');
    expect(formatRate(0)).toBe('0 B/s');
    expect(formatRate(Number.NaN)).toBe('0 B/s');
    expect(formatRate(-3)).toBe('0 B/s');
  });

  it('is what the sync status line, the live line, the summary and the app show', () => {
    const line = syncLine(sync);
    expect(line).toContain(' · 4 B/s');
    expect(line).not.toMatch(/\d\.\d{3,}/);
    expect(
      progressLine({ jobId: 1, filesTotal: 2, filesDone: 1, bytesTotal: 10, bytesDone: 5, rate: 0.3, eta: null, counts: {} }),
    ).toBe('1/2 files · 5 B/10 B · 0 B/s');
    const summary: JobSummary = {
      job: {
        id: 1,
        kind: 'batch',
        state: 'done',
        dataset: 'd',
        proposal: null,
        visit: null,
        catalogue: 'local',
        destination: 'x',
        sources: [],
        metadata: {},
        createdAt: 0,
        updatedAt: 0,
        finishedAt: 0,
        reason: null,
      },
      counts: {},
      bytesSent: 10,
      bytesTotal: 10,
      durationMs: 3000,
      failures: [],
    };
    expect(summaryText(summary)).toContain('(3 B/s)');
    expect(appRate(4.2087542087542085)).toBe('4 B/s');
    expect(appRate(0)).toBe('—');
  });
});
