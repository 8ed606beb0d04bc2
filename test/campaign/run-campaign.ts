// The crash campaign (issue 10): rounds of real `beamdrop` runs killed with SIGKILL at random
// moments, with faults on the real servers, each round checked end to end by independent
// clients. Shared by the script (`npm run campaign`, campaign-main.ts) and CI's short run
// (campaign.test.ts). Returns every figure and the evidence behind it.
import { seededRng } from './rng.js';
import { startWorld, type CatalogueKind, type DestinationKind } from './campaign-world.js';
import { takeDatasetMessages } from './icat-plus-messages.js';
import { PHASES, type Phase } from './kill-phase.js';
import { clearFaults, FAULTS, type Fault } from './faults.js';
import { purgeRound } from './purge.js';
import { checkRound, rcloneEnv, type RoundCheck } from './round-checks.js';
import { configName, runRound, type KillRecord, type RoundConfig, type RoundResult } from './round.js';
import { finalSweep } from './final-sweep.js';
import { assertBuilt } from './beamdrop-process.js';

export interface CampaignOptions {
  /** Stop once this many SIGKILLs were delivered. */
  kills: number;
  seed: number;
  kinds: ('batch' | 'sync')[];
  destinations: DestinationKind[];
  catalogues: CatalogueKind[];
  chanceOfFault: number;
  chanceOfSecondKill: number;
  /** Keep each round's data at the destination (default: removed after its checks). */
  keepData: boolean;
  /** Only the four rounds that cover every pair of kind × destination × catalogue (CI's short run). */
  pairwise: boolean;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: Omit<CampaignOptions, 'seed' | 'log'> = {
  kills: 1000,
  kinds: ['batch', 'sync'],
  destinations: ['s3', 'webdav'],
  catalogues: ['scicat', 'icat-plus'],
  chanceOfFault: 0.3,
  chanceOfSecondKill: 0.4,
  keepData: false,
  pairwise: false,
};

export interface Figures {
  seed: number;
  rounds: number;
  calibrationRounds: number;
  kills: number;
  killsPerPhase: Record<Phase, number>;
  /** A kill counts in every phase in flight at its moment. */
  phasesInFlight: Record<Phase, number>;
  missedKills: number;
  faults: Record<Fault, number>;
  lost: number;
  corrupted: number;
  duplicated: number;
  orphaned: number;
  disagreements: number;
  /** Rerun-to-done times of the killed rounds, ms. */
  recovery: { batch: number[]; sync: number[] };
  filesChecked: number;
  rcloneHashed: number;
  catalogueEntries: number;
  sentTwice: number;
  runMs: Record<string, number>;
  wallMs: number;
  /** Every problem found, with its round. */
  problems: string[];
  /** Unexpected ends and other notes of the rounds. */
  notes: string[];
  killLog: KillRecord[];
}

const zeroBy = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export function configsOf(o: Pick<CampaignOptions, 'kinds' | 'destinations' | 'catalogues' | 'pairwise'>): RoundConfig[] {
  const all = o.kinds.flatMap((kind) =>
    o.destinations.flatMap((destination) => o.catalogues.map((catalogue) => ({ kind, destination, catalogue }))),
  );
  // batch×S3×SciCat, batch×WebDAV×ICAT+, sync×S3×ICAT+, sync×WebDAV×SciCat: every pair once.
  const covering = all.filter((c) => (c.kind === 'batch') === ((c.destination === 's3') === (c.catalogue === 'scicat')));
  return o.pairwise && covering.length ? covering : all;
}

export async function runCampaign(o: CampaignOptions): Promise<Figures> {
  assertBuilt();
  const started = Date.now();
  const rng = seededRng(o.seed);
  const configs = configsOf(o);
  const f: Figures = {
    seed: o.seed,
    rounds: 0,
    calibrationRounds: 0,
    kills: 0,
    killsPerPhase: zeroBy(PHASES),
    phasesInFlight: zeroBy(PHASES),
    missedKills: 0,
    faults: zeroBy(FAULTS),
    lost: 0,
    corrupted: 0,
    duplicated: 0,
    orphaned: 0,
    disagreements: 0,
    recovery: { batch: [], sync: [] },
    filesChecked: 0,
    rcloneHashed: 0,
    catalogueEntries: 0,
    sentTwice: 0,
    runMs: {},
    wallMs: 0,
    problems: [],
    notes: [],
    killLog: [],
  };
  o.log(`campaign: seed ${o.seed}, ${o.kills} kills, rounds of ${configs.map(configName).join(', ')}`);
  const world = await startWorld(o.catalogues, o.log);
  const icatPlusMessages = new Map<string, number>();
  // Duplicate ICAT+ messages a round's check already counted, so the final sweep counts only later ones.
  const countedDuplicates = new Map<string, number>();
  try {
    const env = rcloneEnv(world);
    const tally = (r: RoundResult, c: RoundCheck) => {
      f.rounds++;
      f.kills += r.kills.length;
      f.killLog.push(...r.kills);
      for (const k of r.kills) {
        f.killsPerPhase[k.verdict.primary]++;
        for (const p of k.verdict.phases) f.phasesInFlight[p]++;
      }
      f.missedKills += r.missedKills;
      for (const x of r.faults) f.faults[x.fault]++;
      f.lost += c.lost.length;
      f.corrupted += c.corrupted.length;
      f.duplicated += c.duplicated.length;
      f.orphaned += c.orphaned.length;
      f.disagreements += c.disagreements.length;
      const found = [...c.lost, ...c.corrupted, ...c.duplicated, ...c.orphaned, ...c.disagreements];
      f.problems.push(...found);
      if (found.length) f.notes.push(...r.jobNotes.map((n) => `${r.dataset}: job note ${n}`));
      f.notes.push(...r.notes.map((n) => `${r.dataset}: ${n}`));
      f.filesChecked += c.files;
      f.rcloneHashed += c.rcloneHashed;
      f.catalogueEntries += c.catalogueEntries;
      f.sentTwice += c.sentTwice.length;
      if (r.recoveryMs !== null) f.recovery[r.plan.config.kind].push(r.recoveryMs);
    };
    const round = async (config: RoundConfig, runMs: number | null) => {
      const index = f.rounds + 1;
      o.log(`round ${index} ${configName(config)}${runMs === null ? ' (calibration: not killed)' : ''}`);
      world.taps.s3.forget(Date.now());
      world.taps.webdav.forget(Date.now());
      world.taps.scicat?.forget(Date.now());
      world.taps.broker?.forget(Date.now());
      const roundStarted = Date.now();
      const r = await runRound(
        world,
        { index, config, runMs, chanceOfFault: o.chanceOfFault, chanceOfSecondKill: o.chanceOfSecondKill },
        rng,
        o.log,
      );
      clearFaults(world);
      if (config.catalogue === 'icat-plus')
        await takeDatasetMessages(world, icatPlusMessages, { expect: 1, timeoutMs: 5_000, idleMs: 200 });
      const checkStarted = Date.now();
      const c = await checkRound(world, r, env, icatPlusMessages);
      countedDuplicates.set(r.dataset, Math.max(0, (icatPlusMessages.get(r.dataset) ?? 0) - 1));
      tally(r, c);
      const bad = [...c.lost, ...c.corrupted, ...c.duplicated, ...c.orphaned, ...c.disagreements];
      for (const p of [...bad, ...r.notes]) o.log(`  PROBLEM ${p}`);
      if (bad.length) for (const n of r.jobNotes) o.log(`    job note ${n}`);
      o.log(
        `  ${c.files} files checked in ${Date.now() - checkStarted} ms; ${r.runs} run(s)${r.recoveryMs !== null ? `, recovered in ${r.recoveryMs} ms` : ''}; round ${Date.now() - roundStarted} ms`,
      );
      if (!o.keepData && bad.length === 0) await purgeRound(world, r);
      return r;
    };

    // Calibration: one unkilled round per configuration measures the run length kills are drawn over.
    for (const config of configs) {
      const r = await round(config, null);
      f.calibrationRounds++;
      f.runMs[configName(config)] = r.fullRunMs ?? 10_000;
    }
    for (let i = 0; f.kills < o.kills; i++) {
      const config = configs[i % configs.length]!;
      await round(config, f.runMs[configName(config)]!);
    }

    // Late duplicates (a message resent after its round), leftovers anywhere, the ICAT+ buffer.
    if (world.broker) await takeDatasetMessages(world, icatPlusMessages, { expect: 0, timeoutMs: 0, idleMs: 2_000 });
    const sweep = await finalSweep(world, icatPlusMessages, countedDuplicates);
    f.duplicated += sweep.duplicated.length;
    f.orphaned += sweep.orphaned.length;
    f.problems.push(...sweep.duplicated, ...sweep.orphaned);
  } finally {
    await world.close();
  }
  f.wallMs = Date.now() - started;
  return f;
}
