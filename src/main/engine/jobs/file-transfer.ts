// Takes one journaled file from where it stands to a final state: upload (or find it already
// there), verify at the destination, hand it to the verified-file sink (catalogues). Each step is written to the
// journal before the next starts. Errors of this file are returned as its state; errors of the
// destination are thrown (as DestinationDown) so the job can pause (or wait for space); a full
// local disk (the journal cannot be written) is thrown as it is, never blamed on the file.
import { stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { BeamdropError, type ErrorInfo } from '../../../shared/errors.js';
import type { FileRecord, FileState } from '../../../shared/model.js';
import type { VerifiedFileSink } from '../catalogue/verified-sink.js';
import type { HashPool } from '../hash/hash-pool.js';
import type { Journal } from '../journal/journal.js';
import type { Destination, RemoteObject } from '../storage/destination.js';
import { FileSource, fileError } from '../transfer/file-source.js';
import { toRemoteRelpath } from '../keys/remote-key.js';
import { sha256OfStream } from '../hash/hash-readable.js';
import type { Clock, Throttle } from '../transfer/throttle.js';
import { backoffDelay, classifyError, isOutOfSpace } from './classify-error.js';

export class DestinationDown extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
  }
}

export interface TransferDeps {
  journal: Journal;
  /** Receives every verified (or identical, already stored) file: local catalogue, outbox. */
  sink: VerifiedFileSink;
  hashes: HashPool;
  destination: Destination;
  throttle: Throttle | null;
  clock: Clock;
  retries: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  dataset: string;
  /** Objects found under the job's prefix before the transfers started. */
  existing: Map<string, RemoteObject>;
  signal: AbortSignal;
  dryRun: boolean;
  onState(file: FileRecord, state: FileState, extra: { sha256?: string; error?: ErrorInfo }): void;
  onSent(bytes: number): void;
  onRetry(file: FileRecord, attempt: number, delayMs: number, error: ErrorInfo): void;
  onRead?: (bytes: number) => void;
}

export async function transferFile(initial: FileRecord, key: string, d: TransferDeps): Promise<FileState> {
  let file = initial;
  const set = (
    state: FileState,
    patch: Parameters<Journal['setFileState']>[2] = {},
    extra: { sha256?: string; error?: ErrorInfo } = {},
  ) => {
    d.journal.setFileState(file.id, state, patch);
    file = d.journal.file(file.id)!;
    d.onState(file, state, extra);
    return state;
  };
  if (file.remoteKey !== key) d.journal.setFileState(file.id, file.state, { remoteKey: key });

  for (let attempt = 1; ; attempt++) {
    d.signal.throwIfAborted();
    try {
      // An interrupted run may have stored the file already; finish its verification.
      if (file.state === 'uploaded' && file.sha256) return await verifyAndRecord(file, key, file.sha256, d, set);
      const current = await stat(file.path).catch((e) => {
        throw fileError(e, file.path, file.relpath);
      });
      if (!current.isFile())
        throw fileError(Object.assign(new Error('not a regular file'), { code: 'EISDIR' }), file.path, file.relpath);
      if (current.size !== file.size || current.mtimeMs !== file.mtimeMs) {
        d.journal.setFileState(file.id, file.state, { size: current.size, mtimeMs: current.mtimeMs, sha256: null });
        file = d.journal.file(file.id)!;
      }
      // A multipart upload of this key still in the journal is ours to finish: it may have been
      // completed but not yet tagged with its SHA-256, so the object at the key is not taken as
      // found; the destination resumes it (and tags it, or reports a conflict if it is not ours).
      const ownUpload = file.state === 'transferring' && d.journal.multipartStore(file.id).load()?.key === key;
      const remote = ownUpload
        ? null
        : (d.existing.get(key) ?? (file.state === 'transferring' ? await d.destination.head(key) : null));
      if (remote) return await alreadyThere(file, key, remote, d, set);
      if (d.dryRun) return file.state;
      set('transferring', { incrementAttempts: true });
      const source = await FileSource.open(
        file.path,
        file.relpath,
        { size: file.size, mtimeMs: file.mtimeMs },
        {
          hashes: d.hashes,
          throttle: d.throttle,
          signal: d.signal,
          onSent: d.onSent,
          ...(d.onRead ? { onRead: d.onRead } : {}),
        },
      );
      let result;
      try {
        result = await d.destination.upload(key, source, { signal: d.signal, multipart: d.journal.multipartStore(file.id) });
      } finally {
        await source.close();
      }
      d.journal.event(file.jobId, file.id, 'upload-result', {
        serverChecked: result.serverChecked,
        resumedParts: result.resumedParts ?? 0,
      });
      set('uploaded', { sha256: result.sha256, error: null }, { sha256: result.sha256 });
      return await verifyAndRecord(file, key, result.sha256, d, set);
    } catch (e) {
      if (e instanceof DestinationDown) throw e;
      if (e instanceof BeamdropError && e.code === 'conflict') {
        // Something appeared at the key meanwhile: decide again with what is there now.
        const remote = await d.destination.head(key).catch(() => null);
        if (remote) {
          d.existing.set(key, remote);
          continue;
        }
      }
      const c = classifyError(e, { destination: d.destination.name, file: file.relpath });
      // The local disk under the journal is full: no file's fault, and nothing more can be journaled.
      if (c.scope === 'local') throw e;
      if (c.scope === 'cancelled' || d.signal.aborted) throw e;
      if (c.scope === 'destination' && isOutOfSpace(c.info)) {
        // Not this file's fault, and trying again in seconds cannot help: the job waits for space.
        d.journal.setFileState(file.id, file.state, { error: c.info });
        throw new DestinationDown(c.info);
      }
      const retryable = c.info.retryable && c.info.code !== 'credentials-rejected' && c.info.code !== 'credentials-missing';
      if (retryable && attempt < d.retries.attempts) {
        const delay = backoffDelay(attempt, d.retries.baseDelayMs, d.retries.maxDelayMs);
        d.journal.setFileState(file.id, file.state === 'transferring' ? 'transferring' : file.state, { error: c.info });
        d.onRetry(file, attempt, delay, c.info);
        await d.clock.sleep(delay);
        continue;
      }
      if (c.scope === 'destination') {
        d.journal.setFileState(file.id, file.state === 'transferring' ? 'transferring' : file.state, { error: c.info });
        throw new DestinationDown(c.info);
      }
      return set('failed', { error: c.info }, { error: c.info });
    }
  }
}

type Setter = (
  state: FileState,
  patch?: Parameters<Journal['setFileState']>[2],
  extra?: { sha256?: string; error?: ErrorInfo },
) => FileState;

async function verifyAndRecord(file: FileRecord, key: string, sha256: string, d: TransferDeps, set: Setter): Promise<FileState> {
  const v = await d.destination.verify(key, { size: file.size, sha256 }, { deep: false });
  if (!v.ok) {
    const error: ErrorInfo = {
      code: 'checksum-mismatch',
      retryable: false,
      file: file.relpath,
      message: `${file.relpath}: stored copy does not match (${v.problem ?? 'unknown'}); it was not recorded as verified. Check the destination, then run \`beamdrop verify\`.`,
    };
    return set('failed', { error }, { error });
  }
  record(file, key, sha256, d);
  return set('verified', { error: null }, { sha256 });
}

function record(file: FileRecord, key: string, sha256: string, d: TransferDeps): void {
  d.sink.fileVerified({
    jobId: file.jobId,
    fileId: file.id,
    dataset: d.dataset,
    relpath: toRemoteRelpath(file.relpath),
    destination: d.destination.name,
    remoteKey: key,
    storageUri: d.destination.uri(key),
    size: file.size,
    sha256,
    mtimeMs: file.mtimeMs,
  });
}

/** An object is already at the key: the same bytes are `skipped` (or verified, if we sent them), other bytes a conflict. */
async function alreadyThere(
  file: FileRecord,
  key: string,
  remote: RemoteObject,
  d: TransferDeps,
  set: Setter,
): Promise<FileState> {
  const conflict = (why: string): FileState => {
    const error: ErrorInfo = {
      code: 'conflict',
      retryable: false,
      file: file.relpath,
      message: `conflict: ${key} already exists on "${d.destination.name}" with different content (${why}); it was left untouched. Rename the dataset or file, or remove the remote copy deliberately.`,
    };
    return set('failed', { error }, { error });
  };
  if (remote.size !== file.size) return conflict(`${remote.size} bytes there, ${file.size} here`);
  const sha256 = file.sha256 ?? (await hashLocal(file, d));
  if (remote.sha256 !== null && remote.sha256 !== sha256) return conflict('SHA-256 differs');
  if (remote.sha256 === null) {
    const v = await d.destination.verify(key, { size: file.size, sha256 }, { deep: true });
    if (!v.ok) return conflict(v.problem ?? 'content differs');
  }
  // A dry run journals its verdict in its own job (never recorded in a catalogue): it would skip this one.
  if (d.dryRun) return set('skipped', { sha256, error: null }, { sha256 });
  record(file, key, sha256, d);
  // A file this job itself was sending when it was interrupted is verified, not skipped.
  return file.state === 'transferring'
    ? set('verified', { sha256, error: null }, { sha256 })
    : set('skipped', { sha256, error: null }, { sha256 });
}

async function hashLocal(file: FileRecord, d: TransferDeps): Promise<string> {
  try {
    return (await sha256OfStream(d.hashes, createReadStream(file.path, { highWaterMark: 1024 * 1024 }), d.onRead)).sha256;
  } catch (e) {
    throw fileError(e, file.path, file.relpath);
  }
}
