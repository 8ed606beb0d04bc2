// The ICAT+ catalogue as ESRF feeds it: one XML message per finished dataset on a STOMP queue,
// which the ICAT+ ingester turns into ICAT records (scanning the dataset's folder for the files
// itself). A one-way channel: no proposal list, no file list, nothing to look up remotely. The
// message is written to the buffer folder first and removed once the broker confirmed it; while
// the broker is unreachable it stays there for `beamdrop catalogue resend` (resend.ts), and the
// dataset counts as handed over, as BLISS does with its __icat__ folder.
import { hostname } from 'node:os';
import type { IcatPlusCatalogueConfig } from '../../../../shared/profile-catalogue-schema.js';
import {
  CatalogueError,
  type AdapterDeps,
  type CatalogueAdapter,
  type CatalogueCredentials,
  type CatalogueSession,
  type CatalogueUser,
  type DatasetDraft,
  type DatasetRef,
  type Proposal,
} from '../catalogue-adapter.js';
import { buildDatasetMessage, draftMessage, MessageFieldMissing } from './dataset-message.js';
import { bufferFolder, MessageBuffer } from './message-buffer.js';
import { withBroker, type BrokerTarget } from './stomp-sender.js';

export const SOFTWARE = 'beamdrop';

export function createIcatPlusAdapter(config: IcatPlusCatalogueConfig, deps: AdapterDeps): CatalogueAdapter {
  return new IcatPlusAdapter(config, deps);
}

/** The broker login travels in the session token: the adapter reconnects for every message. */
export function brokerTarget(config: IcatPlusCatalogueConfig, session: Pick<CatalogueSession, 'token'> | null): BrokerTarget {
  const target: BrokerTarget = { url: config.url, queue: config.queue };
  if (session !== null && session.token !== '') {
    const creds = JSON.parse(session.token) as { username?: string; password?: string };
    if (creds.username !== undefined) target.username = creds.username;
    if (creds.password !== undefined) target.password = creds.password;
  } else if (config.username !== undefined) {
    target.username = config.username;
  }
  return target;
}

class IcatPlusAdapter implements CatalogueAdapter {
  readonly kind = 'icat-plus' as const;
  /** No file list travels: the outbox may hand over as many as it likes. */
  readonly maxBlockFiles = 100_000;
  readonly canCreateProposals = false;
  readonly listsProposals = false;
  private readonly buffer: MessageBuffer;

  constructor(
    private readonly config: IcatPlusCatalogueConfig,
    deps: AdapterDeps,
  ) {
    this.buffer = new MessageBuffer(bufferFolder(config, deps));
  }

  async login(credentials: CatalogueCredentials): Promise<CatalogueSession> {
    const username = credentials.username || this.config.username || '';
    const session: CatalogueSession = {
      token: JSON.stringify({ username, password: credentials.password }),
      user: { username, email: null, groups: [] },
      expiresAt: null,
    };
    try {
      await withBroker(brokerTarget(this.config, session), async () => undefined);
    } catch (e) {
      // A broker that is down cannot judge the password; messages are buffered meanwhile, and a
      // wrong password shows up as needs-login when they are sent.
      if (!(e instanceof CatalogueError && e.problem === 'retryable')) throw e;
    }
    return session;
  }

  async refresh(session: CatalogueSession): Promise<CatalogueSession> {
    return session;
  }

  async whoami(session: CatalogueSession): Promise<CatalogueUser> {
    return session.user;
  }

  async logout(): Promise<void> {}

  async proposals(): Promise<Proposal[]> {
    return [];
  }

  async createProposal(): Promise<Proposal> {
    throw new CatalogueError({
      problem: 'forbidden',
      message:
        "ICAT+ ingestion cannot create proposals: they come from the facility's user office. Choose the proposal by its name.",
    });
  }

  async findDataset(_session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef | null> {
    const known = (await this.buffer.wasSent(draft.key)) || (await this.buffer.find(draft.key)) !== undefined;
    return known ? { id: draft.key } : null;
  }

  async createDataset(_session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef> {
    // Nothing is sent until the end, but a missing sample or beamline should stop things now.
    this.message(draft);
    return { id: draft.key };
  }

  async registeredFiles(): Promise<Set<string>> {
    // The ingester lists the files itself from the dataset's location: nothing to ask here.
    return new Set();
  }

  async addFiles(): Promise<void> {}

  async finishDataset(session: CatalogueSession, _dataset: DatasetRef, draft: DatasetDraft): Promise<void> {
    if (await this.buffer.wasSent(draft.key)) return;
    const buffered = await this.buffer.put(draft.key, draft.name, this.message(draft));
    try {
      await withBroker(brokerTarget(this.config, session), async (c) => c.send(await this.buffer.read(buffered)));
    } catch (e) {
      if (e instanceof CatalogueError && e.problem === 'retryable') return;
      throw e;
    }
    await this.buffer.markSent(draft.key, buffered);
  }

  async close(): Promise<void> {}

  private message(draft: DatasetDraft): string {
    try {
      return buildDatasetMessage(draftMessage(draft, hostname(), SOFTWARE));
    } catch (e) {
      if (!(e instanceof MessageFieldMissing)) throw e;
      throw new CatalogueError({
        problem: 'rejected',
        field: e.field,
        dataset: draft.name,
        message: `${e.message}; add it to the dataset (or the profile) and retry the registration.`,
      });
    }
  }
}
