// Reads files the local catalogue knows only by storage URI (imported RO-Crates, files
// registered in place), for `fetch` and `verify`: file:// from disk, http(s):// with GET (WebDAV
// credentials from BEAMDROP_WEBDAV_USERNAME/PASSWORD when set), s3://bucket/key through an S3
// endpoint named by AWS_ENDPOINT_URL with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. Read-only:
// the key of every call is the full URI.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BeamdropError } from '../../../shared/errors.js';
import type { UploadPolicy } from '../../../shared/profile-schema.js';
import type { CredentialStore } from '../credentials/credential-store.js';
import type { HashPool } from '../hash/hash-pool.js';
import { sha256OfStream } from '../hash/hash-readable.js';
import { createDestination } from '../storage/create-destination.js';
import {
  nothingSwept,
  type Destination,
  type RemoteObject,
  type SweepResult,
  type VerifyResult,
} from '../storage/destination.js';

export class UriDestination implements Destination {
  readonly kind = 'filesystem' as const;
  private readonly s3 = new Map<string, Destination>();

  constructor(
    readonly name: string,
    private readonly d: { hashes: HashPool; credentials: CredentialStore; env: NodeJS.ProcessEnv; policy: UploadPolicy },
  ) {}

  async check(): Promise<void> {}
  uri(key: string): string {
    return key;
  }
  async *list(): AsyncIterable<RemoteObject> {}
  async cleanup(): Promise<number> {
    return 0;
  }
  /** Pointers are read-only: nothing of ours is ever left there. */
  async sweep(): Promise<SweepResult> {
    return nothingSwept();
  }
  upload(key: string): never {
    throw new BeamdropError({
      code: 'destination-invalid',
      retryable: false,
      message: `${key} is a pointer to storage Beamdrop does not manage; nothing can be written there.`,
    });
  }

  async close(): Promise<void> {
    for (const s of this.s3.values()) await s.close();
  }

  private async s3Of(uri: string): Promise<{ dest: Destination; key: string }> {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    const endpoint = this.d.env.AWS_ENDPOINT_URL;
    if (!m || !endpoint) {
      throw new BeamdropError({
        code: 'destination-unknown',
        retryable: false,
        message: `${uri}: to read s3:// pointers set AWS_ENDPOINT_URL (and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) to the S3 service that holds bucket "${m?.[1] ?? '?'}".`,
      });
    }
    const bucket = m[1]!;
    let dest = this.s3.get(bucket);
    if (!dest) {
      dest = await createDestination(
        {
          name: `s3://${bucket}`,
          adhoc: true,
          config: { kind: 's3', endpoint, bucket, region: this.d.env.AWS_REGION ?? 'us-east-1', keyTemplate: '{relpath}' },
        },
        { credentials: this.d.credentials, hashes: this.d.hashes, policy: this.d.policy, env: this.d.env },
      );
      this.s3.set(bucket, dest);
    }
    return { dest, key: decodeURIComponent(m[2]!) };
  }

  private authHeaders(): Record<string, string> {
    const user = this.d.env.BEAMDROP_WEBDAV_USERNAME;
    return user
      ? { authorization: 'Basic ' + Buffer.from(`${user}:${this.d.env.BEAMDROP_WEBDAV_PASSWORD ?? ''}`).toString('base64') }
      : {};
  }

  async head(uri: string): Promise<RemoteObject | null> {
    if (uri.startsWith('file:')) {
      const st = await stat(fileURLToPath(uri)).catch(() => null);
      return st?.isFile() ? { key: uri, size: st.size, sha256: null } : null;
    }
    if (uri.startsWith('s3:')) {
      const { dest, key } = await this.s3Of(uri);
      const o = await dest.head(key);
      return o ? { ...o, key: uri } : null;
    }
    const r = await fetch(uri, { method: 'HEAD', headers: this.authHeaders(), signal: AbortSignal.timeout(30_000) });
    if (r.status === 404) return null;
    if (!r.ok) throw unreadable(uri, `HTTP ${r.status}`);
    return { key: uri, size: Number(r.headers.get('content-length') ?? -1), sha256: null };
  }

  async read(uri: string): Promise<Readable> {
    if (uri.startsWith('file:')) return createReadStream(fileURLToPath(uri), { highWaterMark: 1024 * 1024 });
    if (uri.startsWith('s3:')) {
      const { dest, key } = await this.s3Of(uri);
      return dest.read(key);
    }
    if (!/^https?:/.test(uri)) throw unreadable(uri, 'Beamdrop reads file://, http(s):// and s3:// pointers only');
    const r = await fetch(uri, { headers: this.authHeaders() });
    if (!r.ok || !r.body) throw unreadable(uri, `HTTP ${r.status}`);
    return Readable.fromWeb(r.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  /** Size from the storage; the SHA-256 by reading the bytes back (pointers carry no stored checksum). */
  async verify(uri: string, expected: { size: number; sha256: string }, options: { deep: boolean }): Promise<VerifyResult> {
    const found = await this.head(uri);
    if (!found) return { ok: false, size: null, checked: [], problem: `${uri} is missing` };
    if (found.size >= 0 && found.size !== expected.size)
      return {
        ok: false,
        size: found.size,
        checked: ['size'],
        problem: `size differs: ${found.size} stored, ${expected.size} expected`,
      };
    if (!options.deep && !uri.startsWith('file:')) return { ok: true, size: found.size, checked: ['size'] };
    const { sha256, size } = await sha256OfStream(this.d.hashes, await this.read(uri));
    if (sha256 !== expected.sha256 || size !== expected.size)
      return {
        ok: false,
        size,
        checked: ['size', 'sha256 (read back)'],
        problem: `SHA-256 differs: ${sha256} stored, ${expected.sha256} expected`,
      };
    return { ok: true, size, checked: ['size', 'sha256 (read back)'] };
  }
}

function unreadable(uri: string, why: string): BeamdropError {
  return new BeamdropError({ code: 'destination-unreachable', retryable: true, message: `cannot read ${uri}: ${why}.` });
}
