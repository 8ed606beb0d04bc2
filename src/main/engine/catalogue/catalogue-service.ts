// One link per facility catalogue the engine talks to: its adapter, the signed-in user, the
// journal's outbox for it and the worker that sends it. Wired once in Engine.open; the CLI, the
// app and jobs all reach catalogues through here.
import type { RegistrationStatus } from '../../../shared/model.js';
import type { CatalogueConfig } from '../../../shared/profile-catalogue-schema.js';
import type { SecretKeeper } from '../credentials/credential-store.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../transfer/throttle.js';
import type { CatalogueAdapter } from './catalogue-adapter.js';
import { createCatalogueAdapter } from './create-catalogue.js';
import type { LocalCatalogue } from './local-catalogue.js';
import { OutboxSink } from './outbox/outbox-sink.js';
import { OutboxStore, type Registration } from './outbox/outbox-store.js';
import { OutboxWorker, type OutboxTiming } from './outbox/outbox-worker.js';
import { catalogueIdentity, datasetArgs, type RegistrationRequest } from './outbox/registration-request.js';
import { SessionKeeper } from './outbox/session-keeper.js';
import type { VerifiedFileSink } from './verified-sink.js';

export interface CatalogueServiceDeps {
  journal: Journal;
  local: LocalCatalogue;
  keeper: SecretKeeper;
  clock: Clock;
  dataDir: string;
  log: Logger;
  /** Outbox timing (tests shorten it); the profile's retry policy fills the backoff. */
  timing?: Partial<OutboxTiming>;
}

export class CatalogueService {
  private readonly links = new Map<string, Promise<CatalogueLink>>();

  constructor(private readonly d: CatalogueServiceDeps) {}

  /** The link for a catalogue config, created once per process; `adapter` replaces the profile's (tests, tools). */
  link(
    config: CatalogueConfig,
    opts: { retries?: OutboxTiming['retries']; adapter?: CatalogueAdapter } = {},
  ): Promise<CatalogueLink> {
    const identity = catalogueIdentity(config);
    let link = this.links.get(identity);
    if (!link) {
      link = (async () => {
        const adapter =
          opts.adapter ??
          (await createCatalogueAdapter(config, { now: () => this.d.clock.now(), dataDir: this.d.dataDir, local: this.d.local }));
        return new CatalogueLink(identity, config, adapter, this.d, {
          ...this.d.timing,
          ...(opts.retries ? { retries: opts.retries } : {}),
        });
      })();
      this.links.set(identity, link);
      link.catch(() => this.links.delete(identity));
    }
    return link;
  }

  async dispose(): Promise<void> {
    const links = await Promise.allSettled([...this.links.values()]);
    this.links.clear();
    for (const l of links) if (l.status === 'fulfilled') await l.value.dispose();
  }
}

export class CatalogueLink {
  readonly store: OutboxStore;
  readonly sessions: SessionKeeper;
  readonly worker: OutboxWorker;
  /** A facility catalogue (not the embedded one): needs a signed-in user and the outbox. */
  readonly remote: boolean;
  private readonly listeners = new Set<(s: RegistrationStatus) => void>();
  private started = false;

  constructor(
    readonly identity: string,
    readonly config: CatalogueConfig,
    readonly adapter: CatalogueAdapter,
    private readonly d: CatalogueServiceDeps,
    timing: Partial<OutboxTiming>,
  ) {
    this.remote = config.kind !== 'local';
    this.store = new OutboxStore(d.journal, () => d.clock.now());
    this.sessions = new SessionKeeper(identity, adapter, d.keeper, () => d.clock.now());
    this.worker = new OutboxWorker({
      identity,
      config,
      adapter,
      store: this.store,
      journal: d.journal,
      sessions: this.sessions,
      clock: d.clock,
      timing,
      onStatus: (s) => {
        if (s.state === 'needs-attention')
          d.log.warn({ catalogue: identity, dataset: s.dataset, error: s.lastError }, 'registration needs attention');
        for (const l of this.listeners) l(s);
      },
    });
  }

  /** Starts sending in the background (idempotent). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.worker.start();
  }

  onStatus(listener: (s: RegistrationStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  register(key: string, request: RegistrationRequest): Registration {
    return this.store.ensure(this.identity, key, request);
  }

  /**
   * The dataset's description changed (a rerun with other -p values, `catalogue retry -p`): the
   * registration takes `request` and, once the dataset exists in the catalogue, the worker sends
   * it as an update where the catalogue has one. Returns, in words, what the catalogue will hold.
   */
  revise(registration: Registration, request: RegistrationRequest): string {
    this.store.retry(registration.id, request);
    this.worker.kick();
    const reg = this.store.get(registration.id) ?? registration;
    const where = `the catalogue ${this.identity}`;
    if (this.adapter.updateDataset)
      return reg.remote
        ? `${where} gets the new metadata as an update of dataset ${reg.remote.id}.`
        : `${where} gets the new metadata when the dataset is created there.`;
    if (reg.finishedAt === null) return `${where} gets the new metadata with the dataset's message when the dataset is finished.`;
    return `${where} already received the dataset's message with the earlier metadata and keeps it: it takes one message per dataset, which neither this rerun nor \`beamdrop catalogue retry ${datasetArgs(reg)} -p KEY=VALUE\` can change; ask the facility's catalogue team to correct dataset "${reg.dataset}" there. The local catalogue and the RO-Crate have the new metadata.`;
  }

  sink(registration: Registration): VerifiedFileSink {
    return new OutboxSink(this.store, registration.id, () => this.worker.kick(), this.worker.blockSize);
  }

  /** No more files will come for this registration: finish it once everything is sent. */
  finish(registration: Registration): void {
    this.store.wantFinish(registration.id);
    this.worker.kick();
  }

  status(dataset?: string): RegistrationStatus[] {
    return this.store.list({ catalogue: this.identity, ...(dataset ? { dataset } : {}) }).map((r) => this.store.status(r));
  }

  /**
   * Waits until each registration is settled for now: registered, open, needing the operator,
   * or backing off because the catalogue is down (the next run, or the app, continues it).
   */
  async settle(ids: number[], timeoutMs: number, signal?: AbortSignal): Promise<RegistrationStatus[]> {
    this.start();
    const deadline = this.d.clock.now() + timeoutMs;
    for (;;) {
      const regs = ids.map((id) => this.store.get(id)).filter((r): r is Registration => r !== null);
      const busy = regs.some((r) => r.state === 'pending' && !(r.attempts > 0 && r.lastError?.retryable));
      // Another process holds the outbox of this catalogue: it sends these too; no point waiting here.
      if (!busy || this.d.clock.now() >= deadline || signal?.aborted || this.worker.leaseHeldElsewhere)
        return regs.map((r) => this.store.status(r));
      this.worker.kick();
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async dispose(): Promise<void> {
    await this.worker.dispose();
    await this.adapter.close();
  }
}
