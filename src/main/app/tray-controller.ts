// The tray: its icon and tooltip follow the app status (idle / uploading / needs attention), and
// its menu offers show, pause all, resume all and quit. Fed with the backend's job updates; the
// Electron Tray and Menu sit behind TrayPort.
import type { JobView, JobsUpdate } from '../../shared/app-model.js';
import { appStatusOf, type AppStatus } from '../../shared/app-status.js';
import { ENDED_JOB_STATES } from '../../shared/model.js';

export interface TrayMenuItem {
  label: string;
  enabled: boolean;
  click?: () => void;
  separator?: boolean;
}

export interface TrayPort {
  setStatus(status: AppStatus): void;
  setToolTip(text: string): void;
  setMenu(items: TrayMenuItem[]): void;
}

export interface TrayActions {
  show(): void;
  showActivity(): void;
  pauseAll(): void;
  resumeAll(): void;
  quit(): void;
}

export class TrayController {
  private readonly jobs = new Map<number, JobView>();
  private status: AppStatus | null = null;
  private tooltip = '';

  constructor(
    private readonly tray: TrayPort,
    private readonly actions: TrayActions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The jobs known at start (jobs.list), then every update. */
  seed(jobs: JobView[]): void {
    for (const j of jobs) this.jobs.set(j.id, j);
    this.render(true);
  }

  onUpdate(u: JobsUpdate): void {
    for (const j of u.jobs) this.jobs.set(j.id, j);
    this.render(false);
  }

  current(): AppStatus {
    return appStatusOf([...this.jobs.values()], this.now());
  }

  private render(force: boolean): void {
    const all = [...this.jobs.values()];
    const status = appStatusOf(all, this.now());
    const running = all.filter((j) => j.running);
    const paused = all.filter((j) => !j.running && j.kind !== 'dry-run' && !ENDED_JOB_STATES.has(j.state));
    const tooltip = tooltipOf(status, running, all);
    if (!force && status === this.status && tooltip === this.tooltip) return;
    if (force || status !== this.status) this.tray.setStatus(status);
    if (force || tooltip !== this.tooltip) this.tray.setToolTip(tooltip);
    this.tray.setMenu([
      { label: 'Show Beamdrop', enabled: true, click: this.actions.show },
      {
        label: status === 'attention' ? 'Show what needs attention' : 'Show activity',
        enabled: true,
        click: this.actions.showActivity,
      },
      { label: '', enabled: false, separator: true },
      {
        label: `Pause all${running.length ? ` (${running.length})` : ''}`,
        enabled: running.length > 0,
        click: this.actions.pauseAll,
      },
      {
        label: `Resume all${paused.length ? ` (${paused.length})` : ''}`,
        enabled: paused.length > 0,
        click: this.actions.resumeAll,
      },
      { label: '', enabled: false, separator: true },
      { label: 'Quit Beamdrop', enabled: true, click: this.actions.quit },
    ]);
    this.status = status;
    this.tooltip = tooltip;
  }
}

function tooltipOf(status: AppStatus, running: JobView[], all: JobView[]): string {
  if (status === 'attention') {
    const n = all.filter((j) => j.attention).length;
    return `Beamdrop — ${n} dataset${n === 1 ? '' : 's'} need${n === 1 ? 's' : ''} attention`;
  }
  if (status === 'uploading') {
    const done = running.reduce((s, j) => s + j.filesDone, 0);
    const total = running.reduce((s, j) => s + j.filesTotal, 0);
    return `Beamdrop — uploading ${running.length} dataset${running.length === 1 ? '' : 's'} (${done} of ${total} files)`;
  }
  return 'Beamdrop — idle';
}
