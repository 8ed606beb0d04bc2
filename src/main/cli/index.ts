// The `beamdrop` command line: thin commands on top of the engine.
import { Command } from 'commander';
import { registerCatalogue, registerLogin } from './catalogue-commands.js';
import { registerCatalogueData } from './catalogue-data-commands.js';
import { registerCleanup } from './cleanup-command.js';
import { registerConfig, registerCredentials } from './config-credentials-commands.js';
import { registerStatus } from './status-command.js';
import { registerUpload } from './upload-command.js';
import { registerVerifyFetch } from './verify-fetch-commands.js';
import { registerWatch } from './watch-command.js';

export function buildProgram(): Command {
  const program = new Command('beamdrop')
    .description('Upload datasets from beamline, neutron and cryo-EM workstations with a SHA-256 for every file.')
    .version('0.1.0')
    .showHelpAfterError();
  registerUpload(program);
  registerWatch(program);
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

await buildProgram().parseAsync(process.argv);
