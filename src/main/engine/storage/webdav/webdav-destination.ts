// The WebDAV destination. An upload never shows a partial object at its key: the bytes go to a
// hidden temporary name in the target folder (PUT, If-None-Match: *), the SHA-256 computed while
// sending is stored on it as a dead property (PROPPATCH), and only then is it renamed into place
// with MOVE and Overwrite: F, so an existing remote file is never replaced. A PROPFIND then
// confirms the size. Any failure or cancellation deletes the temporary name.
import type { Readable } from 'node:stream';
import { BeamdropError } from '../../../../shared/errors.js';
import type { WebdavDestinationConfig } from '../../../../shared/profile-schema.js';
import type { HashPool } from '../../hash/hash-pool.js';
import { sha256OfStream } from '../../hash/hash-readable.js';
import {
  nothingSwept,
  type Destination,
  type RemoteObject,
  type SweepResult,
  type SweepRules,
  type SweepScope,
  type UploadContext,
  type UploadResult,
  type UploadSource,
  type VerifyResult,
} from '../destination.js';
import { CollectionCache } from './collections.js';
import { DavClient, type DavCredentials, type DavEntryWithKey } from './dav-client.js';
import { checkKey, isTempKey, keyUrl, parentKey, tempKey, tempKeyTarget } from './dav-paths.js';
import { proppatchFailure, proppatchSha256 } from './dav-properties.js';
import { walk, type WalkState } from './dav-walk.js';
import { credentialsRejected, httpError, networkError } from './webdav-errors.js';

const CHECK_TIMEOUT_MS = 15_000;

export class WebdavDestination implements Destination {
  readonly kind = 'webdav' as const;
  private readonly dav: DavClient;
  private readonly collections: CollectionCache;
  private readonly walkState: WalkState = { depthInfinity: null };
  /** Temporary keys of uploads running here, which cleanup() must leave alone. */
  private readonly inFlight = new Set<string>();

  constructor(
    readonly name: string,
    config: WebdavDestinationConfig,
    credentials: DavCredentials | null,
    private readonly hashes: HashPool,
  ) {
    this.dav = new DavClient(name, config.url, credentials);
    this.collections = new CollectionCache(async (dir) => {
      const r = await this.dav.request('MKCOL', keyUrl(this.dav.root, dir, true), {
        action: 'creating the folder',
        key: dir,
        accept: [405, 409],
      });
      return r.status === 405 || r.status === 409 ? r.status : 201;
    });
  }

  uri(key: string): string {
    return keyUrl(this.dav.root, key);
  }

  async check(): Promise<void> {
    const url = this.dav.root.href;
    const r = await this.dav.propfind(url, '0', { action: 'checking', timeoutMs: CHECK_TIMEOUT_MS, accept: [401, 403] });
    if (r.status === 401 || r.status === 403) throw credentialsRejected(this.dav.errorContext(url, 'checking'), r.status);
    const self = r.entries.find((e) => e.key === '');
    if (r.status === 404 || (self && !self.collection)) {
      throw new BeamdropError({
        code: self ? 'destination-invalid' : 'not-found',
        retryable: false,
        message:
          `the WebDAV folder ${url} of destination "${this.name}" does not exist${self ? ' (it is a file)' : ''}; ` +
          'ask the storage administrators to create it or fix the URL in the facility profile (Beamdrop creates only folders below it).',
      });
    }
  }

  async upload(key: string, source: UploadSource, ctx: UploadContext): Promise<UploadResult> {
    checkKey(key);
    const dir = parentKey(key);
    await this.collections.ensure(dir);
    const temp = tempKey(key);
    const tempUrl = this.uri(temp);
    this.inFlight.add(temp);
    // From the first byte on, a partial temporary file may exist on the server.
    let tempLeft = true;
    try {
      const status = await this.dav.put(tempUrl, key, source.size, source.chunks(), (n) => source.sent(n), ctx.signal);
      if (status === 409) {
        this.collections.forget(dir);
        throw new BeamdropError({
          code: 'transfer-failed',
          retryable: true,
          file: key,
          message: `${key}: its folder ${dir} disappeared from the WebDAV server (or a file has its name) during the upload; it will be tried again.`,
        });
      }
      if (status === 412) {
        // If-None-Match: * met an object at the random temporary name; the next try draws another.
        throw new BeamdropError({
          code: 'transfer-failed',
          retryable: true,
          file: key,
          message: `${key}: the temporary upload name was taken on the WebDAV server; it will be tried again.`,
        });
      }
      if (status < 200 || status >= 300) throw httpError(status, this.dav.errorContext(tempUrl, 'uploading', key));
      const sha256 = await source.finish();
      await this.setSha256(tempUrl, key, sha256, ctx.signal);
      const finalUrl = this.uri(key);
      const moved = await this.dav.request('MOVE', tempUrl, {
        action: 'moving into place',
        key,
        signal: ctx.signal,
        accept: [412],
        headers: { Destination: finalUrl, Overwrite: 'F' },
      });
      if (moved.status === 412) return await this.alreadyThere(key, source.size, sha256);
      tempLeft = false;
      await this.confirm(key, source.size, sha256);
      return { sha256, size: source.size, serverChecked: false };
    } finally {
      if (tempLeft) await this.discard(temp);
      this.inFlight.delete(temp);
    }
  }

  /**
   * MOVE found an object at the key. The same bytes are what an earlier attempt leaves when its
   * MOVE succeeded but the answer was lost; anything else is a conflict and stays untouched.
   */
  private async alreadyThere(key: string, size: number, sha256: string): Promise<UploadResult> {
    const existing = await this.head(key);
    if (existing && existing.size === size && existing.sha256 === sha256) return { sha256, size, serverChecked: false };
    const why =
      existing && existing.size === size && existing.sha256 === null
        ? 'a file of the same size but without a sha256 property (so not known to be identical)'
        : 'a different file';
    throw new BeamdropError({
      code: 'conflict',
      retryable: false,
      file: key,
      message:
        `${key}: ${why} already exists at ${this.uri(key)}; the remote file differs and was left untouched, and this file was not uploaded. ` +
        'Check which one is right, then remove or rename the remote file, or change the key template.',
    });
  }

  /** PROPFIND after the MOVE: the size must match; the sha256 property must have moved along. */
  private async confirm(key: string, size: number, sha256: string): Promise<void> {
    const found = await this.head(key);
    if (!found || found.size !== size) {
      if (found) await this.discard(key);
      throw new BeamdropError({
        code: 'size-mismatch',
        retryable: true,
        file: key,
        message:
          `${key}: after the upload the WebDAV server reports ${found ? `${found.size} bytes` : 'no file'} instead of ${size} bytes; ` +
          'the incomplete copy was removed and the file will be sent again.',
      });
    }
    // Servers that drop dead properties on MOVE get the checksum set on the final name.
    if (found.sha256 !== sha256) await this.setSha256(this.uri(key), key, sha256);
  }

  private async setSha256(url: string, key: string, sha256: string, signal?: AbortSignal): Promise<void> {
    const r = await this.dav.request('PROPPATCH', url, {
      action: 'storing the checksum of',
      key,
      body: proppatchSha256(sha256),
      headers: { 'Content-Type': 'application/xml; charset=utf-8' },
      ...(signal ? { signal } : {}),
    });
    const failed = r.status === 207 ? await proppatchFailure(r.text) : null;
    if (failed !== null) throw httpError(failed, this.dav.errorContext(url, 'storing the sha256 property of', key));
  }

  /** Best effort, even after cancellation: nothing partial should stay on the server. */
  private async discard(key: string): Promise<void> {
    await this.dav
      .request('DELETE', this.uri(key), { action: 'removing', key, accept: [404], timeoutMs: CHECK_TIMEOUT_MS })
      .catch(() => undefined);
  }

  async head(key: string): Promise<RemoteObject | null> {
    checkKey(key);
    const r = await this.dav.propfind(this.uri(key), '0', { action: 'looking up', key });
    // Depth 0 answers for the resource itself only; its href may be spelt differently.
    const found = r.entries[0];
    if (!found || found.collection) return null;
    return { key, size: found.size ?? 0, sha256: found.sha256 };
  }

  async *list(prefix: string): AsyncIterable<RemoteObject> {
    const dir = parentKey(prefix);
    for await (const entry of walk(this.dav, dir, this.walkState, 'listing')) {
      if (entry.collection || isTempKey(entry.key) || !entry.key.startsWith(prefix)) continue;
      yield { key: entry.key, size: entry.size ?? 0, sha256: entry.sha256 };
    }
  }

  async verify(key: string, expected: { size: number; sha256: string }, options: { deep: boolean }): Promise<VerifyResult> {
    const found = await this.head(key);
    const checked: string[] = [];
    if (!found) return { ok: false, size: null, checked, problem: `${key} is not on the WebDAV server at ${this.uri(key)}.` };
    const fail = (problem: string): VerifyResult => ({ ok: false, size: found.size, checked, problem });
    if (found.size !== expected.size)
      return fail(`${key}: the WebDAV server holds ${found.size} bytes, the file has ${expected.size}.`);
    checked.push('size');
    if (found.sha256 !== null) {
      if (found.sha256 !== expected.sha256)
        return fail(
          `${key}: its sha256 property on the server (${found.sha256}) differs from the file's SHA-256 (${expected.sha256}).`,
        );
      checked.push('sha256 (property)');
    }
    if (options.deep) {
      const readBack = await this.readBackSha256(key);
      if (readBack !== expected.sha256)
        return fail(`${key}: the bytes read back from the server hash to ${readBack}, the file's SHA-256 is ${expected.sha256}.`);
      checked.push('sha256 (read back)');
    } else if (found.sha256 === null) {
      return fail(
        `${key} has no sha256 property on the WebDAV server, so only its size is confirmed; verify it deeply to read it back.`,
      );
    }
    return { ok: true, size: found.size, checked };
  }

  private async readBackSha256(key: string): Promise<string> {
    const body = await this.read(key);
    try {
      return (await sha256OfStream(this.hashes, body)).sha256;
    } catch (e) {
      // A connection lost in the middle of the body surfaces here, not in read().
      throw networkError(e, this.dav.errorContext(this.uri(key), 'reading back', key), false);
    }
  }

  read(key: string): Promise<Readable> {
    checkKey(key);
    return this.dav.get(this.uri(key), key);
  }

  async cleanup(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const stale: string[] = [];
    for await (const entry of walk(this.dav, '', this.walkState, 'looking for leftovers')) {
      if (entry.collection || !isTempKey(entry.key) || this.inFlight.has(entry.key)) continue;
      if (entry.lastModified !== null && entry.lastModified < cutoff) stale.push(entry.key);
    }
    let removed = 0;
    for (const key of stale) {
      const r = await this.dav.request('DELETE', this.uri(key), { action: 'removing the leftover', key, accept: [404] });
      if (r.status !== 404) removed++;
    }
    return removed;
  }

  async sweep(scope: SweepScope, rules: SweepRules): Promise<SweepResult> {
    const result = nothingSwept();
    const leftovers: string[] = [];
    // Temporary names are never resumed (a PUT starts over), so every one of the job's keys is a
    // leftover, unless an upload of this process writes it now or another live process might.
    const consider = (entry: DavEntryWithKey, belongs: (key: string) => boolean) => {
      if (entry.collection || this.inFlight.has(entry.key)) return;
      const target = tempKeyTarget(entry.key);
      if (target === null || !belongs(target)) return;
      if (rules.spareSince !== null && (entry.lastModified === null || entry.lastModified >= rules.spareSince)) return;
      leftovers.push(entry.key);
    };
    const folder = parentKey(scope.prefix);
    for await (const entry of walk(this.dav, folder, this.walkState, 'looking for leftovers'))
      consider(entry, (k) => k.startsWith(scope.prefix));
    if (scope.beside) {
      const above = parentKey(folder);
      const level = await this.dav.propfind(keyUrl(this.dav.root, above, true), '1', { action: 'looking for leftovers' });
      for (const entry of level.entries) if (parentKey(entry.key) === above && entry.key !== above) consider(entry, scope.beside);
    }
    for (const key of leftovers) {
      const r = await this.dav.request('DELETE', this.uri(key), { action: 'removing the leftover', key, accept: [404] });
      if (r.status !== 404) result.temporaries++;
    }
    return result;
  }

  async close(): Promise<void> {
    this.dav.close();
  }
}
