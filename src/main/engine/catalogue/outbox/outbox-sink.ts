// The verified-file sink of a facility catalogue: each verified file is queued in the journal's
// outbox (synchronously, before the file's state moves on) and the worker is woken to send it
// in blocks. Nothing here talks to the network, so a catalogue outage never slows an upload.
import type { VerifiedFile, VerifiedFileSink } from '../verified-sink.js';
import type { OutboxStore } from './outbox-store.js';

export class OutboxSink implements VerifiedFileSink {
  private queued = 0;

  /** `blockSize`: the worker is woken when a block may be full; partial blocks go on its own timer. */
  constructor(
    private readonly store: OutboxStore,
    private readonly registrationId: number,
    private readonly wake: () => void,
    private readonly blockSize: number,
  ) {}

  fileVerified(f: VerifiedFile): void {
    const settled = this.store.queueFile(this.registrationId, {
      fileId: f.fileId > 0 ? f.fileId : null,
      relpath: f.relpath,
      size: f.size,
      sha256: f.sha256,
      mtimeMs: f.mtimeMs,
      storageUri: f.storageUri,
    });
    // Waking per file would make 20,000 files 20,000 passes of the worker.
    if (settled || this.queued++ === 0 || this.queued % this.blockSize === 0) this.wake();
  }
}
