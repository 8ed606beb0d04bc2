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
export interface MultipartStore {
  load(): MultipartState | null;
  begin(state: { uploadId: string; key: string; partSize: number }): void;
  /** Written before the next part is started. */
  partDone(part: MultipartPart): void;
  clear(): void;
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
   * id is in `keep` (a paused job still needs them); returns how many.
   */
  cleanup(olderThanMs: number, keep?: ReadonlySet<string>): Promise<number>;
  close(): Promise<void>;
}
