// The `beamdrop` command line: thin commands on top of the engine.
import { Command } from 'commander';
import { registerCleanup } from './cleanup-command.js';
import { registerConfig, registerCredentials } from './config-credentials-commands.js';
import { registerStatus } from './status-command.js';
import { registerUpload } from './upload-command.js';
import { registerVerifyFetch } from './verify-fetch-commands.js';

export function buildProgram(): Command {
  const program = new Command('beamdrop')
    .description('Upload datasets from beamline, neutron and cryo-EM workstations with a SHA-256 for every file.')
    .version('0.1.0')
    .showHelpAfterError();
  registerUpload(program);
  registerStatus(program);
  registerVerifyFetch(program);
  registerConfig(program);
  registerCredentials(program);
  registerCleanup(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
