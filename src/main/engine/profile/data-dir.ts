// Where Beamdrop keeps its journal, local catalogue, logs and the default local archive.
// BEAMDROP_HOME overrides everything (tests, several operators on one shared PC).
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface DataPaths {
  root: string;
  journal: string;
  catalogue: string;
  archive: string;
  logs: string;
}

export function dataRoot(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.BEAMDROP_HOME) return env.BEAMDROP_HOME;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Beamdrop');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Beamdrop');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'beamdrop');
}

export function dataPaths(root: string = dataRoot()): DataPaths {
  return {
    root,
    journal: join(root, 'journal.sqlite'),
    catalogue: join(root, 'catalogue.sqlite'),
    archive: join(root, 'archive'),
    logs: join(root, 'logs'),
  };
}
