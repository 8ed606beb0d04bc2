// `npm run campaign -- [--kills N] [--seed S] [--destinations s3,webdav] [--catalogues scicat,icat-plus]
//                      [--kinds batch,sync] [--faults P] [--second-kills P] [--keep-data] [--quiet]`
// Runs the crash campaign (run-campaign.ts), prints its figures and writes them as JSON to
// out/campaign/results/. Exits 1 when any of lost, corrupted, duplicated, orphaned or the
// disagreements is not 0.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CatalogueKind, DestinationKind } from './campaign-world.js';
import { randomSeed } from './rng.js';
import { formatFigures } from './report.js';
import { DEFAULT_OPTIONS, runCampaign } from './run-campaign.js';

const HELP = `npm run campaign -- [options]
  --kills N            SIGKILLs to deliver (default ${DEFAULT_OPTIONS.kills}; about 6 s each on two cores)
  --seed S             the seed of the random choices (printed; the same seed gives the same campaign)
  --destinations LIST  s3,webdav (default both)
  --catalogues LIST    scicat,icat-plus (default both)
  --kinds LIST         batch,sync (default both)
  --faults P           chance of a fault in a round (default ${DEFAULT_OPTIONS.chanceOfFault})
  --second-kills P     chance that the rerun is killed too (default ${DEFAULT_OPTIONS.chanceOfSecondKill})
  --pairwise           only the 4 rounds covering every pair of kind × destination × catalogue (CI)
  --keep-data          keep every round's data at the destination (default: removed after its checks)
  --quiet              print only the figures`;

function list<T extends string>(v: string | undefined, allowed: readonly T[], fallback: T[]): T[] {
  if (v === undefined) return fallback;
  const items = v.split(',').map((s) => s.trim()) as T[];
  for (const i of items) if (!allowed.includes(i)) throw new Error(`unknown value "${i}": use ${allowed.join(', ')}`);
  return items;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string' },
      seed: { type: 'string' },
      destinations: { type: 'string' },
      catalogues: { type: 'string' },
      kinds: { type: 'string' },
      faults: { type: 'string' },
      'second-kills': { type: 'string' },
      'keep-data': { type: 'boolean' },
      pairwise: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const seed = values.seed !== undefined ? Number(values.seed) : randomSeed();
  const figures = await runCampaign({
    ...DEFAULT_OPTIONS,
    kills: values.kills !== undefined ? Number(values.kills) : DEFAULT_OPTIONS.kills,
    seed,
    destinations: list<DestinationKind>(values.destinations, ['s3', 'webdav'], DEFAULT_OPTIONS.destinations),
    catalogues: list<CatalogueKind>(values.catalogues, ['scicat', 'icat-plus'], DEFAULT_OPTIONS.catalogues),
    kinds: list(values.kinds, ['batch', 'sync'] as const, DEFAULT_OPTIONS.kinds),
    chanceOfFault: values.faults !== undefined ? Number(values.faults) : DEFAULT_OPTIONS.chanceOfFault,
    chanceOfSecondKill:
      values['second-kills'] !== undefined ? Number(values['second-kills']) : DEFAULT_OPTIONS.chanceOfSecondKill,
    keepData: !!values['keep-data'],
    pairwise: !!values.pairwise,
    log: values.quiet ? () => undefined : (s) => console.log(s),
  });
  console.log(formatFigures(figures));
  const dir = join('out', 'campaign', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `campaign-${new Date().toISOString().replace(/[:.]/g, '-')}-seed${seed}.json`);
  writeFileSync(file, JSON.stringify(figures, null, 2));
  console.log(`figures written to ${file}`);
  const bad = figures.lost + figures.corrupted + figures.duplicated + figures.orphaned + figures.disagreements;
  // Exit now: a server's socket or a STOMP client's timer must not keep a finished campaign alive.
  process.exit(bad === 0 ? 0 : 1);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(2);
});
