// The journal side of sync mode: what was observed becomes file rows (discovered → stable → …),
// and the pending work is read back from the journal in small pages, so the backlog of a fast
// acquisition grows on disk and never in memory. Uses the journal's connection for stores
// (Journal.connectionForStores) with its own prepared statements; the file states themselves still go through Journal.setFileState so
// that every change lands in the event log as it does for batch jobs.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Statement } from 'better-sqlite3';
import type { ErrorInfo } from '../../../shared/errors.js';
import type { FileState } from '../../../shared/model.js';
import type { Journal } from '../journal/journal.js';
import type { Observation } from './tree-state.js';
import { versionedRelpath } from './versions.js';

export interface SyncRow {
  id: number;
  path: string;
  relpath: string;
  size: number;
  mtimeMs: number;
  state: FileState;
  seenAt: number | null;
  checkAt: number | null;
  version: number;
  versionOf: number | null;
  deletedAt: number | null;
  errorCode: string | null;
}

export type ObserveEffect =
  | { kind: 'new' | 'requeued'; id: number; relpath: string }
  | { kind: 'version'; id: number; relpath: string; previous: string }
  | { kind: 'flagged'; id: number; relpath: string; error: ErrorInfo }
  | { kind: 'collision'; relpath: string; path: string };

export type DeleteEffect = { kind: 'deleted-before-upload' | 'deleted-locally'; id: number; relpath: string };

const COLUMNS = `id, path, relpath, size, mtime_ms AS mtimeMs, state, seen_at AS seenAt, check_at AS checkAt,
  version, version_of AS versionOf, deleted_at AS deletedAt, json_extract(last_error, '$.code') AS errorCode`;

const STORED: ReadonlySet<FileState> = new Set(['verified', 'registered', 'skipped']);

export class SyncLedger {
  private readonly statements = new Map<string, Statement<unknown[]>>();

  constructor(
    private readonly journal: Journal,
    readonly jobId: number,
  ) {}

  private get db() {
    return this.journal.connectionForStores();
  }

  private sql(text: string): Statement<unknown[]> {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare<unknown[]>(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /** Latest version of each file not known deleted: what a resumed watcher compares with. */
  knownFiles(): Map<string, { size: number; mtimeMs: number }> {
    const out = new Map<string, { size: number; mtimeMs: number }>();
    const rows = this.sql(
      `SELECT path, size, mtime_ms AS mtimeMs, deleted_at AS deletedAt FROM files WHERE job_id = ? ORDER BY path, version`,
    ).iterate(this.jobId) as Iterable<{ path: string; size: number; mtimeMs: number; deletedAt: number | null }>;
    for (const r of rows) {
      if (r.deletedAt === null) out.set(r.path, { size: r.size, mtimeMs: r.mtimeMs });
      else out.delete(r.path);
    }
    return out;
  }

  /**
   * The newest version of the file at `filePath` (whose first version has `relpath`), or null when
   * that relpath belongs to another file. Found through the relpath's unique index and the small
   * index of versions, so no index on paths has to be kept up to date for every new file.
   */
  latest(filePath: string, relpath: string): SyncRow | null {
    const first = this.sql(`SELECT ${COLUMNS} FROM files WHERE job_id = ? AND relpath = ?`).get(this.jobId, relpath) as
      SyncRow | undefined;
    if (!first || first.path !== filePath || first.versionOf !== null) return null;
    const newest = this.sql(`SELECT ${COLUMNS} FROM files WHERE version_of = ? ORDER BY version DESC LIMIT 1`).get(first.id) as
      SyncRow | undefined;
    return newest ?? first;
  }

  row(id: number): SyncRow | null {
    return (this.sql(`SELECT ${COLUMNS} FROM files WHERE id = ?`).get(id) as SyncRow | undefined) ?? null;
  }

  private setTimes(
    id: number,
    patch: { size?: number; mtimeMs?: number; seenAt?: number; checkAt?: number; deletedAt?: number | null },
  ): void {
    const sets: string[] = [];
    const args: unknown[] = [];
    if (patch.size !== undefined) {
      sets.push('size = ?');
      args.push(patch.size);
    }
    if (patch.mtimeMs !== undefined) {
      sets.push('mtime_ms = ?');
      args.push(patch.mtimeMs);
    }
    if (patch.seenAt !== undefined) {
      sets.push('seen_at = ?');
      args.push(patch.seenAt);
    }
    if (patch.checkAt !== undefined) {
      sets.push('check_at = ?');
      args.push(patch.checkAt);
    }
    if (patch.deletedAt !== undefined) {
      sets.push('deleted_at = ?');
      args.push(patch.deletedAt);
    }
    if (sets.length) this.sql(`UPDATE files SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
  }

  /** Back to `discovered` with a new observation: the quiet period starts again from `at`. */
  requeue(
    id: number,
    at: number,
    checkAt: number,
    current?: { size: number; mtimeMs: number },
    error: ErrorInfo | null = null,
  ): void {
    this.db.transaction(() => {
      this.journal.setFileState(id, 'discovered', {
        error,
        sha256: null,
        ...(current ? { size: current.size, mtimeMs: current.mtimeMs } : {}),
      });
      this.setTimes(id, { seenAt: at, checkAt, deletedAt: null });
    })();
  }

  /** The size or mtime moved while the file waited: record it and count the quiet period from now. */
  restartQuiet(id: number, current: { size: number; mtimeMs: number }, at: number, checkAt: number): void {
    this.setTimes(id, { size: current.size, mtimeMs: current.mtimeMs, seenAt: at, checkAt });
  }

  recheckAt(id: number, checkAt: number): void {
    this.setTimes(id, { checkAt });
  }

  /** Complete: queued for transfer, in the order files became complete. */
  markStable(id: number, at: number): void {
    this.db.transaction(() => {
      this.journal.setFileState(id, 'stable', { error: null });
      this.setTimes(id, { checkAt: at });
    })();
  }

  private insert(
    o: Observation,
    at: number,
    checkAt: number,
    version = 1,
    versionOf: number | null = null,
    relpath = o.relpath,
  ): number | null {
    const r = this.sql(
      `INSERT INTO files (job_id, path, relpath, size, mtime_ms, state, updated_at, seen_at, check_at, version, version_of)
       VALUES (?, ?, ?, ?, ?, 'discovered', ?, ?, ?, ?, ?) ON CONFLICT (job_id, relpath) DO NOTHING`,
    ).run(this.jobId, o.path, relpath, o.size, o.mtimeMs, at, at, checkAt, version, versionOf);
    return r.changes ? Number(r.lastInsertRowid) : null;
  }

  private relpathTaken(relpath: string): boolean {
    return this.sql('SELECT 1 FROM files WHERE job_id = ? AND relpath = ?').get(this.jobId, relpath) !== undefined;
  }

  /** A stored file's new content becomes version N+1 beside it, under a name no file uses. */
  private newVersion(row: SyncRow, o: Observation, at: number, checkAt: number): ObserveEffect {
    const firstId = row.versionOf ?? row.id;
    const base = row.versionOf === null ? row.relpath : (this.row(firstId)?.relpath ?? row.relpath);
    let version = row.version + 1;
    let relpath = versionedRelpath(base, version);
    while (this.relpathTaken(relpath) || existsSync(path.join(path.dirname(o.path), path.posix.basename(relpath))))
      relpath = versionedRelpath(base, ++version);
    const id = this.insert(o, at, checkAt, version, firstId, relpath)!;
    this.journal.event(this.jobId, row.id, 'file-changed-after-upload', {
      newVersion: version,
      relpath,
      size: o.size,
      mtimeMs: o.mtimeMs,
    });
    return { kind: 'version', id, relpath, previous: row.relpath };
  }

  /**
   * Journals what the folders showed. `quietMs`: the quiet period at a relpath, counted from `at`.
   * Rows being transferred are left alone: the transfer re-checks the file itself.
   */
  observe(list: Observation[], at: number, quietMs: (relpath: string) => number, onChange: 'version' | 'flag'): ObserveEffect[] {
    const effects: ObserveEffect[] = [];
    this.db.transaction(() => {
      for (const o of list) {
        const checkAt = at + quietMs(o.relpath);
        // Most observations are new files: one insert, and a lookup only when the name is taken.
        const id = this.insert(o, at, checkAt);
        if (id !== null) {
          effects.push({ kind: 'new', id, relpath: o.relpath });
          continue;
        }
        const row = this.latest(o.path, o.relpath);
        if (!row) {
          effects.push({ kind: 'collision', relpath: o.relpath, path: o.path });
          continue;
        }
        const same = row.size === o.size && row.mtimeMs === o.mtimeMs;
        // Deleted before it was ever stored, and back: it is simply queued again.
        const neverStored =
          row.state === 'discovered' ||
          row.state === 'stable' ||
          row.state === 'failed' ||
          (row.state === 'skipped' && row.errorCode === 'vanished');
        if (row.deletedAt !== null && neverStored) {
          this.requeue(row.id, at, checkAt, o);
          effects.push({ kind: 'requeued', id: row.id, relpath: row.relpath });
          continue;
        }
        if (row.deletedAt !== null) this.setTimes(row.id, { deletedAt: null });
        if (same) continue;
        switch (row.state) {
          case 'discovered':
            this.restartQuiet(row.id, o, at, checkAt);
            break;
          case 'stable':
          case 'failed':
            this.requeue(row.id, at, checkAt, o);
            effects.push({ kind: 'requeued', id: row.id, relpath: row.relpath });
            break;
          case 'verified':
          case 'registered':
          case 'skipped':
            if (onChange === 'version') {
              effects.push(this.newVersion(row, o, at, checkAt));
              break;
            }
            effects.push(this.flag(row, o));
            break;
          default:
            // transferring / uploaded: the transfer in flight (or resumed) checks the file again;
            // `changed` was flagged already and stays as it is.
            break;
        }
      }
    })();
    return effects;
  }

  private flag(row: SyncRow, o: Observation): ObserveEffect {
    const error: ErrorInfo = {
      code: 'conflict',
      retryable: false,
      file: row.relpath,
      message: `${row.relpath} changed after it was uploaded (now ${o.size} bytes); the stored copy was kept and the new content was not uploaded (sync.onChange: flag). Upload it under another name if it is needed.`,
    };
    this.journal.setFileState(row.id, 'changed', { error });
    this.journal.event(this.jobId, row.id, 'file-changed-after-upload', { flagged: true, size: o.size, mtimeMs: o.mtimeMs });
    return { kind: 'flagged', id: row.id, relpath: row.relpath, error };
  }

  /** Local deletions: noted, never propagated; a file not uploaded yet is dropped from the queue. */
  deleted(files: { path: string; relpath: string }[], at: number): DeleteEffect[] {
    const effects: DeleteEffect[] = [];
    this.db.transaction(() => {
      for (const f of files) {
        const row = this.latest(f.path, f.relpath);
        if (!row || row.deletedAt !== null) continue;
        if (row.state === 'discovered' || row.state === 'stable') {
          this.dropBeforeUpload(row, at);
          effects.push({ kind: 'deleted-before-upload', id: row.id, relpath: row.relpath });
        } else if (row.state !== 'transferring' && row.state !== 'uploaded') {
          this.setTimes(row.id, { deletedAt: at });
          if (STORED.has(row.state) || row.state === 'changed') {
            this.journal.event(this.jobId, row.id, 'file-deleted-locally', { relpath: row.relpath, keptAtDestination: true });
            effects.push({ kind: 'deleted-locally', id: row.id, relpath: row.relpath });
          }
        }
      }
    })();
    return effects;
  }

  /** A file deleted before it was sent: `skipped`, with the reason, and out of every queue. */
  dropBeforeUpload(row: Pick<SyncRow, 'id' | 'relpath' | 'path'>, at: number): void {
    const error: ErrorInfo = {
      code: 'vanished',
      retryable: false,
      file: row.relpath,
      message: `${row.path} was deleted locally before it was complete; nothing was uploaded.`,
    };
    this.db.transaction(() => {
      this.journal.setFileState(row.id, 'skipped', { error });
      this.setTimes(row.id, { deletedAt: at });
    })();
  }

  /** Files waiting for a completeness check that is due. */
  due(now: number, limit: number): SyncRow[] {
    return this.sql(
      `SELECT ${COLUMNS} FROM files WHERE job_id = ? AND state = 'discovered' AND deleted_at IS NULL AND check_at <= ? ORDER BY check_at LIMIT ?`,
    ).all(this.jobId, now, limit) as SyncRow[];
  }

  /** When the next completeness check is due, or null when nothing waits. */
  nextDue(): number | null {
    const r = this.sql(
      `SELECT MIN(check_at) AS t FROM files WHERE job_id = ? AND state = 'discovered' AND deleted_at IS NULL`,
    ).get(this.jobId) as { t: number | null };
    return r.t;
  }

  waiting(limit = -1): SyncRow[] {
    return this.sql(
      `SELECT ${COLUMNS} FROM files WHERE job_id = ? AND state = 'discovered' AND deleted_at IS NULL ORDER BY id LIMIT ?`,
    ).all(this.jobId, limit) as SyncRow[];
  }

  /** The next files to send: interrupted transfers first, then complete files in the order they became complete. */
  nextForTransfer(limit: number, busy: ReadonlySet<number>): SyncRow[] {
    const take = limit + busy.size;
    const resumed = this.sql(
      `SELECT ${COLUMNS} FROM files WHERE job_id = ? AND state IN ('transferring', 'uploaded') AND deleted_at IS NULL ORDER BY id LIMIT ?`,
    ).all(this.jobId, take) as SyncRow[];
    const stable = this.sql(
      `SELECT ${COLUMNS} FROM files WHERE job_id = ? AND state = 'stable' AND deleted_at IS NULL ORDER BY check_at LIMIT ?`,
    ).all(this.jobId, take) as SyncRow[];
    return [...resumed, ...stable].filter((r) => !busy.has(r.id)).slice(0, limit);
  }

  /** Counts and bytes per state, for the status; deleted files are counted apart. */
  tally(): { state: FileState; deleted: number; versions: number; files: number; bytes: number }[] {
    return this.sql(
      `SELECT state, deleted_at IS NOT NULL AS deleted, SUM(version > 1) AS versions, COUNT(*) AS files, COALESCE(SUM(size), 0) AS bytes
       FROM files WHERE job_id = ? GROUP BY state, deleted_at IS NOT NULL`,
    ).all(this.jobId) as { state: FileState; deleted: number; versions: number; files: number; bytes: number }[];
  }
}
