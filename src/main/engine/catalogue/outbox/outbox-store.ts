// The outbox tables of the journal (migration 003): registrations, their queued files and the
// blocks those files were sent in. Every call is one small synchronous transaction, so what the
// worker is about to do is on disk before it does it, and what the catalogue answered is on disk
// before the next step. A registration's request is parsed with its schema when its row is read
// (and checked when written), so a row another version wrote differently is an error naming it.
import type { Statement } from 'better-sqlite3';
import { BeamdropError, type ErrorInfo } from '../../../../shared/errors.js';
import { datasetLabel, type RegistrationState, type RegistrationStatus } from '../../../../shared/model.js';
import type { Journal } from '../../journal/journal.js';
import type { DatasetRef } from '../catalogue-adapter.js';
import { storedRequest, toReg, type QueuedFile, type RegRow, type Registration } from './outbox-rows.js';
import { describedBy, idempotencyKey, legacyKey, noVisitKey, type RegistrationRequest } from './registration-request.js';

export type { QueuedFile, Registration } from './outbox-rows.js';

const FILE_COLUMNS =
  'id, file_id AS fileId, relpath, size, sha256, mtime_ms AS mtimeMs, storage_uri AS storageUri, queued_at AS queuedAt';

export class OutboxStore {
  private readonly statements = new Map<string, Statement<unknown[]>>();

  constructor(
    private readonly journal: Journal,
    private readonly now: () => number = Date.now,
  ) {}

  private get db() {
    return this.journal.connectionForStores();
  }

  /** Prepared once: the same few statements run for every queued file. */
  private sql(text: string): Statement<unknown[]> {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare<unknown[]>(text);
      this.statements.set(text, st);
    }
    return st;
  }

  /**
   * The key a new job of this dataset registers under. A dataset registered before visits were part
   * of the key keeps the key it was registered with (the catalogue finds its record by it), and
   * no other dataset takes that key over: the old key ignored the visit, so it may be held by a
   * dataset of the same name and proposal with a visit, which a dataset without one must not join.
   */
  keyFor(catalogue: string, id: { proposal: string | null; visit: string | null; name: string }): string {
    const proposal = id.proposal || null;
    const visit = id.visit || null;
    const legacy = legacyKey(catalogue, proposal, id.name);
    const old = this.sql(`SELECT json_extract(request, '$.visit') AS visit FROM registrations WHERE idem_key = ?`).get(legacy) as
      { visit: string | null } | undefined;
    const oldVisit = old ? old.visit || null : undefined;
    if (visit) {
      const own = idempotencyKey(catalogue, proposal, id.name, visit);
      if (this.sql('SELECT 1 FROM registrations WHERE idem_key = ?').get(own)) return own;
      return oldVisit === visit ? legacy : own;
    }
    return oldVisit === undefined || oldVisit === null ? legacy : noVisitKey(catalogue, proposal, id.name);
  }

  /**
   * Finds the registration of this key or creates it. An existing one keeps its request: a resumed
   * job must not undo metadata fixed with `catalogue retry` (a rerun that changes -p revises it
   * explicitly, see `retry`). A registration of another dataset is never joined: a job that
   * stored such a key (one started before visits were part of the key) is refused.
   */
  ensure(catalogue: string, key: string, request: RegistrationRequest): Registration {
    const t = this.now();
    this.sql(
      `INSERT INTO registrations (catalogue, dataset, proposal, idem_key, request, state, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (idem_key) DO NOTHING`,
    ).run(catalogue, request.dataset, request.proposal, key, storedRequest(request), t, t);
    const reg = this.byKey(key)!;
    const ours =
      reg.catalogue === catalogue &&
      reg.dataset === request.dataset &&
      (reg.proposal || null) === (request.proposal || null) &&
      (reg.visit || null) === (request.visit || null);
    if (!ours)
      throw new BeamdropError({
        code: 'job-state',
        retryable: false,
        dataset: request.dataset,
        field: 'catalogue.key',
        message: `the registration ${key} in ${reg.catalogue} belongs to dataset ${datasetLabel({ name: reg.dataset, proposal: reg.proposal, visit: reg.visit })}, not to ${datasetLabel({ name: request.dataset, proposal: request.proposal, visit: request.visit })}: this job was started before Beamdrop told datasets of the same name apart by their visit. Start the upload (or watch) again with --new-job: the dataset gets a registration of its own, and files already at the destination are not sent again.`,
      });
    return reg;
  }

  byKey(key: string): Registration | null {
    const r = this.sql('SELECT * FROM registrations WHERE idem_key = ?').get(key) as RegRow | undefined;
    return r ? toReg(r) : null;
  }

  get(id: number): Registration | null {
    const r = this.sql('SELECT * FROM registrations WHERE id = ?').get(id) as RegRow | undefined;
    return r ? toReg(r) : null;
  }

  /**
   * Every registration of a catalogue, or of one dataset: a bare name matches every proposal and
   * visit; a proposal or visit given (null: none) narrows it.
   */
  list(filter: { catalogue?: string; dataset?: string; proposal?: string | null; visit?: string | null } = {}): Registration[] {
    const rows = this.sql(
      `SELECT * FROM registrations WHERE (? IS NULL OR catalogue = ?) AND (? IS NULL OR dataset = ?)
       AND (? = 0 OR ifnull(proposal, '') = ?) AND (? = 0 OR ifnull(json_extract(request, '$.visit'), '') = ?) ORDER BY id`,
    ).all(
      filter.catalogue ?? null,
      filter.catalogue ?? null,
      filter.dataset ?? null,
      filter.dataset ?? null,
      filter.proposal === undefined ? 0 : 1,
      filter.proposal ?? '',
      filter.visit === undefined ? 0 : 1,
      filter.visit ?? '',
    ) as RegRow[];
    return rows.map(toReg);
  }

  /** Paths of a registration that the catalogue confirmed (in blocks marked sent). */
  sentPaths(registrationId: number): Set<string> {
    const rows = this.sql(
      `SELECT f.relpath FROM registration_files f JOIN registration_blocks b ON b.id = f.block_id WHERE f.registration_id = ? AND b.state = 'sent'`,
    ).all(registrationId) as { relpath: string }[];
    return new Set(rows.map((r) => r.relpath));
  }

  /** Registrations the worker should look at now (not waiting for the operator). */
  due(catalogue: string, at: number): Registration[] {
    return (
      this.sql(
        `SELECT * FROM registrations WHERE catalogue = ? AND state IN ('pending', 'waiting-login') AND next_at <= ? ORDER BY next_at, id`,
      ).all(catalogue, at) as RegRow[]
    ).map(toReg);
  }

  /** The earliest moment something of this catalogue becomes due (for the worker's sleep). */
  nextDueAt(catalogue: string): number | null {
    const r = this.sql(
      `SELECT MIN(next_at) AS at FROM registrations WHERE catalogue = ? AND state IN ('pending', 'waiting-login')`,
    ).get(catalogue) as { at: number | null };
    return r.at;
  }

  /**
   * Queues one verified file; the same path twice is kept once (a resumed job, a rerun). Returns
   * true when the registration went from settled to pending, i.e. the worker should look now.
   */
  queueFile(registrationId: number, f: Omit<QueuedFile, 'id' | 'queuedAt'>): boolean {
    const t = this.now();
    const info = this.sql(
      `INSERT INTO registration_files (registration_id, file_id, relpath, size, sha256, mtime_ms, storage_uri, queued_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (registration_id, relpath) DO NOTHING`,
    ).run(registrationId, f.fileId, f.relpath, f.size, f.sha256, f.mtimeMs, f.storageUri, t);
    if (info.changes) {
      // More files for a finished dataset: it is open again until this job (or session) finishes
      // it. finished_at stays until the worker has reopened it in the catalogue, before its files.
      return (
        this.sql(
          `UPDATE registrations SET state = 'pending', finish_wanted = 0, next_at = 0, updated_at = ? WHERE id = ? AND state IN ('open', 'registered')`,
        ).run(t, registrationId).changes > 0
      );
    } else {
      const old = this.sql('SELECT sha256 FROM registration_files WHERE registration_id = ? AND relpath = ?').get(
        registrationId,
        f.relpath,
      ) as { sha256: string };
      // Never re-register a path with other content behind the catalogue's back: leave a trace.
      if (old.sha256 !== f.sha256)
        this.journal.event(null, f.fileId, 'catalogue-file-differs', {
          registrationId,
          relpath: f.relpath,
          registered: old.sha256,
          now: f.sha256,
        });
      return false;
    }
  }

  /** What waits to be sent, from the index alone (the worker asks this often). */
  unsentInfo(registrationId: number): { unsent: number; oldestUnsentAt: number | null; newestUnsentAt: number | null } {
    return this.sql(
      'SELECT COUNT(*) AS unsent, MIN(queued_at) AS oldestUnsentAt, MAX(queued_at) AS newestUnsentAt FROM registration_files WHERE registration_id = ? AND block_id IS NULL',
    ).get(registrationId) as { unsent: number; oldestUnsentAt: number | null; newestUnsentAt: number | null };
  }

  unsent(registrationId: number, limit: number): QueuedFile[] {
    return this.sql(
      `SELECT ${FILE_COLUMNS} FROM registration_files WHERE registration_id = ? AND block_id IS NULL ORDER BY id LIMIT ?`,
    ).all(registrationId, limit) as QueuedFile[];
  }

  counts(registrationId: number): {
    queued: number;
    sent: number;
    unsent: number;
    oldestUnsentAt: number | null;
    newestUnsentAt: number | null;
  } {
    return this.sql(
      `SELECT COUNT(*) AS queued,
              COALESCE(SUM(b.state = 'sent'), 0) AS sent,
              COALESCE(SUM(f.block_id IS NULL), 0) AS unsent,
              MIN(CASE WHEN f.block_id IS NULL THEN f.queued_at END) AS oldestUnsentAt,
              MAX(CASE WHEN f.block_id IS NULL THEN f.queued_at END) AS newestUnsentAt
       FROM registration_files f LEFT JOIN registration_blocks b ON b.id = f.block_id WHERE f.registration_id = ?`,
    ).get(registrationId) as {
      queued: number;
      sent: number;
      unsent: number;
      oldestUnsentAt: number | null;
      newestUnsentAt: number | null;
    };
  }

  /** Written before the catalogue is called: these files are now "being sent in block N". */
  openBlock(registrationId: number, fileIds: number[]): number {
    return this.db.transaction(() => {
      const id = Number(
        this.sql(`INSERT INTO registration_blocks (registration_id, state, files, created_at) VALUES (?, 'sending', ?, ?)`).run(
          registrationId,
          fileIds.length,
          this.now(),
        ).lastInsertRowid,
      );
      const set = this.sql('UPDATE registration_files SET block_id = ? WHERE id = ? AND block_id IS NULL');
      for (const f of fileIds) set.run(id, f);
      return id;
    })();
  }

  /** Blocks whose outcome is unknown: the process stopped or the call failed after they were opened. */
  sendingBlocks(registrationId: number): { id: number; files: QueuedFile[] }[] {
    const blocks = this.sql(`SELECT id FROM registration_blocks WHERE registration_id = ? AND state = 'sending' ORDER BY id`).all(
      registrationId,
    ) as { id: number }[];
    return blocks.map((b) => ({
      id: b.id,
      files: this.sql(`SELECT ${FILE_COLUMNS} FROM registration_files WHERE block_id = ? ORDER BY id`).all(b.id) as QueuedFile[],
    }));
  }

  /**
   * Settles an uncertain block: files the catalogue already lists stay in it (now 'sent'); the
   * others go back to the queue and are sent again in a new block.
   */
  settleBlock(blockId: number, registered: Set<string>): void {
    this.db.transaction(() => {
      const files = this.sql('SELECT id, relpath FROM registration_files WHERE block_id = ?').all(blockId) as {
        id: number;
        relpath: string;
      }[];
      const back = this.sql('UPDATE registration_files SET block_id = NULL WHERE id = ?');
      let kept = 0;
      for (const f of files) {
        if (registered.has(f.relpath)) kept++;
        else back.run(f.id);
      }
      if (kept) this.markBlockSent(blockId, kept);
      else this.sql('DELETE FROM registration_blocks WHERE id = ?').run(blockId);
    })();
  }

  /** The catalogue confirmed the block; journal files that were `verified` become `registered`. */
  blockSent(blockId: number): void {
    this.db.transaction(() => this.markBlockSent(blockId, null))();
  }

  private markBlockSent(blockId: number, files: number | null): void {
    this.sql(`UPDATE registration_blocks SET state = 'sent', sent_at = ?, files = COALESCE(?, files) WHERE id = ?`).run(
      this.now(),
      files,
      blockId,
    );
    const ids = this.sql('SELECT file_id FROM registration_files WHERE block_id = ? AND file_id IS NOT NULL').all(blockId) as {
      file_id: number;
    }[];
    for (const { file_id } of ids) {
      const f = this.journal.file(file_id);
      if (f?.state === 'verified') this.journal.setFileState(file_id, 'registered');
    }
  }

  /** Files the catalogue turned out not to have (reconcile): queue them again (a finished dataset is reopened first). */
  requeue(registrationId: number, relpaths: string[]): void {
    this.db.transaction(() => {
      const back = this.sql(
        'UPDATE registration_files SET block_id = NULL, queued_at = ? WHERE registration_id = ? AND relpath = ?',
      );
      for (const r of relpaths) back.run(this.now(), registrationId, r);
      this.sql(`UPDATE registrations SET state = 'pending', next_at = 0, updated_at = ? WHERE id = ?`).run(
        this.now(),
        registrationId,
      );
    })();
  }

  setRemote(id: number, ref: DatasetRef): void {
    this.sql('UPDATE registrations SET remote_id = ?, remote_extra = ?, updated_at = ? WHERE id = ?').run(
      ref.id,
      ref.extra ? JSON.stringify(ref.extra) : null,
      this.now(),
      id,
    );
  }

  wantFinish(id: number): void {
    this.sql(
      `UPDATE registrations SET finish_wanted = 1, state = CASE WHEN state = 'open' THEN 'pending' ELSE state END, updated_at = ? WHERE id = ?`,
    ).run(this.now(), id);
  }

  finished(id: number): void {
    this.sql('UPDATE registrations SET finished_at = ?, updated_at = ? WHERE id = ?').run(this.now(), this.now(), id);
  }

  /** The catalogue took the dataset back for more files (SciCat not archivable, ICAT complete=false). */
  reopened(id: number): void {
    this.sql('UPDATE registrations SET finished_at = NULL, updated_at = ? WHERE id = ?').run(this.now(), id);
  }

  /**
   * The catalogue holds the description of `request` (created with it, or updated to it): no
   * update waits, unless the request changed again meanwhile.
   */
  described(id: number, request: RegistrationRequest): void {
    this.db.transaction(() => {
      const now = this.get(id);
      if (now && describedBy(now.request) === describedBy(request))
        this.sql('UPDATE registrations SET update_wanted = 0 WHERE id = ?').run(id);
    })();
  }

  /** A new state; success clears the error and the attempt count, a failure keeps both. */
  setState(
    id: number,
    state: RegistrationState,
    opts: { error?: (ErrorInfo & { reason?: string }) | null; nextAt?: number; countAttempt?: boolean } = {},
  ): void {
    this.sql(
      `UPDATE registrations SET state = ?, last_error = CASE WHEN ? THEN ? ELSE last_error END,
         attempts = CASE WHEN ? THEN attempts + 1 WHEN ? THEN 0 ELSE attempts END, next_at = ?, updated_at = ? WHERE id = ?`,
    ).run(
      state,
      opts.error !== undefined ? 1 : 0,
      opts.error ? JSON.stringify(opts.error) : null,
      opts.countAttempt ? 1 : 0,
      opts.error === null ? 1 : 0,
      opts.nextAt ?? 0,
      this.now(),
      id,
    );
  }

  /**
   * The operator fixed something (metadata, login, profile): try again now. A request whose
   * description changed is sent to the catalogue as an update once the dataset exists there.
   */
  retry(id: number, request?: RegistrationRequest): void {
    this.db.transaction(() => {
      const before = request ? this.get(id) : null;
      const changed = before !== null && request !== undefined && describedBy(before.request) !== describedBy(request);
      this.sql(
        `UPDATE registrations SET state = 'pending', next_at = 0, attempts = 0, request = COALESCE(?, request),
           update_wanted = CASE WHEN ? THEN 1 ELSE update_wanted END, updated_at = ? WHERE id = ?`,
      ).run(request ? storedRequest(request) : null, changed ? 1 : 0, this.now(), id);
    })();
  }

  /** Every registration's dataset identity and key, read without parsing the requests (the local catalogue's backfill). */
  identities(): { key: string; catalogue: string; dataset: string; proposal: string | null; visit: string | null }[] {
    return this.sql(
      `SELECT idem_key AS key, catalogue, dataset, proposal, NULLIF(json_extract(request, '$.visit'), '') AS visit FROM registrations WHERE json_valid(request) ORDER BY id`,
    ).all() as { key: string; catalogue: string; dataset: string; proposal: string | null; visit: string | null }[];
  }

  /**
   * Takes or renews the right to send to this catalogue for `ms`. Another live holder keeps it;
   * a holder whose process is gone (killed) loses it at once instead of when it expires.
   */
  lease(catalogue: string, owner: string, ms: number): boolean {
    return this.db
      .transaction(() => {
        const t = this.now();
        const cur = this.sql('SELECT owner, pid, expires_at AS expiresAt FROM outbox_leases WHERE catalogue = ?').get(
          catalogue,
        ) as { owner: string; pid: number; expiresAt: number } | undefined;
        if (cur && cur.owner !== owner && cur.expiresAt > t && processAlive(cur.pid)) return false;
        this.sql(
          'INSERT INTO outbox_leases (catalogue, owner, pid, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (catalogue) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, expires_at = excluded.expires_at',
        ).run(catalogue, owner, process.pid, t + ms);
        return true;
      })
      .immediate();
  }

  releaseLease(catalogue: string, owner: string): void {
    this.sql('DELETE FROM outbox_leases WHERE catalogue = ? AND owner = ?').run(catalogue, owner);
  }

  status(r: Registration): RegistrationStatus {
    const c = this.counts(r.id);
    return {
      dataset: r.dataset,
      proposal: r.proposal,
      visit: r.visit,
      catalogue: r.catalogue,
      state: r.state,
      remoteId: r.remote?.id ?? null,
      filesQueued: c.queued,
      filesRegistered: c.sent,
      lastError: r.lastError,
      nextAttemptAt: r.state === 'pending' && r.nextAt > this.now() ? r.nextAt : null,
      finished: r.finishedAt !== null,
      updatedAt: r.updatedAt,
    };
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
