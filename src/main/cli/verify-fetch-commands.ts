// `beamdrop verify DATASET [--deep]` and `beamdrop fetch DATASET|FILE DEST`.
import type { Command } from 'commander';
import { formatBytes } from '../../shared/sizes.js';
import { fetchFiles } from '../engine/operations/fetch-files.js';
import { verifyDataset } from '../engine/operations/verify-dataset.js';
import { reportError, withEngine } from './context.js';
import { EXIT } from './exit-codes.js';

export function registerVerifyFetch(program: Command): void {
  program
    .command('verify')
    .description('re-check every recorded file of a dataset at its destination')
    .argument('<dataset>', 'dataset name')
    .option('--proposal <id>', 'the dataset of this proposal (when several share its name)')
    .option('--visit <id>', 'the dataset of this visit (when several share its name)')
    .option('--catalogue <catalogue>', 'the dataset of this catalogue, as `find --json` shows it (or its kind when unique)')
    .option('--deep', 'read every file back and re-hash it (slow, definitive)')
    .option('--json', 'one JSON line per file')
    .action(
      async (dataset: string, f: { proposal?: string; visit?: string; catalogue?: string; deep?: boolean; json?: boolean }) => {
        try {
          const verdicts = await withEngine((engine) =>
            verifyDataset(
              engine.operationDeps(),
              { name: dataset, proposal: f.proposal, visit: f.visit, catalogue: f.catalogue },
              {
                deep: !!f.deep,
                onFile: ({ file, result }) => {
                  if (f.json)
                    process.stdout.write(
                      JSON.stringify({ relpath: file.relpath, storageUri: file.storageUri, ...result }) + '\n',
                    );
                  else
                    process.stdout.write(
                      `${result.ok ? '✓' : '✗'} ${file.relpath}  ${result.ok ? result.checked.join(', ') : result.problem}\n`,
                    );
                },
              },
            ),
          );
          const bad = verdicts.filter((v) => !v.result.ok).length;
          if (!f.json)
            process.stdout.write(
              bad
                ? `${bad} of ${verdicts.length} file(s) FAILED verification.\n`
                : `All ${verdicts.length} file(s) verified${f.deep ? ' (read back and re-hashed)' : ''}.\n`,
            );
          process.exitCode = bad ? EXIT.mismatch : EXIT.ok;
        } catch (e) {
          reportError(e, !!f.json);
        }
      },
    );

  program
    .command('fetch')
    .description('stream stored files back into a folder, checking every SHA-256')
    .argument('<what>', 'dataset name, DATASET:path/in/dataset, or a storage URI')
    .argument('<dest>', 'local folder to write into')
    .option('--proposal <id>', 'the dataset of this proposal (when several share its name)')
    .option('--visit <id>', 'the dataset of this visit (when several share its name)')
    .option('--catalogue <catalogue>', 'the dataset of this catalogue, as `find --json` shows it (or its kind when unique)')
    .option(
      '--windows',
      'refuse names Windows cannot hold (case twins, CON, trailing dots), for a folder a Windows machine reads (SMB share, FAT/exFAT disk)',
    )
    .option('--json', 'one JSON line per file')
    .action(
      async (
        what: string,
        dest: string,
        f: { proposal?: string; visit?: string; catalogue?: string; windows?: boolean; json?: boolean },
      ) => {
        try {
          const outcomes = await withEngine((engine) =>
            fetchFiles(engine.operationDeps(), what, dest, {
              proposal: f.proposal,
              visit: f.visit,
              catalogue: f.catalogue,
              // On Windows the rules always apply; elsewhere when the files are bound for one.
              ...(f.windows ? { platform: 'win32' as const } : {}),
              onFile: (o) => {
                if (f.json)
                  process.stdout.write(
                    JSON.stringify({ relpath: o.file.relpath, target: o.target, status: o.status, sha256: o.file.sha256 }) + '\n',
                  );
                else
                  process.stdout.write(
                    `✓ ${o.file.relpath} (${formatBytes(o.file.size)}) ${o.status === 'present' ? 'already present' : 'fetched'}, SHA-256 matches\n`,
                  );
              },
            }),
          );
          if (!f.json) process.stdout.write(`${outcomes.length} file(s) in ${dest}, every SHA-256 checked.\n`);
        } catch (e) {
          reportError(e, !!f.json);
        }
      },
    );
}
