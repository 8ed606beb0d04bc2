// Where a file goes once the destination confirmed it: the local catalogue today, and the
// catalogue outbox for SciCat/ICAT. Synchronous on purpose: the record must be journaled before
// the file's state moves on, so a crash never forgets a verified file nor records it twice.
import type { LocalCatalogue } from './local-catalogue.js';

export interface VerifiedFile {
  jobId: number;
  fileId: number;
  dataset: string;
  /** Normalised relative path (NFC, '/'), the same on every platform. */
  relpath: string;
  destination: string;
  remoteKey: string;
  storageUri: string;
  size: number;
  sha256: string;
  mtimeMs: number;
}

export interface VerifiedFileSink {
  fileVerified(file: VerifiedFile): void;
}

export class LocalCatalogueSink implements VerifiedFileSink {
  constructor(
    private readonly catalogue: LocalCatalogue,
    private readonly datasetId: number,
  ) {}

  fileVerified(f: VerifiedFile): void {
    this.catalogue.recordFile(this.datasetId, {
      relpath: f.relpath,
      destination: f.destination,
      remoteKey: f.remoteKey,
      storageUri: f.storageUri,
      size: f.size,
      sha256: f.sha256,
      mtimeMs: f.mtimeMs,
    });
  }
}

/** Hands every verified file to several sinks in order (the local catalogue first, then the outbox). */
export class TeeSink implements VerifiedFileSink {
  private readonly sinks: VerifiedFileSink[];
  constructor(...sinks: VerifiedFileSink[]) {
    this.sinks = sinks;
  }

  fileVerified(file: VerifiedFile): void {
    for (const s of this.sinks) s.fileVerified(file);
  }
}
