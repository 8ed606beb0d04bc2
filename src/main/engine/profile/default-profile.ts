// The embedded default: with no facility profile, files go to a local archive folder under the
// user's data directory, so a newcomer can run an upload with no server at all.
import { DEFAULT_KEY_TEMPLATE } from '../../../shared/key-template-default.js';
import { profileSchema, type FacilityProfile } from '../../../shared/profile-schema.js';

export const DEFAULT_DESTINATION = 'local-archive';

export function defaultProfile(archiveRoot: string): FacilityProfile {
  return profileSchema.parse({
    destinations: {
      [DEFAULT_DESTINATION]: { kind: 'filesystem', root: archiveRoot, keyTemplate: DEFAULT_KEY_TEMPLATE },
    },
    defaultDestination: DEFAULT_DESTINATION,
  });
}
