// The SciCat catalogue (scicat-backend-next), API v3 or v4 as the profile says. Sign-in and
// proposals live under /api/v3 in both cases (there is no v4 proposals controller); datasets and
// OrigDatablocks use the chosen version. SciCat only makes `pid` unique, so every dataset carries
// the draft's idempotency key in `keywords`, and findDataset looks it up there before any create.
// Datasets are created with datasetlifecycle.archivable = false and made archivable by
// finishDataset, after the last file was verified and registered, so that no archive job takes a
// dataset whose files are still arriving; reopenDataset makes a finished one not archivable again
// before more files are sent (refused once an archive job took it), and updateDataset sends a
// changed description (PATCH /datasets/{pid}).
import type { ScicatCatalogueConfig } from '../../../../shared/profile-catalogue-schema.js';
import {
  CatalogueError,
  type AdapterDeps,
  type CatalogueAdapter,
  type CatalogueCredentials,
  type CatalogueFileEntry,
  type CatalogueSession,
  type CatalogueUser,
  type DatasetDraft,
  type DatasetRef,
  type NewProposal,
  type Proposal,
} from '../catalogue-adapter.js';
import { pidSegment, ScicatHttp } from './scicat-http.js';
import { notScicatAnswer } from './scicat-errors.js';
import {
  blockV3,
  blockV4,
  datasetUpdateV3,
  datasetUpdateV4,
  datasetV3,
  datasetV4,
  LIFECYCLE_AT_CREATION,
  LIFECYCLE_WHEN_FINISHED,
  LIFECYCLE_WHEN_REOPENED,
  type LifecycleUpdate,
} from './scicat-payloads.js';

interface LoginAnswer {
  access_token: string;
  expires_in?: number;
  created?: string;
}
interface WhoAmI {
  username?: string;
  email?: string | null;
  currentGroups?: string[];
  displayName?: string;
}
interface ProposalDoc {
  proposalId: string;
  title?: string;
  ownerGroup?: string;
  accessGroups?: string[];
  email?: string;
  pi_email?: string;
}
interface DatasetDoc {
  pid: string;
  ownerGroup?: string;
  accessGroups?: string[];
  createdAt?: string;
  datasetlifecycle?: { archivable?: boolean; archiveStatusMessage?: string };
}
interface BlockDoc {
  dataFileList?: { path: string }[];
}

/** v4 list routes page their answers; ask for this many blocks at a time. */
const BLOCK_PAGE = 100;

export function createScicatAdapter(config: ScicatCatalogueConfig, deps: AdapterDeps): CatalogueAdapter {
  return new ScicatAdapter(config, deps);
}

class ScicatAdapter implements CatalogueAdapter {
  readonly kind = 'scicat' as const;
  readonly maxBlockFiles: number;
  readonly canCreateProposals: boolean;
  readonly listsProposals = true;
  private readonly http: ScicatHttp;
  private readonly v: 'v3' | 'v4';

  constructor(
    private readonly config: ScicatCatalogueConfig,
    private readonly deps: AdapterDeps,
  ) {
    this.http = new ScicatHttp(config.url);
    this.v = config.apiVersion;
    this.maxBlockFiles = Math.min(config.blockFiles, 10_000);
    this.canCreateProposals = config.allowCreateProposal;
  }

  async login(credentials: CatalogueCredentials): Promise<CatalogueSession> {
    const method = credentials.method ?? this.config.loginMethod;
    const route = method === 'ldap' ? 'ldap' : 'login';
    let answer: LoginAnswer;
    try {
      answer = await this.http.object<LoginAnswer>({
        method: 'POST',
        path: `/api/v3/auth/${route}`,
        body: { username: credentials.username, password: credentials.password },
        action: `signing in as ${credentials.username}`,
      });
    } catch (e) {
      if (e instanceof CatalogueError && e.status === 401) {
        throw new CatalogueError(
          {
            problem: 'needs-login',
            status: 401,
            message: `SciCat at ${this.http.base} did not accept the user name or password of "${credentials.username}" (${method} sign-in); check them and try \`beamdrop login\` again.`,
          },
          { cause: e },
        );
      }
      throw e;
    }
    // A token-less answer would "sign in" with no token at all: it is not SciCat answering.
    if (typeof answer.access_token !== 'string' || answer.access_token === '')
      throw notScicatAnswer(
        JSON.stringify(answer),
        'JSON without an access token',
        this.http.context({ action: `signing in as ${credentials.username}` }),
      );
    const created = answer.created === undefined ? this.deps.now() : Date.parse(answer.created);
    const expiresAt =
      answer.expires_in === undefined ? null : (Number.isNaN(created) ? this.deps.now() : created) + answer.expires_in * 1000;
    const partial: CatalogueSession = {
      token: answer.access_token,
      user: { username: credentials.username, email: null, groups: [] },
      expiresAt,
    };
    return { ...partial, user: await this.whoami(partial) };
  }

  async refresh(session: CatalogueSession): Promise<CatalogueSession> {
    // Local and LDAP tokens cannot be extended: either the token still works or a new login is needed.
    return { ...session, user: await this.whoami(session) };
  }

  async whoami(session: CatalogueSession): Promise<CatalogueUser> {
    const me = await this.http.object<WhoAmI>({
      method: 'GET',
      path: '/api/v3/auth/whoami',
      token: session.token,
      action: 'checking the signed-in user',
    });
    const user: CatalogueUser = {
      username: me.username ?? session.user.username,
      email: me.email ?? null,
      groups: me.currentGroups ?? [],
    };
    if (me.displayName !== undefined) user.displayName = me.displayName;
    return user;
  }

  async logout(session: CatalogueSession): Promise<void> {
    try {
      await this.http.request({ method: 'POST', path: '/api/v3/auth/logout', token: session.token, action: 'signing out' });
    } catch (e) {
      // An expired token is as signed out as it gets.
      if (!(e instanceof CatalogueError && e.problem === 'needs-login')) throw e;
    }
  }

  async proposals(session: CatalogueSession, search?: string): Promise<Proposal[]> {
    const text = search?.trim() ?? '';
    const re = { $regex: text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), $options: 'i' };
    const where = text === '' ? {} : { $or: [{ proposalId: re }, { title: re }] };
    const docs = await this.http.list<ProposalDoc>({
      method: 'GET',
      path: '/api/v3/proposals',
      token: session.token,
      query: { filters: JSON.stringify({ where, limits: { limit: 1000, skip: 0 } }) },
      action: 'listing proposals',
    });
    return docs.map(toProposal);
  }

  async createProposal(session: CatalogueSession, p: NewProposal): Promise<Proposal> {
    if (!this.config.allowCreateProposal) {
      throw new CatalogueError({
        problem: 'forbidden',
        message: `the facility profile does not allow creating proposals in SciCat (allowCreateProposal is false); choose an existing proposal or ask the facility to create ${p.id}.`,
      });
    }
    try {
      const doc = await this.http.request<ProposalDoc>({
        method: 'POST',
        path: '/api/v3/proposals',
        token: session.token,
        action: `creating proposal ${p.id}`,
        body: { proposalId: p.id, title: p.title, ownerGroup: p.ownerGroup, email: p.email, accessGroups: p.accessGroups ?? [] },
      });
      return toProposal(doc);
    } catch (e) {
      if (!(e instanceof CatalogueError && e.status === 409)) throw e;
      // Created by an earlier attempt whose answer was lost.
      return toProposal(
        await this.http.request<ProposalDoc>({
          method: 'GET',
          path: `/api/v3/proposals/${encodeURIComponent(p.id)}`,
          token: session.token,
          action: `reading proposal ${p.id}`,
        }),
      );
    }
  }

  async findDataset(session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef | null> {
    const docs = await this.http.request<DatasetDoc[]>({
      method: 'GET',
      path: `/api/${this.v}/datasets`,
      token: session.token,
      dataset: draft.name,
      query: { filter: JSON.stringify({ where: { keywords: draft.key }, limits: { limit: 10, skip: 0 } }) },
      action: `looking up dataset "${draft.name}" (key ${draft.key})`,
    });
    // Two matches would mean a create raced past its lookup: keep using the oldest one.
    const first = [...docs].sort((a, b) => String(a.createdAt ?? '').localeCompare(String(b.createdAt ?? '')))[0];
    return first === undefined ? null : toRef(first);
  }

  async createDataset(session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef> {
    try {
      const doc = await this.http.request<DatasetDoc>({
        method: 'POST',
        path: `/api/${this.v}/datasets`,
        token: session.token,
        dataset: draft.name,
        body: this.v === 'v3' ? datasetV3(draft) : datasetV4(draft),
        action: `creating ${draft.type} dataset "${draft.name}"`,
      });
      return toRef(doc);
    } catch (e) {
      if (!(e instanceof CatalogueError && e.status === 409)) throw e;
      const found = await this.findDataset(session, draft);
      if (found === null) throw e;
      return found;
    }
  }

  async registeredFiles(session: CatalogueSession, dataset: DatasetRef, paths: string[]): Promise<Set<string>> {
    const known = new Set<string>();
    for (const block of await this.blocks(session, dataset)) for (const f of block.dataFileList ?? []) known.add(f.path);
    return new Set(paths.filter((p) => known.has(p)));
  }

  async addFiles(session: CatalogueSession, dataset: DatasetRef, files: CatalogueFileEntry[]): Promise<void> {
    // The outbox never sends more than maxBlockFiles; splitting anyway keeps every block legal.
    for (let i = 0; i < files.length; i += this.maxBlockFiles) {
      const chunk = files.slice(i, i + this.maxBlockFiles);
      const action = `registering ${chunk.length} files of dataset ${dataset.id}`;
      if (this.v === 'v3') {
        await this.http.request({
          method: 'POST',
          path: `/api/v3/datasets/${pidSegment(dataset.id)}/origdatablocks`,
          token: session.token,
          body: blockV3(chunk),
          action,
        });
      } else {
        const accessGroups = JSON.parse(dataset.extra?.accessGroups ?? '[]') as string[];
        await this.http.request({
          method: 'POST',
          path: '/api/v4/origdatablocks',
          token: session.token,
          body: blockV4(dataset.id, dataset.extra?.ownerGroup, accessGroups, chunk),
          action,
        });
      }
    }
  }

  async finishDataset(session: CatalogueSession, dataset: DatasetRef, draft: DatasetDraft): Promise<void> {
    // Size and file count grew with each block; what is left is to let archive jobs take it.
    await this.patchLifecycle(
      session,
      dataset,
      draft,
      LIFECYCLE_WHEN_FINISHED,
      `making dataset "${draft.name}" (${dataset.id}) archivable now that all its files are registered`,
    );
  }

  async reopenDataset(session: CatalogueSession, dataset: DatasetRef, draft: DatasetDraft): Promise<void> {
    const doc = await this.http.request<DatasetDoc>({
      method: 'GET',
      path: `/api/${this.v}/datasets/${pidSegment(dataset.id)}`,
      token: session.token,
      dataset: draft.name,
      action: `reading the lifecycle of dataset "${draft.name}" (${dataset.id})`,
    });
    const life = doc.datasetlifecycle ?? {};
    // archivable is true until an archive job takes the dataset ("no archive job for this
    // dataset exists yet"); false with a status other than ours means one did.
    if (life.archivable === false && life.archiveStatusMessage !== LIFECYCLE_AT_CREATION.archiveStatusMessage) {
      const reason = `dataset ${dataset.id} is already taken by an archive job (archiveStatusMessage "${life.archiveStatusMessage ?? ''}"), so no files are added to it; upload the new files as a dataset of their own, or ask the SciCat team to reopen it`;
      throw new CatalogueError({
        problem: 'rejected',
        field: 'datasetlifecycle',
        dataset: draft.name,
        reason,
        message: `dataset "${draft.name}": ${reason}.`,
      });
    }
    await this.patchLifecycle(
      session,
      dataset,
      draft,
      LIFECYCLE_WHEN_REOPENED,
      `making dataset "${draft.name}" (${dataset.id}) not archivable while more files are registered`,
    );
  }

  async updateDataset(session: CatalogueSession, dataset: DatasetRef, draft: DatasetDraft): Promise<void> {
    await this.http.request({
      method: 'PATCH',
      path: `/api/${this.v}/datasets/${pidSegment(dataset.id)}`,
      token: session.token,
      dataset: draft.name,
      body: this.v === 'v3' ? datasetUpdateV3(draft) : datasetUpdateV4(draft),
      action: `updating the metadata of dataset "${draft.name}" (${dataset.id})`,
    });
  }

  /** PATCH /datasets/{pid}/datasetlifecycle, or the dataset itself on backends before that route. */
  private async patchLifecycle(
    session: CatalogueSession,
    dataset: DatasetRef,
    draft: DatasetDraft,
    body: LifecycleUpdate,
    action: string,
  ): Promise<void> {
    try {
      await this.http.request({
        method: 'PATCH',
        path: `/api/${this.v}/datasets/${pidSegment(dataset.id)}/datasetlifecycle`,
        token: session.token,
        dataset: draft.name,
        body,
        // The v4 route applies a JSON merge patch; for this flat body both types mean the same.
        ...(this.v === 'v4' ? { contentType: 'application/merge-patch+json' } : {}),
        action,
      });
    } catch (e) {
      // Backends older than the lifecycle route (2025) answer NestJS's "Cannot PATCH …": there
      // the lifecycle is a field of the dataset itself.
      if (!(e instanceof CatalogueError && e.status === 404 && /^Cannot PATCH/.test(e.reason ?? ''))) throw e;
      await this.http.request({
        method: 'PATCH',
        path: `/api/${this.v}/datasets/${pidSegment(dataset.id)}`,
        token: session.token,
        dataset: draft.name,
        body: { datasetlifecycle: body },
        ...(this.v === 'v4' ? { contentType: 'application/merge-patch+json' } : {}),
        action,
      });
    }
  }

  async close(): Promise<void> {}

  private async blocks(session: CatalogueSession, dataset: DatasetRef): Promise<BlockDoc[]> {
    const action = `listing the files already registered for dataset ${dataset.id}`;
    if (this.v === 'v3') {
      return this.http.request<BlockDoc[]>({
        method: 'GET',
        path: `/api/v3/datasets/${pidSegment(dataset.id)}/origdatablocks`,
        token: session.token,
        action,
      });
    }
    const all: BlockDoc[] = [];
    for (let skip = 0; ; skip += BLOCK_PAGE) {
      const page = await this.http.request<BlockDoc[]>({
        method: 'GET',
        path: '/api/v4/origdatablocks',
        token: session.token,
        action,
        query: { filter: JSON.stringify({ where: { datasetId: dataset.id }, limits: { limit: BLOCK_PAGE, skip } }) },
      });
      all.push(...page);
      if (page.length < BLOCK_PAGE) return all;
    }
  }
}

function toProposal(d: ProposalDoc): Proposal {
  return {
    id: d.proposalId,
    title: d.title ?? '',
    ownerGroup: d.ownerGroup ?? null,
    accessGroups: d.accessGroups ?? [],
    principalInvestigator: d.pi_email ?? null,
    email: d.email ?? null,
  };
}

function toRef(d: DatasetDoc): DatasetRef {
  const extra: Record<string, string> = { accessGroups: JSON.stringify(d.accessGroups ?? []) };
  if (d.ownerGroup !== undefined) extra.ownerGroup = d.ownerGroup;
  return { id: d.pid, extra };
}
