// What the job's own summary does not tell the exit code: a folder the scan could not read (its
// files were never taken, yet every taken file is verified) and a registration that ended the
// run waiting for a sign-in or needing attention (the files are stored, the catalogue does not
// have them). Fed with the job's events; asked for the exit code once the job has ended.
import type { JobEvent, RegistrationStatus, ScanNote } from '../../shared/model.js';
import { EXIT } from './exit-codes.js';

export class JobOutcome {
  private unreadable: ScanNote[] = [];
  private registration: RegistrationStatus | null = null;

  onEvent(e: JobEvent): void {
    if (e.type === 'scan-done') this.unreadable = e.notes.filter((n) => n.kind === 'unreadable');
    else if (e.type === 'registration') this.registration = e.status;
  }

  /**
   * The exit code of a run whose summary alone gives `base`: a worse outcome of the summary
   * (interrupted, paused, files failed) stands; an unreadable folder is files not taken (1); a
   * registration waiting for sign-in or needing attention is the catalogue's pause (3).
   */
  exitCode(base: number): number {
    if (base !== EXIT.ok) return base;
    if (this.unreadable.length > 0) return EXIT.filesFailed;
    const state = this.registration?.state;
    if (state === 'waiting-login' || state === 'needs-attention') return EXIT.paused;
    return base;
  }
}
