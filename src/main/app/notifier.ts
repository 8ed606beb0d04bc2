// OS notifications for the two moments an operator wants to hear about without watching the
// window: a dataset is verified and registered, or it needs attention (paused, failed files).
// Each is said once per job and transition; jobs merely listed at start-up say nothing.
import type { JobView, JobsUpdate } from '../../shared/app-model.js';

export interface Notice {
  title: string;
  body: string;
  jobId: number;
  kind: 'done' | 'attention';
}

export class JobNotifier {
  private readonly last = new Map<number, JobView>();
  private readonly said = new Set<string>();

  constructor(private readonly notify: (n: Notice) => void) {}

  onUpdate(u: JobsUpdate): void {
    for (const j of u.jobs) {
      const before = this.last.get(j.id);
      this.last.set(j.id, j);
      // Only jobs seen running in this session: a restart must not replay old news.
      if (!before?.running && !j.running) continue;
      if (j.attention && !before?.attention) this.once(j, 'attention', `${j.dataset} needs attention`, attentionText(j));
      if (j.state === 'done' && !j.running && before?.state !== 'done' && !j.attention) {
        this.once(
          j,
          'done',
          `${j.dataset} verified and registered`,
          `${j.filesTotal} file${j.filesTotal === 1 ? '' : 's'} verified at ${j.destination} and recorded in the catalogue.`,
        );
      }
    }
  }

  private once(j: JobView, kind: Notice['kind'], title: string, body: string): void {
    const key = `${j.id}:${kind}:${j.finishedAt ?? ''}:${j.counts.failed ?? 0}`;
    if (this.said.has(key)) return;
    this.said.add(key);
    this.notify({ title, body, jobId: j.id, kind });
  }
}

function attentionText(j: JobView): string {
  const failed = j.counts.failed ?? 0;
  const changed = j.counts.changed ?? 0;
  const parts: string[] = [];
  if (failed) parts.push(`${failed} file${failed === 1 ? '' : 's'} failed`);
  if (changed) parts.push(`${changed} changed after upload`);
  if (j.reason && j.state === 'paused') parts.push(j.reason);
  return parts.join('; ') || 'Open Beamdrop to see why.';
}
