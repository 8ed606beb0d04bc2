// One round of the campaign: one dataset (a batch folder, or a sync acquisition filled by the
// detector writer) sent by the real `beamdrop` CLI to one destination and registered in one
// catalogue. The first run is killed with SIGKILL at a moment drawn uniformly over the typical
// run length of this kind of round; a rerun may be killed again; a fault may be added to either.
// Then the same command runs again until the job is done and its registration finished —
// the rerun-to-done time is the time to recover. A calibration round is not killed: it measures
// the run length the kill moments are drawn from.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startWriter, type WrittenFile } from '../support/detector-writer.js';
import {
  adoptChild,
  runBeamdrop,
  startBeamdrop,
  told,
  type BeamdropProcess,
  type CliEvent,
  type Ended,
} from './beamdrop-process.js';
import { batchFiles, syncPlan, writeTree } from './campaign-data.js';
import {
  DESTINATION_NAME,
  PROPOSAL,
  VISIT,
  type CampaignWorld,
  type CatalogueKind,
  type DestinationKind,
} from './campaign-world.js';
import { faultsFor, startFault, type Fault, type RunningFault } from './faults.js';
import { readDatasetJournal } from './journal-view.js';
import { classifyKill, type KillVerdict } from './kill-phase.js';
import { seededRng, type Rng } from './rng.js';

export interface RoundConfig {
  kind: 'batch' | 'sync';
  destination: DestinationKind;
  catalogue: CatalogueKind;
}

export const configName = (c: RoundConfig): string => `${c.kind}-${c.destination}-${c.catalogue}`;

export interface RoundPlan {
  index: number;
  config: RoundConfig;
  /** Typical run length of this config; null for a calibration round (no kill). */
  runMs: number | null;
  chanceOfFault: number;
  chanceOfSecondKill: number;
}

export interface KillRecord {
  round: number;
  run: number;
  afterMs: number;
  verdict: KillVerdict;
}

export interface RoundResult {
  plan: RoundPlan;
  dataset: string;
  sourceDir: string;
  /** For a sync round: what the writer reported (relpath, size, SHA-256 of the final file). */
  written: WrittenFile[] | null;
  kills: KillRecord[];
  /** Kills drawn for a moment after the run had already ended. */
  missedKills: number;
  faults: { fault: Fault; detail: string }[];
  runs: number;
  /** Spawn to end of an unkilled first run (calibration). */
  fullRunMs: number | null;
  /** From the first kill (the rerun starts at once) to the job done and its registration finished. */
  recoveryMs: number | null;
  done: boolean;
  /** Defects seen while running (unexpected exits, refusals, timeouts). */
  notes: string[];
  /** The job notes the runs printed ("kind: message"), to explain a problem the checks find. */
  jobNotes: string[];
}

const MAX_RUNS = 12;
const MAX_KILLS = 3;
const ROUND_TIMEOUT_MS = 240_000;

export async function runRound(world: CampaignWorld, plan: RoundPlan, rng: Rng, log: (s: string) => void): Promise<RoundResult> {
  const { config } = plan;
  const dataset = `r${String(plan.index).padStart(5, '0')}-${configName(config)}`;
  const sourceDir = join(world.base, 'src', dataset);
  const profile = world.profiles[config.catalogue]!;
  const result: RoundResult = {
    plan,
    dataset,
    sourceDir,
    written: null,
    kills: [],
    missedKills: 0,
    faults: [],
    runs: 0,
    fullRunMs: null,
    recoveryMs: null,
    done: false,
    notes: [],
    jobNotes: [],
  };
  // ICAT+ needs a sample; SciCat takes it too.
  const ident = ['--dataset', dataset, '--proposal', PROPOSAL, '--visit', VISIT, '--profile', profile, '-p', 'sample=lysozyme'];
  const dest = ['--destination', DESTINATION_NAME[config.destination]];

  // The kill plan, drawn up front so that a seed gives the same campaign.
  const killDelays: (number | null)[] = [];
  let fault: { which: Fault; run: number; delayMs: number } | null = null;
  if (plan.runMs !== null) {
    const first = rng.between(0, plan.runMs);
    killDelays.push(first);
    // Reruns are killed too, now and then: a resume of a resume of a killed run.
    while (killDelays.length < MAX_KILLS && rng.chance(plan.chanceOfSecondKill)) killDelays.push(rng.between(0, plan.runMs));
    if (rng.chance(plan.chanceOfFault)) {
      const run = rng.chance(0.5) ? 0 : 1;
      fault = {
        which: rng.pick(faultsFor(config.catalogue)),
        run,
        delayMs: Math.round(run === 0 ? rng.between(0, first) : rng.between(0, plan.runMs * 0.8)),
      };
    }
  }
  // The fault's own figures (down time, bytes before a cut) come from a generator of their own.
  const faultRng = seededRng(rng.int(0, 2 ** 31));
  const running: RunningFault[] = [];

  // ---- a sync round's writer and its stop: the watcher is stopped once every written file is verified
  let writer: ReturnType<typeof startWriter> | null = null;
  let writerDone = false;
  const writerPlan = config.kind === 'sync' ? syncPlan(sourceDir, rng) : null;
  const startWriterOnce = () => {
    if (writer || !writerPlan) return;
    writer = startWriter(writerPlan);
    adoptChild(writer.child);
    writer.done.then(
      () => {
        writerDone = true;
      },
      (e: unknown) => {
        writerDone = true;
        result.notes.push(`detector writer failed: ${String(e)}`);
      },
    );
  };
  if (config.kind === 'batch') writeTree(sourceDir, batchFiles(rng));
  else mkdirSync(sourceDir, { recursive: true });

  const allWrittenVerified = (): boolean => {
    if (!writer || !writerDone) return false;
    const files = new Map(readDatasetJournal(world.home, dataset).files.map((f) => [f.relpath, f.state]));
    return writer.files.every((w) => ['verified', 'registered', 'skipped'].includes(files.get(w.relpath) ?? ''));
  };

  const deadline = Date.now() + ROUND_TIMEOUT_MS;
  let firstKillAt: number | null = null;
  let doneAt: number | null = null;
  for (let run = 0; run < MAX_RUNS && Date.now() < deadline; run++) {
    const jobId = readDatasetJournal(world.home, dataset).job?.id;
    const args =
      config.kind === 'batch'
        ? ['upload', sourceDir, ...ident, ...dest, '--json']
        : run > 0 && jobId !== undefined
          ? ['watch', '--resume', String(jobId), '--json']
          : ['watch', sourceDir, ...ident, ...dest, '--json'];
    const p = startBeamdrop(args, world.env);
    result.runs++;
    if (fault && fault.run === run) {
      const f = startFault(world, fault.which, config, fault.delayMs, faultRng);
      running.push(f);
      result.faults.push({ fault: f.fault, detail: f.detail });
      log(`  fault: ${f.detail}`);
    }
    const stopper = config.kind === 'sync' ? stopWhenDrained(world, p, dataset, allWrittenVerified, startWriterOnce) : null;
    const killDelay = killDelays[run] ?? null;
    const ended = await endOf(p, killDelay);
    stopper?.cancel();
    for (const e of p.events)
      if (e.type === 'job-note' || e.type === 'job-paused')
        result.jobNotes.push(`run ${run}: ${String(e.kind ?? e.type)}: ${String(e.message ?? e.reason)}`);
    if (config.kind === 'sync') startWriterOnce(); // killed before its first scan: the writer starts anyway
    if (ended.killedAt !== null) {
      const journal = readDatasetJournal(world.home, dataset);
      const verdict = classifyKill({
        destination: config.destination,
        kind: config.kind,
        dataset,
        killAt: ended.killedAt,
        events: p.events,
        journal,
        storage: world.taps[config.destination === 's3' ? 's3' : 'webdav'].inFlightAt(ended.killedAt),
        catalogue: (config.catalogue === 'scicat' ? world.taps.scicat : world.taps.broker)?.inFlightAt(ended.killedAt) ?? [],
      });
      result.kills.push({ round: plan.index, run, afterMs: ended.killedAt - p.startedAt, verdict });
      log(
        `  kill ${result.kills.length} after ${ended.killedAt - p.startedAt} ms: ${verdict.primary}${verdict.phases.length > 1 ? ` (${verdict.phases.join(', ')})` : ''}`,
      );
      firstKillAt ??= ended.killedAt;
      // A sync job killed after it was finalised is not watched again (`watch --resume` refuses a
      // finished job): what is left is the outbox's. A batch upload is simply run again, as the
      // operator would (on a finished job that starts a new one, which finds every file stored).
      if (config.kind === 'sync' && journal.job?.state === 'done') {
        doneAt = Date.now();
        break;
      }
      continue;
    }
    if (killDelay !== null) result.missedKills++;
    const r = ended.result;
    const job = readDatasetJournal(world.home, dataset).job;
    if (run === 0 && r.code === 0) {
      result.fullRunMs = r.endedAt - r.startedAt;
      if (plan.runMs === null) log(`  timeline: ${timeline(p)}`);
    }
    if (job?.state === 'done') {
      // Exit 1 = some files failed: the checks count them.
      if (r.code !== 0) result.notes.push(`ended done, but exited ${r.code}: ${told(r)}`);
      doneAt = Date.now();
      break;
    }
    // Paused (the destination went away during a fault) or refused: run it again, as an operator would.
    if (r.code !== 3) result.notes.push(`unexpected end (job ${job?.id ?? '?'} ${job?.state ?? 'none'}): ${told(r)}`);
    await sleep(300);
  }
  if (doneAt === null) result.notes.push(`the job did not end done within ${MAX_RUNS} runs / ${ROUND_TIMEOUT_MS} ms`);

  // The registration goes on after the job (the outbox, the ICAT+ buffer): it is part of recovering.
  await Promise.all(running.map((f) => f.over));
  if (doneAt !== null) {
    const settled = await settleRegistration(world, config.catalogue, dataset, profile);
    if (!settled.ok) result.notes.push(`registration not finished: ${settled.why}`);
    else doneAt = Math.max(doneAt, settled.at);
    result.done = settled.ok;
  }
  if (writer) {
    await (writer as ReturnType<typeof startWriter>).done.catch(() => undefined);
    result.written = (writer as ReturnType<typeof startWriter>).files;
  }
  // The rerun starts the moment the kill is seen: from the first kill to done and registered.
  if (firstKillAt !== null && doneAt !== null) result.recoveryMs = doneAt - firstKillAt;
  return result;
}

/** When the milestones of a run arrived (ms after its spawn), for the calibration's log. */
function timeline(p: BeamdropProcess): string {
  const marks: string[] = [];
  let verified = 0;
  for (const e of p.events as (CliEvent & { receivedAt?: number })[]) {
    const at = e.receivedAt === undefined ? '?' : String(e.receivedAt - p.startedAt);
    if (e.type === 'file-state') {
      if (e.state === 'verified' && ++verified === 1) marks.push(`first verified ${at}`);
    } else if (['job-started', 'scan-done', 'job-finished', 'registration'].includes(e.type)) marks.push(`${e.type} ${at}`);
  }
  return marks.join(', ');
}

/** Waits for the process to end, killing it with SIGKILL after killDelay if it still runs. */
async function endOf(p: BeamdropProcess, killDelay: number | null): Promise<{ killedAt: number | null; result: Ended }> {
  if (killDelay === null) return { killedAt: null, result: await p.done };
  let timer: NodeJS.Timeout | undefined;
  const kill = new Promise<'kill'>((res) => {
    timer = setTimeout(() => res('kill'), killDelay);
  });
  const first = await Promise.race([p.done, kill]);
  clearTimeout(timer);
  if (first !== 'kill' || p.hasEnded()) return { killedAt: null, result: await p.done };
  const killedAt = p.kill();
  const result = await p.done;
  // Ended on its own in the same instant: not a kill.
  return { killedAt: result.signal === 'SIGKILL' ? killedAt : null, result };
}

/**
 * A watcher is stopped (`beamdrop stop JOB --no-wait`, from another process) once the writer is
 * done and every file it wrote is verified; the writer starts at the watcher's first scan.
 */
function stopWhenDrained(
  world: CampaignWorld,
  p: BeamdropProcess,
  dataset: string,
  drained: () => boolean,
  startWriter: () => void,
): { cancel(): void } {
  let cancelled = false;
  void (async () => {
    let lastStop = 0;
    while (!cancelled && !p.hasEnded()) {
      if (p.events.some((e) => e.type === 'scan-done')) startWriter();
      if (drained() && Date.now() - lastStop > 3_000) {
        const jobId = readDatasetJournal(world.home, dataset).job?.id;
        if (jobId !== undefined) {
          lastStop = Date.now();
          await runBeamdrop(['stop', String(jobId), '--no-wait'], world.env, 30_000);
        }
      }
      await sleep(100);
    }
  })();
  return {
    cancel: () => {
      cancelled = true;
    },
  };
}

const bufferHolds = (home: string, dataset: string): boolean => {
  try {
    return readdirSync(join(home, 'icat-plus-buffer')).some((f) => f.startsWith(`${dataset}__`) && f.endsWith('.xml'));
  } catch {
    return false;
  }
};

/**
 * The registration finished: SciCat told (dataset, files, archivable), or the ICAT+ message
 * confirmed by the broker (none left in the buffer folder). Pushed with `beamdrop catalogue push`
 * (and `catalogue resend` for ICAT+) while it is not, as an operator would after an outage.
 */
async function settleRegistration(
  world: CampaignWorld,
  catalogue: CatalogueKind,
  dataset: string,
  profile: string,
): Promise<{ ok: true; at: number } | { ok: false; why: string }> {
  const deadline = Date.now() + 120_000;
  let why = '';
  for (;;) {
    const reg = readDatasetJournal(world.home, dataset).registrations.at(-1);
    const buffered = catalogue === 'icat-plus' && bufferHolds(world.home, dataset);
    if (reg && reg.state === 'registered' && reg.finished_at !== null && !buffered) return { ok: true, at: Date.now() };
    why = `registration ${reg ? `${reg.state}, finished_at ${reg.finished_at}, last error ${reg.last_error}` : 'missing'}${buffered ? '; message still in the ICAT+ buffer' : ''}`;
    // Refused by the catalogue: pushing again changes nothing (the checks report it).
    if (Date.now() > deadline || reg?.state === 'needs-attention') return { ok: false, why };
    const r = buffered
      ? await runBeamdrop(['catalogue', 'resend', '--profile', profile], world.env, 60_000)
      : await runBeamdrop(['catalogue', 'push', '--profile', profile, '--wait', '20', '--json'], world.env, 60_000);
    if (r.code !== 0) why += `; ${told(r)}`;
    await sleep(300);
  }
}
