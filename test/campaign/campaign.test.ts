// CI's short run of the crash campaign (issue 10): the same code as `npm run campaign`, with
// about 40 SIGKILLs of the real `beamdrop` CLI over the four rounds that cover every pair of
// batch/sync × S3/WebDAV × SciCat/ICAT+, faults on the real servers, and every round checked by
// independent clients. A new seed each run (printed; BEAMDROP_CAMPAIGN_SEED replays one,
// BEAMDROP_CAMPAIGN_KILLS changes the count).
import { expect, it } from 'vitest';
import { PHASES, REQUIRED_PHASES } from './kill-phase.js';
import { formatFigures } from './report.js';
import { randomSeed } from './rng.js';
import { DEFAULT_OPTIONS, runCampaign } from './run-campaign.js';

const KILLS = Number(process.env.BEAMDROP_CAMPAIGN_KILLS ?? 40);
const SEED = Number(process.env.BEAMDROP_CAMPAIGN_SEED ?? randomSeed());

it(`${KILLS} random SIGKILLs with faults (seed ${SEED}): 0 files lost, corrupted, duplicated or orphaned; journal and catalogue agree`, async () => {
  const f = await runCampaign({
    ...DEFAULT_OPTIONS,
    kills: KILLS,
    seed: SEED,
    pairwise: true,
    chanceOfSecondKill: 0.6,
    log: (s) => console.log(s),
  });
  console.log(formatFigures(f));

  // The figures are real: every kill is a SIGKILL with its phase, every round was read back.
  expect(f.kills).toBeGreaterThanOrEqual(KILLS);
  expect(f.killLog).toHaveLength(f.kills);
  expect(f.killLog.every((k) => k.afterMs >= 0 && k.verdict.phases.includes(k.verdict.primary))).toBe(true);
  expect(Object.values(f.killsPerPhase).reduce((a, b) => a + b, 0)).toBe(f.kills);
  const killedRounds = new Set(f.killLog.map((k) => k.round)).size;
  expect(f.recovery.batch.length + f.recovery.sync.length, 'a recovery time for every killed round').toBe(killedRounds);
  expect(f.calibrationRounds).toBe(4);
  // Each round holds at least 17 files; rclone read every one back (and the crates beside them).
  expect(f.filesChecked).toBeGreaterThanOrEqual(17 * f.rounds);
  expect(f.rcloneHashed).toBeGreaterThanOrEqual(f.filesChecked);
  expect(f.catalogueEntries).toBeGreaterThan(0);
  // Uniform kill moments spread over the run: at least four phases are hit, two of them of the
  // issue's list (scan, hash, part upload, complete, verify, registration, finalisation).
  const hit = PHASES.filter((p) => f.killsPerPhase[p] > 0);
  expect(hit.length, `phases hit: ${hit.join(', ')}`).toBeGreaterThanOrEqual(4);
  expect(REQUIRED_PHASES.filter((p) => f.phasesInFlight[p] > 0).length).toBeGreaterThanOrEqual(2);

  // Nothing lost, corrupted, stored or registered twice, or left behind.
  expect(f.problems, 'problems found by the end checks').toEqual([]);
  expect({
    lost: f.lost,
    corrupted: f.corrupted,
    duplicated: f.duplicated,
    orphaned: f.orphaned,
    disagreements: f.disagreements,
  }).toEqual({
    lost: 0,
    corrupted: 0,
    duplicated: 0,
    orphaned: 0,
    disagreements: 0,
  });
}, 900_000);
