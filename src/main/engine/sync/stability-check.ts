// Turns `discovered` files into `stable` ones: takes the files whose check is due from the
// journal (a page at a time), stats them in the folder worker, looks for their markers, probes
// the exclusive open where the folder asks for it, and applies completeness.ts's verdict. A
// verdict is only written if the row did not move meanwhile (a newer observation wins), so a
// file that changed during the check is never marked complete on old evidence.
import { decideCompleteness, exclusiveOpenApplies, type OpenProbe, type Verdict } from './completeness.js';
import { KIND, type FsClient } from './fs-client.js';
import { probeOpen } from './open-probe.js';
import type { SyncLedger, SyncRow } from './sync-journal.js';
import { markersFor, type CompiledMarker } from './sync-rules.js';
import type { FolderRules } from '../../../shared/profile-sync-schema.js';
import { Waker } from './waker.js';

export interface CheckFolder {
  rules: FolderRules;
  markers: CompiledMarker[];
}

export interface StabilityDeps {
  ledger: SyncLedger;
  fs: FsClient;
  now: () => number;
  platform: NodeJS.Platform;
  folderOf(path: string): CheckFolder;
  /** Files became stable: wake the transfers. */
  onStable(count: number): void;
  /** One file became stable (for the operator's per-file view). */
  onFileStable?(row: SyncRow): void;
  /** Why each waiting file waits (its last verdict), for the report when the acquisition stops. */
  reasons: Map<number, string>;
}

const PAGE = 500;

/** Checks one page of due files; returns how many were due (PAGE means: call again at once). */
export async function checkDue(d: StabilityDeps): Promise<number> {
  const rows = d.ledger.due(d.now(), PAGE);
  if (!rows.length) return 0;
  const stats = await d.fs.stat(rows.map((r) => r.path));
  const now = d.now();
  const candidates: { row: SyncRow; current: { size: number; mtimeMs: number }; markers: string[] }[] = [];
  let stable = 0;
  rows.forEach((row, i) => {
    const kind = stats.kinds[i]!;
    const error = stats.errors[i];
    if (error !== null && error !== undefined) {
      // Not even stat-able (permissions, a share that went away): look again later.
      apply(d, row, { complete: false, why: 'held-open', detail: `cannot be read yet (${error})`, recheckInMs: 5000 }, row, now);
      return;
    }
    if (kind === KIND.gone || kind === KIND.dir) {
      d.reasons.delete(row.id);
      d.ledger.dropBeforeUpload(row, now);
      return;
    }
    const current = { size: stats.sizes[i]!, mtimeMs: stats.mtimes[i]! };
    const folder = d.folderOf(row.path);
    const first = decideCompleteness({
      now,
      quietPeriodMs: folder.rules.quietPeriodMs,
      recorded: { ...row, seenAt: row.seenAt ?? now },
      current,
      markers: [],
      open: 'not-checked',
    });
    if (!first.complete) {
      apply(d, row, first, current, now);
      return;
    }
    candidates.push({ row, current, markers: markersFor(row.path, folder.markers) });
  });
  // One stat per distinct marker for the whole page (a thousand data files share one master).
  const markerPaths = [...new Set(candidates.flatMap((c) => c.markers))];
  const markerStats = await d.fs.stat(markerPaths);
  const present = new Map(markerPaths.map((p, i) => [p, markerStats.errors[i] === null && markerStats.kinds[i] !== KIND.gone]));
  for (const c of candidates) {
    const folder = d.folderOf(c.row.path);
    const markers = c.markers.map((m) => ({ name: m, present: present.get(m) ?? false }));
    let open: OpenProbe = 'not-checked';
    if (exclusiveOpenApplies(folder.rules.exclusiveOpen, d.platform) && markers.every((m) => m.present))
      open = (await probeOpen(c.row.path, d.platform)).probe;
    const v = decideCompleteness({
      now: d.now(),
      quietPeriodMs: folder.rules.quietPeriodMs,
      recorded: { ...c.row, seenAt: c.row.seenAt ?? now },
      current: c.current,
      markers,
      open,
    });
    if (apply(d, c.row, v, c.current, d.now())) stable++;
  }
  if (stable) d.onStable(stable);
  return rows.length;
}

/** Writes a verdict unless the row moved since it was read; true when the file became stable. */
function apply(d: StabilityDeps, row: SyncRow, v: Verdict, current: { size: number; mtimeMs: number }, now: number): boolean {
  const fresh = d.ledger.row(row.id);
  if (
    !fresh ||
    fresh.state !== 'discovered' ||
    fresh.deletedAt !== null ||
    fresh.seenAt !== row.seenAt ||
    fresh.size !== row.size ||
    fresh.mtimeMs !== row.mtimeMs
  )
    return false;
  if (v.complete) {
    d.reasons.delete(row.id);
    d.ledger.markStable(row.id, now);
    d.onFileStable?.(row);
    return true;
  }
  if (v.why === 'changed') d.ledger.restartQuiet(row.id, current, now, now + v.recheckInMs);
  else d.ledger.recheckAt(row.id, now + v.recheckInMs);
  d.reasons.set(row.id, v.detail);
  return false;
}

/** Runs checkDue whenever a check falls due or new files are observed, until stop(). */
export class StabilityLoop {
  private readonly waker = new Waker();
  private readonly controller = new AbortController();
  private running: Promise<void> | null = null;

  constructor(private readonly d: StabilityDeps) {}

  wake(): void {
    this.waker.wake();
  }

  /** Why a waiting file is not complete yet (its last verdict). */
  reason(fileId: number): string | null {
    return this.d.reasons.get(fileId) ?? null;
  }

  /** Starts the loop; a failure (e.g. the folder reader died) goes to `onError`, never unhandled. */
  start(onError: (e: unknown) => void): void {
    this.running ??= this.loop().catch(onError);
  }

  private async loop(): Promise<void> {
    const { signal } = this.controller;
    while (!signal.aborted) {
      const n = await checkDue(this.d);
      if (signal.aborted) break;
      if (n >= PAGE) continue;
      const next = this.d.ledger.nextDue();
      await this.waker.wait(next === null ? null : Math.max(0, next - this.d.now()), signal);
    }
  }

  /** Resolves once the loop has stopped (a check in progress finishes first). */
  async stop(): Promise<void> {
    this.controller.abort();
    this.waker.wake();
    await this.running;
  }
}
