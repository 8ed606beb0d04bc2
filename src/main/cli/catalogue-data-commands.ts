// `beamdrop find`, `beamdrop register PATH`, `beamdrop import CRATE` and `beamdrop reconcile`:
// the local catalogue searched, filled without copying bytes, and compared with the storage.
import type { Command } from 'commander';
import { formatBytes } from '../../shared/sizes.js';
import { importCrate } from '../engine/operations/import-crate.js';
import { findDatasets } from '../engine/catalogue/local/local-search.js';
import { fixReconcile, reconcile, type Finding } from '../engine/operations/reconcile.js';
import { registerInPlace } from '../engine/operations/register-in-place.js';
import { registrationLine } from './catalogue-commands.js';
import { collect, parseMetadata, profileFrom, reportError, withEngine } from './context.js';
import { EXIT } from './exit-codes.js';
import { ProgressView } from './progress-view.js';

export function registerCatalogueData(program: Command): void {
  program
    .command('find')
    .description('search the local catalogue: dataset, proposal, visit, sample, technique, metadata and file names')
    .argument('[query...]', 'words that must all match')
    .option('--proposal <id>', 'only datasets of this proposal')
    .option('--visit <id>', 'only datasets of this visit')
    .option(
      '--catalogue <catalogue>',
      'only datasets of this catalogue ("local", "scicat https://host", or a kind such as scicat)',
    )
    .option('--technique <name>', 'only this technique')
    .option('--since <date>', 'only runs on or after this date (YYYY-MM-DD)')
    .option('--json', 'print JSON')
    .action(
      async (
        words: string[],
        f: { proposal?: string; visit?: string; catalogue?: string; technique?: string; since?: string; json?: boolean },
      ) => {
        try {
          const found = await withEngine(async (engine) =>
            findDatasets(engine.services.catalogue, {
              text: words.join(' '),
              ...(f.proposal ? { proposal: f.proposal } : {}),
              ...(f.visit ? { visit: f.visit } : {}),
              ...(f.catalogue ? { catalogue: f.catalogue } : {}),
              ...(f.technique ? { technique: f.technique } : {}),
              ...(f.since ? { since: f.since } : {}),
            }),
          );
          if (f.json) {
            process.stdout.write(JSON.stringify(found) + '\n');
            return;
          }
          if (!found.length) {
            process.stdout.write('Nothing found.\n');
            return;
          }
          for (const d of found) {
            const bits = [
              d.experimentDate,
              d.technique,
              d.proposal && `proposal ${d.proposal}`,
              d.visit && `visit ${d.visit}`,
              d.catalogue !== 'local' && d.catalogue,
              d.samples.length && `sample ${d.samples.join(', ')}`,
              `${d.files} files, ${formatBytes(d.bytes)}`,
              d.status,
              d.origin !== 'upload' && d.origin,
            ].filter(Boolean);
            process.stdout.write(`${d.name}  ${bits.join(' · ')}\n`);
          }
        } catch (e) {
          reportError(e, !!f.json);
        }
      },
    );

  program
    .command('register')
    .description('register files already on facility storage (hash, record, register — nothing is copied)')
    .argument('<path>', 'the dataset folder on the facility storage')
    .requiredOption('--dataset <name>', 'dataset name')
    .option('--proposal <id>', 'proposal / investigation id')
    .option('--visit <id>', 'visit / session id')
    .option('-p, --param <key=value>', 'dataset metadata (repeatable)', collect)
    .option('--include <glob>', 'only files matching (repeatable)', collect)
    .option('--exclude <glob>', 'skip files matching (repeatable)', collect)
    .option('--profile <file>', 'facility profile')
    .option('--json', 'one JSON line per file')
    .action(
      async (
        path: string,
        f: {
          dataset: string;
          proposal?: string;
          visit?: string;
          param?: string[];
          include?: string[];
          exclude?: string[];
          profile?: string;
          json?: boolean;
        },
      ) => {
        try {
          const profile = await profileFrom(f.profile);
          const result = await withEngine((engine) =>
            registerInPlace(engine.operationDeps(), profile, {
              path,
              dataset: f.dataset,
              metadata: parseMetadata(f.param ?? []),
              include: f.include ?? [],
              exclude: f.exclude ?? [],
              ...(f.proposal ? { proposal: f.proposal } : {}),
              ...(f.visit ? { visit: f.visit } : {}),
              onFile: (x) => {
                if (f.json) process.stdout.write(JSON.stringify(x) + '\n');
              },
            }),
          );
          if (f.json) {
            process.stdout.write(JSON.stringify({ type: 'registered', ...result }) + '\n');
            return;
          }
          process.stdout.write(
            `Recorded ${result.files} file(s), ${formatBytes(result.bytes)}, of dataset "${f.dataset}" in the local catalogue (nothing copied).\n`,
          );
          if (result.registration) process.stdout.write(registrationLine(result.registration));
        } catch (e) {
          reportError(e, !!f.json);
        }
      },
    );

  program
    .command('import')
    .description('record the dataset and files of an RO-Crate in the local catalogue as pointers (no bytes copied)')
    .argument('<crate>', 'RO-Crate metadata file (…-ro-crate-metadata.json)')
    .option('--dataset <name>', "record it under this name instead of the crate's")
    .action(async (file: string, f: { dataset?: string }) => {
      try {
        const r = await withEngine((engine) =>
          importCrate(engine.operationDeps(), file, f.dataset ? { dataset: f.dataset } : {}),
        );
        process.stdout.write(
          `Imported dataset "${r.dataset}": ${r.files} file(s), ${formatBytes(r.bytes)}${r.alreadyKnown ? ` (${r.alreadyKnown} already known)` : ''}. \`beamdrop fetch ${r.dataset} DEST\` streams them and checks every SHA-256.\n`,
        );
      } catch (e) {
        reportError(e, false);
      }
    });

  program
    .command('reconcile')
    .description('compare the local folder, the destination and the catalogues; --fix uploads and registers what is missing')
    .argument('<what>', 'dataset name or the folder that was uploaded')
    .option('--proposal <id>', 'the dataset of this proposal (when several share its name)')
    .option('--visit <id>', 'the dataset of this visit (when several share its name)')
    .option('--catalogue <catalogue>', 'the dataset of this catalogue, as `find --json` shows it (or its kind when unique)')
    .option('--fix', 'upload what is missing, record and register what is not')
    .option('--profile <file>', 'facility profile (for --fix)')
    .option('--json', 'print JSON')
    .action(
      async (
        what: string,
        f: { proposal?: string; visit?: string; catalogue?: string; fix?: boolean; profile?: string; json?: boolean },
      ) => {
        try {
          const profile = await profileFrom(f.profile);
          const which = { proposal: f.proposal, visit: f.visit, catalogue: f.catalogue };
          await withEngine(async (engine) => {
            const ops = engine.operationDeps();
            const report = await reconcile(ops, what, which);
            if (f.json && !f.fix) {
              process.stdout.write(JSON.stringify(report) + '\n');
              return;
            }
            if (!f.json) process.stdout.write(describe(report));
            const fixable = report.findings.some(
              (x) => x.problem === 'not-uploaded' || x.problem === 'not-recorded' || x.problem === 'not-registered',
            );
            if (!f.fix) {
              process.stdout.write(fixable ? 'Run again with --fix to do this.\n' : '');
              process.exitCode = report.findings.some((x) => x.problem !== 'only-at-destination') ? EXIT.filesFailed : EXIT.ok;
              return;
            }
            if (!fixable) {
              process.stdout.write('Nothing for --fix to do.\n');
              return;
            }
            const view = new ProgressView({ write: (s) => process.stdout.write(s), isTTY: !!process.stdout.isTTY }, !!f.json);
            const summary = await fixReconcile(ops, profile, report, { onEvent: (e) => view.onEvent(e) });
            const after = await reconcile(ops, what, which);
            if (f.json) process.stdout.write(JSON.stringify(after) + '\n');
            else process.stdout.write(`\nAfter --fix:\n${describe(after)}`);
            process.exitCode =
              summary.counts.failed || after.findings.some((x) => x.problem === 'not-uploaded') ? EXIT.filesFailed : EXIT.ok;
          });
        } catch (e) {
          reportError(e, !!f.json);
        }
      },
    );
}

const HEADINGS: Record<Finding['problem'], string> = {
  'not-uploaded': 'only on this computer (not uploaded)',
  'differs-at-destination': 'DIFFERENT at the destination',
  'changed-locally': 'changed on this computer since they were stored',
  'not-recorded': 'stored but missing from the local catalogue',
  'not-registered': 'stored but missing from the facility catalogue',
  'only-at-destination': 'at the destination but no longer on this computer',
};

function describe(r: Awaited<ReturnType<typeof reconcile>>): string {
  const of = [r.proposal && `proposal ${r.proposal}`, r.visit && `visit ${r.visit}`, `${r.kind} job ${r.jobId}`].filter(Boolean);
  const lines = [
    `Dataset "${r.dataset}" (${of.join(', ')}): ${r.sources.join(', ')} → "${r.destination}", catalogue ${r.catalogue}`,
  ];
  lines.push(`  ${r.ok} file(s) are where they should be${r.catalogue === 'local' ? '' : ', including the catalogue'}.`);
  for (const problem of Object.keys(HEADINGS) as Finding['problem'][]) {
    const hits = r.findings.filter((x) => x.problem === problem);
    if (!hits.length) continue;
    lines.push(`  ${hits.length} file(s) ${HEADINGS[problem]}:`);
    for (const h of hits.slice(0, 20)) lines.push(`    ${h.relpath}: ${h.detail}`);
    if (hits.length > 20) lines.push(`    … and ${hits.length - 20} more (--json lists all)`);
  }
  if (r.catalogueNote) lines.push(`  note: ${r.catalogueNote}`);
  if (r.fixPlan.length) lines.push('What --fix would do:', ...r.fixPlan.map((p) => `  - ${p}`));
  return lines.join('\n') + '\n';
}
