// The Activity screen's state outside React: every job's view, and for the selected job the pages
// of its file table that are on screen. A `jobs.update` (≤ 10/s from main) first re-reads the
// visible rows, then publishes jobs and rows together: one React commit per update, however many
// files changed. Page fetches never overlap; updates arriving meanwhile are merged into the next.
import type { FileRow, JobView, JobsUpdate } from '../../../shared/app-model.js';
import type { FileState } from '../../../shared/model.js';
import type { ApiClient } from '../../api-client.js';

export const PAGE_SIZE = 100;
/** Pages kept around the visible ones, so a short scroll back needs no fetch. */
const KEEP_PAGES = 3;

export interface ActivitySnapshot {
  jobs: readonly JobView[];
  selected: number | null;
  filter: readonly FileState[];
  total: number;
  pages: ReadonlyMap<number, readonly FileRow[]>;
  /** Set when the first page of the selected job arrived (for focus and first paint). */
  loaded: boolean;
}

export class ActivityStore {
  private jobs = new Map<number, JobView>();
  private snapshot: ActivitySnapshot = { jobs: [], selected: null, filter: [], total: 0, pages: new Map(), loaded: false };
  private readonly listeners = new Set<() => void>();
  private pages = new Map<number, readonly FileRow[]>();
  private readonly fetching = new Set<number>();
  private visible: [number, number] = [0, 0];
  private inFlight = false;
  private again = false;
  private generation = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly client: ApiClient) {}

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.client.on('jobs.update', (u) => this.onUpdate(u));
    void this.client
      .call('jobs.list', { limit: 200 })
      .then((list) => {
        for (const j of list) if (!this.jobs.has(j.id)) this.jobs.set(j.id, j);
        this.publish();
      })
      .catch((e: unknown) => this.client.log('warn', `jobs.list failed: ${(e as Error).message}`));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };

  getSnapshot = (): ActivitySnapshot => this.snapshot;

  select(jobId: number | null): void {
    if (jobId === this.snapshot.selected) return;
    this.resetTable(jobId, this.snapshot.filter);
  }

  setFilter(filter: FileState[]): void {
    this.resetTable(this.snapshot.selected, filter);
  }

  /** The virtualiser tells which rows are on screen; missing pages are fetched. */
  setVisibleRows(first: number, last: number): void {
    const range: [number, number] = [Math.floor(first / PAGE_SIZE), Math.floor(Math.max(first, last) / PAGE_SIZE)];
    if (range[0] === this.visible[0] && range[1] === this.visible[1]) return;
    this.visible = range;
    this.fetchMissing();
  }

  /** A job view changed elsewhere (pause, resume answers). */
  putJob(j: JobView): void {
    this.jobs.set(j.id, j);
    this.refresh();
  }

  private resetTable(selected: number | null, filter: readonly FileState[]): void {
    this.generation++;
    this.pages = new Map();
    this.fetching.clear();
    this.visible = [0, 0];
    this.snapshot = { ...this.snapshot, selected, filter, total: 0, pages: this.pages, loaded: false };
    this.emit();
    this.refresh();
  }

  private onUpdate(u: JobsUpdate): void {
    for (const j of u.jobs) this.jobs.set(j.id, j);
    const selected = this.snapshot.selected;
    if (selected !== null && u.jobs.some((j) => j.id === selected)) this.refresh();
    else this.publish();
  }

  private visiblePages(): number[] {
    const out: number[] = [];
    for (let p = this.visible[0]; p <= this.visible[1]; p++) out.push(p);
    return out;
  }

  /**
   * Pages scrolled into view are fetched at once, beside a refresh that may be in flight: a jump
   * to row 50,000 must not wait for the periodic re-read of the old rows. A page a refresh filled
   * meanwhile is newer and is kept.
   */
  private fetchMissing(): void {
    const jobId = this.snapshot.selected;
    const missing = this.visiblePages().filter((p) => !this.pages.has(p) && !this.fetching.has(p));
    if (jobId === null || !missing.length) return;
    const generation = this.generation;
    const filter = [...this.snapshot.filter];
    for (const p of missing) this.fetching.add(p);
    Promise.all(
      missing.map((p) => this.client.call('jobs.files', { jobId, states: filter, offset: p * PAGE_SIZE, limit: PAGE_SIZE })),
    )
      .then((results) => {
        if (generation !== this.generation) return;
        const pages = new Map(this.pages);
        results.forEach((r, i) => {
          if (!pages.has(missing[i]!)) pages.set(missing[i]!, r.rows);
        });
        this.pages = pages;
        this.publish({ total: results.at(-1)?.total ?? this.snapshot.total, pages, loaded: true });
      })
      .catch((e: unknown) => this.client.log('warn', `jobs.files failed: ${(e as Error).message}`, { jobId }))
      .finally(() => {
        for (const p of missing) this.fetching.delete(p);
      });
  }

  /** Re-reads the visible pages of the selected job, then publishes everything at once. */
  private refresh(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    const jobId = this.snapshot.selected;
    if (jobId === null) {
      this.publish();
      return;
    }
    this.inFlight = true;
    const generation = this.generation;
    const filter = [...this.snapshot.filter];
    const wanted = this.visiblePages();
    Promise.all(
      wanted.map((p) => this.client.call('jobs.files', { jobId, states: filter, offset: p * PAGE_SIZE, limit: PAGE_SIZE })),
    )
      .then((results) => {
        if (generation !== this.generation) return;
        const pages = new Map<number, readonly FileRow[]>();
        for (const [p, rows] of this.pages) if (Math.abs(p - this.visible[0]) <= KEEP_PAGES) pages.set(p, rows);
        let total = this.snapshot.total;
        results.forEach((r, i) => {
          pages.set(wanted[i]!, r.rows);
          total = r.total;
        });
        this.pages = pages;
        this.publish({ total, pages, loaded: true });
      })
      .catch((e: unknown) => this.client.log('warn', `jobs.files failed: ${(e as Error).message}`, { jobId }))
      .finally(() => {
        this.inFlight = false;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  private publish(patch: Partial<ActivitySnapshot> = {}): void {
    const jobs = [...this.jobs.values()].sort((a, b) => b.id - a.id);
    this.snapshot = { ...this.snapshot, jobs, ...patch };
    this.emit();
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}
