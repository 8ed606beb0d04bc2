// The `beamdrop` command line: thin commands on top of the engine. Every error commander finds
// in the arguments (unknown flag, missing option or argument, bad value) exits 2 with its message.
import { Command, CommanderError } from 'commander';
import type { ErrorInfo } from '../../shared/errors.js';
import { registerCatalogue, registerLogin } from './catalogue-commands.js';
import { registerCatalogueData } from './catalogue-data-commands.js';
import { registerCleanup } from './cleanup-command.js';
import { registerConfig, registerCredentials } from './config-credentials-commands.js';
import { reportError } from './context.js';
import { EXIT } from './exit-codes.js';
import { registerJobCommands } from './job-commands.js';
import { registerStatus } from './status-command.js';
import { registerUpload } from './upload-command.js';
import { registerVerifyFetch } from './verify-fetch-commands.js';
import { registerWatch } from './watch-command.js';

/** Errors are also printed as one JSON line on stdout when the command was given --json. */
const json = process.argv.includes('--json');

export function buildProgram(): Command {
  const program = new Command('beamdrop')
    .description('Upload datasets from beamline, neutron and cryo-EM workstations with a SHA-256 for every file.')
    .version('0.1.0')
    .showHelpAfterError()
    // Inherited by every subcommand registered below: parse errors throw instead of exiting 1.
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => {
        write(text);
        if (json) {
          const message = text.replace(/^error: /, '').trim();
          const error: ErrorInfo = { code: 'usage', message, retryable: false };
          process.stdout.write(JSON.stringify({ type: 'error', error }) + '\n');
        }
      },
    });
  registerUpload(program);
  registerWatch(program);
  registerJobCommands(program);
  registerStatus(program);
  registerVerifyFetch(program);
  registerConfig(program);
  registerCredentials(program);
  registerCleanup(program);
  registerLogin(program);
  registerCatalogue(program);
  registerCatalogueData(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  // --help and --version end with exit code 0; everything else commander refuses is bad input.
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  else reportError(e, json);
}
