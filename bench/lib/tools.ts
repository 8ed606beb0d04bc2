// The commands measured beside Beamdrop: a plain `curl -T` PUT (the raw link: one stream, no
// hashing, no multipart) and `rclone copy` with default flags, on the same servers. rclone's
// remotes come from RCLONE_CONFIG_* environment variables, so no config file is written.
import { execFileSync } from 'node:child_process';
import type { BenchServers } from './servers.js';

export interface Command {
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export const S3_REMOTE = 'bds3';
export const DAV_REMOTE = 'bddav';

/** curl PUT of one file to MinIO, signed with AWS SigV4 by curl itself. */
export function curlS3(s: BenchServers, file: string, key: string): Command {
  const { minio } = s;
  return {
    cmd: 'curl',
    args: [
      '-sS',
      '--fail-with-body',
      '-o',
      '/dev/null',
      '-T',
      file,
      '--aws-sigv4',
      `aws:amz:${minio.region}:s3`,
      '--user',
      `${minio.accessKeyId}:${minio.secretAccessKey}`,
      `${minio.endpoint}/${s.bucket}/${key}`,
    ],
  };
}

/** curl PUT of one file to Apache mod_dav with Basic auth, into an existing collection. */
export function curlDav(s: BenchServers, file: string, path: string): Command {
  return {
    cmd: 'curl',
    args: [
      '-sS',
      '--fail-with-body',
      '-o',
      '/dev/null',
      '-T',
      file,
      '--user',
      `${s.dav.username}:${s.dav.password}`,
      `${s.dav.url}/${path}`,
    ],
  };
}

/** Environment naming both rclone remotes; the WebDAV password is `rclone obscure`d as rclone requires. */
export function rcloneEnv(s: BenchServers): NodeJS.ProcessEnv {
  const obscured = execFileSync('rclone', ['obscure', s.dav.password], { encoding: 'utf8' }).trim();
  const S3 = `RCLONE_CONFIG_${S3_REMOTE.toUpperCase()}`;
  const DAV = `RCLONE_CONFIG_${DAV_REMOTE.toUpperCase()}`;
  return {
    ...process.env,
    // No config file: only the remotes below exist, and rclone stays quiet about the missing file.
    RCLONE_CONFIG: '/dev/null',
    [`${S3}_TYPE`]: 's3',
    [`${S3}_PROVIDER`]: 'Minio',
    [`${S3}_ENDPOINT`]: s.minio.endpoint,
    [`${S3}_ACCESS_KEY_ID`]: s.minio.accessKeyId,
    [`${S3}_SECRET_ACCESS_KEY`]: s.minio.secretAccessKey,
    [`${S3}_REGION`]: s.minio.region,
    [`${DAV}_TYPE`]: 'webdav',
    [`${DAV}_URL`]: s.dav.url,
    [`${DAV}_VENDOR`]: 'other',
    [`${DAV}_USER`]: s.dav.username,
    [`${DAV}_PASS`]: obscured,
  };
}

/** `rclone copy SOURCE REMOTE:PATH` with default flags; a single file keeps its name. */
export function rcloneCopy(env: NodeJS.ProcessEnv, source: string, remote: string, path: string): Command {
  return { cmd: 'rclone', args: ['copy', source, `${remote}:${path}`], env };
}

export function toolVersion(cmd: string): string {
  try {
    const out = execFileSync(cmd, cmd === 'rclone' ? ['version'] : ['--version'], { encoding: 'utf8' });
    return out.split('\n')[0]!.trim();
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
}
