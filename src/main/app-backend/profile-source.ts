// Which facility profile the app runs with: --profile FILE, else $BEAMDROP_PROFILE, else the
// embedded default (a local archive folder), exactly as the CLI chooses.
import type { FacilityProfile } from '../../shared/profile-schema.js';
import { dataPaths, dataRoot } from '../engine/profile/data-dir.js';
import { defaultProfile } from '../engine/profile/default-profile.js';
import { loadProfile } from '../engine/profile/load-profile.js';

export async function appProfile(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ profile: FacilityProfile; source: string }> {
  const i = argv.indexOf('--profile');
  const fromArg = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--profile='))?.slice('--profile='.length);
  const file = fromArg ?? env.BEAMDROP_PROFILE;
  if (file) return { profile: await loadProfile(file), source: file };
  return { profile: defaultProfile(dataPaths(dataRoot(env)).archive), source: 'embedded default (local archive folder)' };
}
