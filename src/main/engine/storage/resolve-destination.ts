// Turns `--destination NAME` or `--to URI` into a destination config. Ad-hoc URIs:
//   /abs/folder, file:///abs/folder            → filesystem
//   s3+http(s)://host:port/bucket[/prefix]      → S3 (credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
//   webdav+http(s)://host/path, dav(s)://…     → WebDAV (BEAMDROP_WEBDAV_USERNAME / BEAMDROP_WEBDAV_PASSWORD)
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BeamdropError } from '../../../shared/errors.js';
import { DEFAULT_KEY_TEMPLATE } from '../../../shared/key-template-default.js';
import { destinationSchema, type DestinationConfig, type FacilityProfile } from '../../../shared/profile-schema.js';

export interface ResolvedDestination {
  name: string;
  config: DestinationConfig;
  /** Credentials of an ad-hoc URI come from standard environment variables. */
  adhoc: boolean;
}

/** Ad-hoc destinations use the default layout under the folder, bucket prefix or collection given. */
const ADHOC_TEMPLATE = DEFAULT_KEY_TEMPLATE;

export function resolveDestination(profile: FacilityProfile, choice: { destination?: string; to?: string }): ResolvedDestination {
  if (choice.to) return { name: choice.to, config: parseDestinationUri(choice.to), adhoc: true };
  const name = choice.destination ?? profile.defaultDestination ?? Object.keys(profile.destinations)[0];
  const names = Object.keys(profile.destinations);
  if (!name) {
    throw new BeamdropError({
      code: 'destination-unknown',
      retryable: false,
      field: 'destinations',
      message: 'the profile defines no destination: add one under destinations, or give --to URI.',
    });
  }
  const config = profile.destinations[name];
  if (!config) {
    throw new BeamdropError({
      code: 'destination-unknown',
      retryable: false,
      field: 'destination',
      message: `no destination named "${name}" in the profile; use one of: ${names.join(', ') || '(none defined)'}, or give --to URI.`,
    });
  }
  return { name, config, adhoc: false };
}

export function parseDestinationUri(uri: string): DestinationConfig {
  const bad = (why: string) =>
    new BeamdropError({
      code: 'destination-invalid',
      retryable: false,
      field: 'to',
      message: `--to ${uri}: ${why}. Write a folder (/mnt/archive), s3+http://host:port/bucket/prefix or webdav+https://host/path.`,
    });
  const folder = (root: string): DestinationConfig => {
    // A folder that does not exist yet is the filesystem destination's to report (an unmounted
    // share may come back); a file in its place never becomes a destination.
    const st = statSync(root, { throwIfNoEntry: false });
    if (st && !st.isDirectory())
      throw new BeamdropError({
        code: 'destination-invalid',
        retryable: false,
        field: 'to',
        file: root,
        message: `--to ${uri}: ${root} is a file, not a folder. Give the folder to upload into (e.g. its parent), or an s3+http(s):// or webdav+http(s):// URI.`,
      });
    return destinationSchema.parse({ kind: 'filesystem', root, keyTemplate: ADHOC_TEMPLATE });
  };
  if (isAbsolute(uri) || /^[A-Za-z]:[\\/]/.test(uri)) return folder(resolve(uri));
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw bad('not a folder path or URI');
  }
  if (url.username || url.password)
    throw bad('do not put credentials in the URI; use the environment variables or a profile with the keychain');
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme === 'file') return folder(fileURLToPath(url));
  const prefix = decodeURIComponent(url.pathname).split('/').filter(Boolean);
  if (scheme === 's3+http' || scheme === 's3+https') {
    const [bucket, ...rest] = prefix;
    if (!bucket) throw bad('the bucket is missing after the host');
    const parsed = destinationSchema.safeParse({
      kind: 's3',
      endpoint: `${scheme.slice(3)}://${url.host}`,
      bucket,
      keyTemplate: [...rest, ADHOC_TEMPLATE].join('/'),
    });
    if (!parsed.success) throw bad(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return parsed.data;
  }
  const dav: Record<string, string> = { 'webdav+http': 'http', 'webdav+https': 'https', dav: 'http', davs: 'https' };
  if (dav[scheme]) {
    return destinationSchema.parse({
      kind: 'webdav',
      url: `${dav[scheme]}://${url.host}${url.pathname.replace(/\/+$/, '')}`,
      keyTemplate: ADHOC_TEMPLATE,
    });
  }
  throw bad(`unknown scheme "${scheme}"`);
}
