// Sends what the outbox holds to one catalogue: look up or create the dataset (its id is
// journaled at once), settle blocks whose outcome is unknown, send the queued files in blocks,
// and finish the dataset when its job asked for it. Catalogue down → retry with backoff; token
// refused → refresh, else wait for a new sign-in; metadata refused → "needs attention" with the
// server's reason and field. A stoppable loop: every await is followed by a stopped check.
import { randomUUID } from 'node:crypto';
import type { RegistrationStatus } from '../../../../shared/model.js';
import type { CatalogueConfig } from '../../../../shared/profile-catalogue-schema.js';
import type { Journal } from '../../journal/journal.js';
import { backoffDelay } from '../../jobs/classify-error.js';
import type { Clock } from '../../transfer/throttle.js';
import {
  CatalogueError,
  classifyCatalogueError,
  type CatalogueAdapter,
  type CatalogueFileEntry,
  type CatalogueSession,
  type DatasetDraft,
  type DatasetRef,
  type Proposal,
} from '../catalogue-adapter.js';
import { fileFormatOf } from '../file-format.js';
import type { OutboxStore, QueuedFile, Registration } from './outbox-store.js';
import { buildDraft, datasetArgs, type RegistrationRequest } from './registration-request.js';
import type { SessionKeeper } from './session-keeper.js';

export interface OutboxTiming {
  retries: { baseDelayMs: number; maxDelayMs: number };
  /** A partial block waits this long after the last queued file, so fast jobs send full blocks. */
  lingerMs: number;
  /** …but never longer than this after its oldest file (sync sessions with a steady trickle). */
  maxWaitMs: number;
  /** How often a registration waiting for a sign-in looks in the keychain again. */
  loginPollMs: number;
}

export const DEFAULT_TIMING: OutboxTiming = {
  retries: { baseDelayMs: 500, maxDelayMs: 30_000 },
  lingerMs: 2_000,
  maxWaitMs: 120_000,
  loginPollMs: 2_000,
};

export interface OutboxWorkerDeps {
  identity: string;
  config: CatalogueConfig;
  adapter: CatalogueAdapter;
  store: OutboxStore;
  journal: Journal;
  sessions: SessionKeeper;
  clock: Clock;
  timing?: Partial<OutboxTiming>;
  onStatus?: (s: RegistrationStatus) => void;
}

const LEASE_MS = 20_000;

export class OutboxWorker {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private kicked = false;
  private readonly owner = randomUUID();
  private readonly timing: OutboxTiming;
  /** Another process (the app, another upload) is sending to this catalogue right now. */
  leaseHeldElsewhere = false;

  constructor(private readonly d: OutboxWorkerDeps) {
    this.timing = { ...DEFAULT_TIMING, ...d.timing };
  }

  get blockSize(): number {
    const configured = this.d.config.kind === 'scicat' || this.d.config.kind === 'icat' ? this.d.config.blockFiles : Infinity;
    return Math.max(1, Math.min(this.d.adapter.maxBlockFiles, configured));
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Something was queued or a sign-in happened: look now instead of at the next timer. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async dispose(): Promise<void> {
    this.stopped = true;
    this.kick();
    await this.loop;
    this.d.store.releaseLease(this.d.identity, this.owner);
  }

  private async run(): Promise<void> {
    const unsubscribe = this.d.sessions.onLogin(() => this.kick());
    try {
      while (!this.stopped) {
        this.kicked = false;
        const leased = await this.runOnce();
        if (this.stopped || (this.kicked && leased)) continue;
        const next = this.d.store.nextDueAt(this.d.identity);
        // Another process (the app, another upload) sends for now: look again in a while.
        const delay = !leased
          ? LEASE_MS / 10
          : next === null
            ? 30_000
            : Math.min(30_000, Math.max(20, next - this.d.clock.now()));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    } finally {
      unsubscribe();
    }
  }

  /** One pass over every due registration; never throws (problems become registration states). False when another process holds the lease. */
  async runOnce(): Promise<boolean> {
    this.leaseHeldElsewhere = !this.d.store.lease(this.d.identity, this.owner, LEASE_MS);
    if (this.leaseHeldElsewhere) return false;
    for (const reg of this.d.store.due(this.d.identity, this.d.clock.now())) {
      if (this.stopped) return true;
      await this.process(reg);
      this.d.onStatus?.(this.d.store.status(this.d.store.get(reg.id)!));
    }
    return true;
  }

  private async process(initial: Registration): Promise<void> {
    let reg = initial;
    const known = this.d.sessions.current() ?? (await this.d.sessions.reload().catch(() => null));
    if (!known) return this.waitForLogin(reg, null);
    let session: CatalogueSession = known;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.advance(reg, session);
        return;
      } catch (e) {
        const c = classifyCatalogueError(e, this.d.identity);
        if (c.problem === 'needs-login' && attempt === 0) {
          let fresh: CatalogueSession | null;
          try {
            fresh = await this.d.sessions.refresh(session);
          } catch (r) {
            return this.failed(this.d.store.get(reg.id)!, classifyCatalogueError(r, this.d.identity));
          }
          if (fresh) {
            session = fresh;
            reg = this.d.store.get(reg.id)!;
            continue;
          }
          await this.d.sessions.invalidate(session.token).catch(() => undefined);
        }
        return this.failed(this.d.store.get(reg.id)!, c);
      }
    }
  }

  private async advance(initial: Registration, session: CatalogueSession): Promise<void> {
    const { store, adapter } = this.d;
    let reg = initial;
    let draft: DatasetDraft | null = null;
    let ref: DatasetRef | null = reg.remote;
    if (!ref) {
      draft = await this.draftOf(reg, session);
      // Look up before create: a crash after the catalogue created it, but before its id reached
      // the journal, must not make a second dataset.
      const found = await adapter.findDataset(session, draft);
      ref = found ?? (await adapter.createDataset(session, draft));
      store.setRemote(reg.id, ref);
      // Created from the request as it is now; one found again may predate a change, which is sent below.
      if (!found) store.described(reg.id, reg.request);
      this.d.journal.event(null, null, 'catalogue-dataset', { catalogue: this.d.identity, dataset: reg.dataset, id: ref.id });
      if (this.stopped) return;
    }
    reg = store.get(reg.id)!;
    if (reg.updateWanted) {
      // The description changed after the catalogue received it (a rerun with other -p values,
      // `catalogue retry -p`). A catalogue without updates takes it at the finish (ICAT+).
      draft = await this.draftOf(reg, session);
      if (adapter.updateDataset) {
        await adapter.updateDataset(session, ref, draft);
        this.d.journal.event(null, null, 'catalogue-updated', { catalogue: this.d.identity, dataset: reg.dataset, id: ref.id });
      }
      store.described(reg.id, reg.request);
      if (this.stopped) return;
    }
    for (const block of store.sendingBlocks(reg.id)) {
      const have = await adapter.registeredFiles(
        session,
        ref,
        block.files.map((f) => f.relpath),
      );
      store.settleBlock(block.id, have);
      if (this.stopped) return;
    }
    if (reg.finishedAt !== null && store.unsentInfo(reg.id).unsent > 0) {
      // More files for a dataset the catalogue was told is finished: take it back first, so that
      // no archive job takes it (SciCat) and its files may be added (ICAT), then finish it again.
      draft ??= await this.draftOf(reg, session);
      await adapter.reopenDataset?.(session, ref, draft);
      store.reopened(reg.id);
      this.d.journal.event(null, null, 'catalogue-reopened', { catalogue: this.d.identity, dataset: reg.dataset, id: ref.id });
      if (this.stopped) return;
    }
    for (;;) {
      const c = store.unsentInfo(reg.id);
      if (!c.unsent || !this.blockReady(reg, c.unsent, c.oldestUnsentAt, c.newestUnsentAt)) break;
      const files = store.unsent(reg.id, this.blockSize);
      const block = store.openBlock(
        reg.id,
        files.map((f) => f.id),
      );
      await adapter.addFiles(session, ref, files.map(entryOf));
      store.blockSent(block);
      if (this.stopped) return;
      store.lease(this.d.identity, this.owner, LEASE_MS);
    }
    reg = store.get(reg.id)!;
    const c = store.unsentInfo(reg.id);
    if (reg.finishWanted && !c.unsent && reg.finishedAt === null) {
      draft ??= await this.draftOf(reg, session);
      await adapter.finishDataset(session, ref, draft);
      store.finished(reg.id);
      this.d.journal.event(null, null, 'catalogue-finished', { catalogue: this.d.identity, dataset: reg.dataset, id: ref.id });
    }
    if (c.unsent) {
      const lingerUntil = Math.min(
        (c.newestUnsentAt ?? 0) + this.timing.lingerMs,
        (c.oldestUnsentAt ?? 0) + this.timing.maxWaitMs,
      );
      store.setState(reg.id, 'pending', { error: null, nextAt: lingerUntil });
    } else {
      store.setState(reg.id, reg.finishWanted ? 'registered' : 'open', { error: null });
    }
  }

  /** Full blocks go at once; a partial one when the job is finishing or the queue went quiet. */
  private blockReady(reg: Registration, unsent: number, oldest: number | null, newest: number | null): boolean {
    if (unsent >= this.blockSize || reg.finishWanted) return true;
    const now = this.d.clock.now();
    return now - (newest ?? now) >= this.timing.lingerMs || now - (oldest ?? now) >= this.timing.maxWaitMs;
  }

  private async draftOf(reg: Registration, session: CatalogueSession): Promise<DatasetDraft> {
    return buildDraft(reg.key, reg.request, session.user, await this.proposalOf(reg.request, session), this.d.config);
  }

  /** The proposal as the catalogue knows it (its groups own the dataset); created when the profile allows. */
  private async proposalOf(req: RegistrationRequest, session: CatalogueSession): Promise<Proposal | null> {
    // A catalogue that cannot list proposals (ICAT+) gets the proposal by name; its ingester checks it.
    if (!req.proposal || !this.d.adapter.listsProposals) return null;
    const found = (await this.d.adapter.proposals(session, req.proposal)).find((p) => p.id === req.proposal);
    if (found) return found;
    const allow = this.d.config.kind === 'local' || ('allowCreateProposal' in this.d.config && this.d.config.allowCreateProposal);
    if (allow && this.d.adapter.canCreateProposals) {
      const user = req.owner ?? session.user;
      const ownerGroup =
        ('ownerGroup' in this.d.config ? this.d.config.ownerGroup : undefined) ?? user.groups[0] ?? user.username;
      return this.d.adapter.createProposal(session, {
        id: req.proposal,
        title: req.proposal,
        ownerGroup,
        email: user.email ?? '',
        ...(req.visit ? { visit: req.visit } : {}),
      });
    }
    throw new CatalogueError({
      problem: 'rejected',
      field: 'proposal',
      dataset: req.dataset,
      reason: `proposal ${req.proposal} not found`,
      message: `proposal "${req.proposal}" is not in the catalogue ${this.d.identity} (or ${session.user.username} may not see it); check --proposal, or ask the catalogue's admins to add you to it.`,
    });
  }

  private waitForLogin(reg: Registration, error: CatalogueError | null): void {
    const info = error
      ? { ...error.toJSON(), ...(error.reason ? { reason: error.reason } : {}) }
      : {
          code: 'credentials-missing' as const,
          retryable: true,
          dataset: reg.dataset,
          message: `dataset "${reg.dataset}" waits for a sign-in to ${this.d.identity}: run \`beamdrop login\`. Nothing is lost; registration continues once someone signs in.`,
        };
    this.d.store.setState(reg.id, 'waiting-login', { error: info, nextAt: this.d.clock.now() + this.timing.loginPollMs });
  }

  private failed(reg: Registration, c: CatalogueError): void {
    const base = { ...c.toJSON(), dataset: reg.dataset, ...(c.reason ? { reason: c.reason } : {}) };
    if (c.problem === 'retryable') {
      const delay = backoffDelay(reg.attempts + 1, this.timing.retries.baseDelayMs, this.timing.retries.maxDelayMs);
      this.d.store.setState(reg.id, 'pending', { error: base, nextAt: this.d.clock.now() + delay, countAttempt: true });
      return;
    }
    if (c.problem === 'needs-login') {
      return this.waitForLogin(reg, c);
    }
    const field = c.field ? ` (field ${c.field})` : '';
    const fix =
      c.problem === 'forbidden'
        ? `ask the catalogue's admins for access, or choose another proposal, then run \`beamdrop catalogue retry ${datasetArgs(reg)}\``
        : `fix it and run \`beamdrop catalogue retry ${datasetArgs(reg)}${c.field ? ` -p ${c.field.replace(/^scientificMetadata\./, '')}=VALUE` : ''}\``;
    const message = `dataset "${reg.dataset}" needs attention: the catalogue ${this.d.identity} ${c.problem === 'forbidden' ? 'refused access' : 'rejected the registration'}${field}: ${(c.reason ?? c.message).replace(/\.+$/, '')}. The files stay uploaded and verified; ${fix}.`;
    this.d.store.setState(reg.id, 'needs-attention', { error: { ...base, message } });
  }
}

function entryOf(f: QueuedFile): CatalogueFileEntry {
  return {
    path: f.relpath,
    size: f.size,
    sha256: f.sha256,
    storageUri: f.storageUri,
    time: new Date(f.mtimeMs).toISOString(),
    format: fileFormatOf(f.relpath)?.format ?? null,
  };
}
