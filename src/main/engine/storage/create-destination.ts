// Builds the Destination object for a resolved config, with its credentials.
import { BeamdropError } from '../../../shared/errors.js';
import type { UploadPolicy } from '../../../shared/profile-schema.js';
import type { CredentialStore } from '../credentials/credential-store.js';
import type { HashPool } from '../hash/hash-pool.js';
import type { Destination } from './destination.js';
import { FilesystemDestination } from './filesystem/filesystem-destination.js';
import type { ResolvedDestination } from './resolve-destination.js';

export interface DestinationDeps {
  credentials: CredentialStore;
  hashes: HashPool;
  policy: UploadPolicy;
  env?: NodeJS.ProcessEnv;
  /** The embedded local archive may create its own root folder. */
  createFilesystemRoot?: boolean;
}

export async function createDestination(d: ResolvedDestination, deps: DestinationDeps): Promise<Destination> {
  const env = deps.env ?? process.env;
  const c = d.config;
  switch (c.kind) {
    case 'filesystem':
      return new FilesystemDestination(d.name, c, deps.hashes, deps.createFilesystemRoot ?? false);
    case 's3': {
      const creds = d.adhoc ? adhocS3(env) : await deps.credentials.s3(d.name, c);
      // Loaded on demand: the AWS SDK costs half a second of start-up that `status` need not pay.
      const { S3Destination } = await import('./s3/s3-destination.js');
      return new S3Destination(d.name, c, creds, deps.policy, deps.hashes);
    }
    case 'webdav': {
      const creds = d.adhoc
        ? env.BEAMDROP_WEBDAV_USERNAME
          ? { username: env.BEAMDROP_WEBDAV_USERNAME, password: env.BEAMDROP_WEBDAV_PASSWORD ?? '' }
          : null
        : await deps.credentials.webdav(d.name, c);
      const { WebdavDestination } = await import('./webdav/webdav-destination.js');
      return new WebdavDestination(d.name, c, creds, deps.hashes);
    }
  }
}

function adhocS3(env: NodeJS.ProcessEnv) {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new BeamdropError({
      code: 'credentials-missing',
      retryable: false,
      message:
        'an s3+http(s) --to URI takes its credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; set both, or define the destination in a profile and run `beamdrop credentials set NAME`.',
    });
  }
  return { accessKeyId, secretAccessKey };
}
