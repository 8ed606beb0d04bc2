// How a running job looks on a terminal: one live status line (files, bytes, rate, ETA),
// failures printed as they happen, and a summary at the end. With --json: one event per line.
import { datasetLabel, type JobEvent, type JobProgress, type JobSummary, type RegistrationStatus } from '../../shared/model.js';
import { formatBytes, formatRate } from '../../shared/sizes.js';

export interface Output {
  write(s: string): void;
  isTTY: boolean;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function progressLine(p: JobProgress): string {
  const failed = p.counts.failed ? ` · ${p.counts.failed} failed` : '';
  const eta = p.eta === null ? '' : ` · ETA ${formatDuration(p.eta)}`;
  return `${p.filesDone}/${p.filesTotal} files · ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)} · ${formatRate(p.rate)}${eta}${failed}`;
}

export function summaryText(s: JobSummary): string {
  const dry = s.job.kind === 'dry-run';
  // A dry run sends nothing: its files still "discovered" are the ones a real upload would send.
  const counts =
    Object.entries(s.counts)
      .map(
        ([state, n]) =>
          `${n} ${dry && state === 'discovered' ? 'to send' : dry && state === 'skipped' ? 'already there' : state}`,
      )
      .join(', ') || 'no files';
  const secs = s.durationMs / 1000;
  const rate = secs > 0 ? ` (${formatRate(s.bytesSent / secs)})` : '';
  const dataset = datasetLabel({ name: s.job.dataset, proposal: s.job.proposal, visit: s.job.visit });
  const lines = [
    `${dry ? `Dry run (job ${s.job.id})` : `Job ${s.job.id}`} · dataset ${dataset} → ${s.job.destination}: ${s.job.state}`,
    `  files: ${counts}`,
    dry
      ? `  bytes: ${formatBytes(s.bytesTotal)} in all; nothing was sent (dry run)`
      : `  bytes: ${formatBytes(s.bytesSent)} sent of ${formatBytes(s.bytesTotal)} in ${formatDuration(secs)}${rate}`,
  ];
  if (s.job.reason) lines.push(`  ${s.job.reason}`);
  if (s.failures.length) {
    lines.push(`  ${s.failures.length} file(s) need attention:`);
    for (const f of s.failures) lines.push(`    ✗ ${f.relpath}: ${f.error.message}`);
  }
  return lines.join('\n') + '\n';
}

/** One line on the catalogue registration of the dataset, written for the operator. */
export function registrationLine(s: RegistrationStatus): string {
  const files = `${s.filesRegistered} file(s) registered${s.filesQueued ? `, ${s.filesQueued} queued` : ''}`;
  switch (s.state) {
    case 'registered':
      return `✓ catalogue ${s.catalogue}: dataset "${s.dataset}" registered${s.remoteId ? ` as ${s.remoteId}` : ''} (${files})`;
    case 'needs-attention':
      return `⚠ catalogue ${s.catalogue}: dataset "${s.dataset}" needs attention: ${s.lastError?.reason ?? s.lastError?.message ?? 'see `beamdrop catalogue status`'}${s.lastError?.field ? ` (field ${s.lastError.field})` : ''}. Files stay uploaded; fix it and run \`beamdrop catalogue retry\`.`;
    case 'waiting-login':
      return `… catalogue ${s.catalogue}: waiting for sign-in to register "${s.dataset}" (${files}); run \`beamdrop login\`.`;
    default:
      return `… catalogue ${s.catalogue}: registering "${s.dataset}" (${files})`;
  }
}

export class ProgressView {
  private live = '';

  constructor(
    private readonly out: Output,
    private readonly json: boolean,
  ) {}

  private clearLive(): void {
    if (this.live && this.out.isTTY) this.out.write('\r\x1b[2K');
    this.live = '';
  }

  onEvent(e: JobEvent): void {
    if (this.json) {
      this.out.write(JSON.stringify(e) + '\n');
      return;
    }
    switch (e.type) {
      case 'job-started':
        this.out.write(`${e.resumed ? 'Resuming' : 'Starting'} job ${e.jobId}: dataset "${e.dataset}" → ${e.destination}\n`);
        break;
      case 'scan-done':
        this.out.write(`Found ${e.files} file(s), ${formatBytes(e.bytes)}\n`);
        for (const n of e.notes) this.out.write(`  note: ${n.path}: ${n.detail}\n`);
        break;
      case 'file-state':
        if (e.state === 'failed' && e.error) {
          this.clearLive();
          this.out.write(`✗ ${e.relpath}: ${e.error.message}\n`);
        }
        break;
      case 'retry':
        this.clearLive();
        this.out.write(
          `↻ ${e.relpath}: attempt ${e.attempt} failed (${e.error.message}); retrying in ${(e.delayMs / 1000).toFixed(1)} s\n`,
        );
        break;
      case 'progress':
        if (this.out.isTTY) {
          this.live = progressLine(e.progress);
          this.out.write(`\r\x1b[2K${this.live}`);
        }
        break;
      case 'job-paused':
        this.clearLive();
        this.out.write(`⏸ ${e.reason}\n`);
        break;
      case 'job-finished':
        this.clearLive();
        this.out.write(summaryText(e.summary));
        break;
      case 'registration':
        this.clearLive();
        this.out.write(registrationLine(e.status) + '\n');
        break;
      case 'job-note':
        this.clearLive();
        this.out.write(`• ${e.message}\n`);
        break;
      default:
        break;
    }
  }
}
