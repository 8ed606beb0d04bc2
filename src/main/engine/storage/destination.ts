// What every storage backend (filesystem, S3, WebDAV) offers the transfer engine. Backends never
// read local files themselves: they pull bytes from an UploadSource, which reads each file once,
// hashes exactly those bytes and throttles them, so "hashed == sent" holds for every backend.
import type { Readable } from 'node:stream';

export type DestinationKind = 'filesystem' | 's3' | 'webdav';

export interface RemoteObject {
  key: string;
  size: number;
  /** Whole-file SHA-256 (hex) as the destination keeps it (tag, metadata, property), if any. */
  sha256: string | null;
}

export interface VerifyResult {
  ok: boolean;
  size: number | null;
  /** What the destination confirmed, e.g. "size", "sha256 (server checksum)", "sha256 (read back)". */
  checked: string[];
  /** Why not ok, for the operator. */
  problem?: string;
}

/** The bytes of one local file, read once. */
export interface UploadSource {
  readonly relpath: string;
  readonly size: number;
  /**
   * Reads [offset, offset+length) — calls must be sequential and contiguous from 0, so each
   * byte is fed once, in order, to the whole-file SHA-256. Throttled by the bandwidth limit.
   */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * read() of one S3 part, with the CRC32C (base64) of exactly those bytes from the same hashing
   * pass (no second copy or pass). Same ordering rule as read(); resolves as soon as the next
   * part may be read, and `checked` once the part is hashed.
   */
  readPart(offset: number, length: number): Promise<{ checked: Promise<{ data: Buffer; crc32c: string }> }>;
  /** The whole file from `offset` on, in chunks, through read(). */
  chunks(offset?: number): AsyncIterable<Buffer>;
  /** Checksum of a buffer (e.g. the composite of part CRCs), computed off the event loop. Base64, as S3 headers want it. */
  partChecksum(data: Buffer, algorithm: 'crc32c' | 'sha256'): Promise<string>;
  /** Whole-file SHA-256 (hex) once every byte was read; throws if the file changed meanwhile. */
  finish(): Promise<string>;
  /** Counts bytes accepted by the destination, for progress. */
  sent(bytes: number): void;
}

/** Multipart state kept in the journal, so a killed process resumes part by part. */
export interface MultipartPart {
  partNumber: number;
  etag: string;
  checksum: string;
  size: number;
}
export interface MultipartState {
  uploadId: string;
  key: string;
  partSize: number;
  parts: MultipartPart[];
}
/** Written before CreateMultipartUpload: where (and when) an upload of this file may exist before its id is journaled. */
export interface MultipartIntent {
  key: string;
  partSize: number;
  /** When the intent was written (ms since the epoch, local clock). */
  at: number;
}
export interface MultipartStore {
  load(): MultipartState | null;
  /**
   * Journals the intent before CreateMultipartUpload, so that an upload whose id never reached
   * the journal (a crash right after Create, a lost answer) is found again by its key.
   */
  intend(intent: { key: string; partSize: number }): void;
  /** The keys where an upload of this file may exist that the journal cannot name, newest first. */
  intents(): MultipartIntent[];
  /** Upload ids at `key` that other unfinished jobs' files resume: never adopted or aborted for this file. */
  heldElsewhere(key: string): ReadonlySet<string>;
  begin(state: { uploadId: string; key: string; partSize: number }): void;
  /** Written before the next part is started. */
  partDone(part: MultipartPart): void;
  /** No upload of this file is left on the server (completed, aborted or gone): its state and intents go. */
  clear(): void;
  /**
   * The upload can never be completed but could not be aborted now: its resume state goes, its
   * intent stays, so that the next attempt or the job's leftovers sweep finds it by key.
   */
  abandon(): void;
  /** Nothing of this file is left at `key` (every upload there was aborted or adopted elsewhere): that intent goes. */
  settled(key: string): void;
}

export interface UploadContext {
  signal: AbortSignal;
  multipart: MultipartStore;
}

export interface UploadResult {
  sha256: string;
  size: number;
  /** Whether the destination itself checked a checksum of the bytes on arrival. */
  serverChecked: boolean;
  /** Parts re-used from an earlier, interrupted attempt (multipart only). */
  resumedParts?: number;
}

export interface Destination {
  readonly name: string;
  readonly kind: DestinationKind;
  /** Proves reachability and credentials with one cheap request, before any long scan. */
  check(): Promise<void>;
  /** Storage URI recorded in the catalogue. */
  uri(key: string): string;
  /** Every object under a key prefix (one listing instead of one request per file). */
  list(prefix: string): AsyncIterable<RemoteObject>;
  head(key: string): Promise<RemoteObject | null>;
  /**
   * Stores the source at `key`. Nothing ever appears at `key` until it is complete; an object
   * already at `key` is never replaced (BeamdropError 'conflict').
   */
  upload(key: string, source: UploadSource, ctx: UploadContext): Promise<UploadResult>;
  /** Confirms size and, where it can, the SHA-256; `deep` reads the bytes back and re-hashes. */
  verify(key: string, expected: { size: number; sha256: string }, options: { deep: boolean }): Promise<VerifyResult>;
  read(key: string): Promise<Readable>;
  /**
   * Removes leftovers of interrupted uploads older than `olderThanMs`, except S3 uploads whose
   * id is in `keep` (a paused job still needs them); returns how many. `probeKeys` (the journal's
   * intents) are also looked up one by one, for servers that list uploads by exact key only.
   */
  cleanup(olderThanMs: number, keep?: ReadonlySet<string>, probeKeys?: readonly string[]): Promise<number>;
  /**
   * Removes what interrupted uploads left for the keys of `scope` (one job's folder): unfinished
   * multipart uploads and temporary files. Never a final object, never what `rules` keep.
   */
  sweep(scope: SweepScope, rules: SweepRules): Promise<SweepResult>;
  close(): Promise<void>;
}

/** The keys of one job: its folder, and the few names beside it that belong to it. */
export interface SweepScope {
  /** Every key under this prefix (the job's folder, e.g. "P1/V1/scan-12/"). */
  prefix: string;
  /** Keys in the folder above the prefix that belong to the job too (its RO-Crate beside its folder). */
  beside?: (key: string) => boolean;
}

/** What a leftovers sweep must leave alone, from the journal. */
export interface SweepRules {
  /** Upload ids that unfinished jobs resume. */
  keepUploads: ReadonlySet<string>;
  /** Keys where an unfinished job intends an upload whose id it may not have journaled yet: nothing there is aborted. */
  keepKeys: ReadonlySet<string>;
  /**
   * Keys where an upload of ours may be left (the journal's intents), looked up one by one:
   * some servers (MinIO) list unfinished uploads by exact key only, not by folder.
   */
  probeKeys: readonly string[];
  /** Leftovers written at or after this time (ms since the epoch) stay: another live process might still be writing them. Null: no such process. */
  spareSince: number | null;
}

export interface SweepResult {
  /** Unfinished multipart uploads aborted. */
  uploads: number;
  /** Temporary files removed. */
  temporaries: number;
  /** Probed keys where something was spared by `spareSince` (their intents must stay). */
  remaining: string[];
}

export const nothingSwept = (): SweepResult => ({ uploads: 0, temporaries: 0, remaining: [] });
