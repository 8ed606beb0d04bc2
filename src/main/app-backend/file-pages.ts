// Pages of a job's file table for the virtualised view. Filtered by state, the journal's
// (job_id, state) index already runs in id order, so OFFSET is cheap. Unfiltered, OFFSET would
// step over every earlier row (tens of ms deep into 100,000 files, ten times a second), so the
// job's file ids are kept here, sorted, and a page is 100 primary-key lookups. New files (sync)
// only ever get larger ids, so the list grows by appending.
import type { FilePage } from '../../shared/app-model.js';
import type { FileState } from '../../shared/model.js';
import type { Journal } from '../engine/journal/journal.js';
import { fileRow } from './job-views.js';

interface IdList {
  ids: Int32Array;
  length: number;
}

/** Id lists kept (the jobs the operator looked at last); 400 KB per 100,000 files. */
const KEEP_LISTS = 4;

export class FilePages {
  private readonly lists = new Map<number, IdList>();

  constructor(private readonly journal: Journal) {}

  page(jobId: number, states: FileState[], offset: number, limit: number): FilePage {
    const counts = this.journal.counts(jobId);
    const all = Object.values(counts).reduce((n, c) => n + (c ?? 0), 0);
    if (states.length) {
      const total = states.reduce((n, s) => n + (counts[s] ?? 0), 0);
      return { jobId, total, offset, rows: this.journal.files(jobId, { states, limit, offset }).map(fileRow) };
    }
    const list = this.ids(jobId, all);
    const rows = [];
    for (let i = offset; i < Math.min(offset + limit, list.length); i++) {
      const f = this.journal.file(list.ids[i]!);
      if (f) rows.push(fileRow(f));
    }
    return { jobId, total: list.length, offset, rows };
  }

  /** The job's file ids in journal order, brought up to `count` files. */
  private ids(jobId: number, count: number): IdList {
    let list = this.lists.get(jobId);
    if (list && list.length === count) return list;
    if (!list || list.length > count) list = { ids: new Int32Array(Math.max(1024, count)), length: 0 };
    const after = list.length ? list.ids[list.length - 1]! : -1;
    const fresh = this.journal.fileIdsAfter(jobId, after);
    if (list.length + fresh.length > list.ids.length) {
      const grown = new Int32Array(Math.max(list.ids.length * 2, list.length + fresh.length));
      grown.set(list.ids.subarray(0, list.length));
      list.ids = grown;
    }
    list.ids.set(fresh, list.length);
    list.length += fresh.length;
    this.lists.delete(jobId);
    this.lists.set(jobId, list);
    // Map order is insertion order: the first key is the list looked at longest ago.
    if (this.lists.size > KEEP_LISTS) this.lists.delete(this.lists.keys().next().value!);
    return list;
  }
}
