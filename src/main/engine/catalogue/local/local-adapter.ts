// The local catalogue behind the CatalogueAdapter interface (kind 'local'), so the app, `find`,
// `import` and the outbox treat it like any facility catalogue. It has no passwords: signing in
// only names the operator. Files registered through it are pointers (destination "uri", the
// storage URI as key), which fetch/verify read by URI.
import { userInfo } from 'node:os';
import {
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
import type { LocalCatalogue } from '../local-catalogue.js';

/** Destination name of files the local catalogue knows only by their storage URI. */
export const POINTER_DESTINATION = 'uri';

export class LocalCatalogueAdapter implements CatalogueAdapter {
  readonly kind = 'local' as const;
  readonly maxBlockFiles = 10_000;
  readonly canCreateProposals = true;
  readonly listsProposals = true;

  constructor(private readonly catalogue: LocalCatalogue) {}

  async login(credentials: CatalogueCredentials): Promise<CatalogueSession> {
    return { token: '', user: localUser(credentials.username), expiresAt: null };
  }

  async refresh(session: CatalogueSession): Promise<CatalogueSession> {
    return session;
  }
  async whoami(session: CatalogueSession): Promise<CatalogueUser> {
    return session.user;
  }
  async logout(): Promise<void> {}

  async proposals(_session: CatalogueSession, search?: string): Promise<Proposal[]> {
    const like = `%${search ?? ''}%`;
    const rows = this.catalogue.db
      .prepare(
        `SELECT code, title, owner_group AS ownerGroup, email FROM proposals WHERE code LIKE ? OR title LIKE ?
       UNION SELECT DISTINCT proposal, proposal, NULL, NULL FROM datasets WHERE proposal IS NOT NULL AND proposal LIKE ? AND proposal NOT IN (SELECT code FROM proposals)
       ORDER BY 1`,
      )
      .all(like, like, like) as { code: string; title: string; ownerGroup: string | null; email: string | null }[];
    return rows.map((r) => ({ id: r.code, title: r.title, ownerGroup: r.ownerGroup, accessGroups: [], email: r.email }));
  }

  async createProposal(_session: CatalogueSession, p: NewProposal): Promise<Proposal> {
    this.catalogue.db
      .prepare(
        'INSERT INTO proposals (code, title, owner_group, email, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING',
      )
      .run(p.id, p.title, p.ownerGroup, p.email || null, Date.now());
    return { id: p.id, title: p.title, ownerGroup: p.ownerGroup, accessGroups: p.accessGroups ?? [], email: p.email || null };
  }

  async findDataset(_session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef | null> {
    const d = this.catalogue.datasetByKey(draft.key);
    return d ? { id: String(d.id) } : null;
  }

  async createDataset(_session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef> {
    const id = this.catalogue.ensureDataset(
      { catalogue: this.kind, proposal: draft.proposalId, visit: draft.visit ?? null, name: draft.name },
      { ...draft.scientificMetadata },
      {
        key: draft.key,
        type: draft.type,
        technique: draft.technique,
        operator: draft.owner,
        description: draft.description ?? null,
        instrument: draft.instrument,
        facility: draft.facility,
        sample: draft.sample,
        status: 'acquiring',
        ...(draft.inputDatasets?.length ? { inputDatasets: draft.inputDatasets } : {}),
      },
    );
    return { id: String(id) };
  }

  async registeredFiles(_session: CatalogueSession, dataset: DatasetRef, paths: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < paths.length; i += 500) {
      const chunk = paths.slice(i, i + 500);
      const rows = this.catalogue.db
        .prepare(`SELECT relpath FROM data_files WHERE dataset_id = ? AND relpath IN (${chunk.map(() => '?').join(',')})`)
        .all(Number(dataset.id), ...chunk) as { relpath: string }[];
      for (const r of rows) out.add(r.relpath);
    }
    return out;
  }

  async addFiles(_session: CatalogueSession, dataset: DatasetRef, files: CatalogueFileEntry[]): Promise<void> {
    this.catalogue.db.transaction(() => {
      for (const f of files) {
        this.catalogue.recordFile(Number(dataset.id), {
          relpath: f.path,
          destination: POINTER_DESTINATION,
          remoteKey: f.storageUri,
          storageUri: f.storageUri,
          size: f.size,
          sha256: f.sha256,
          mtimeMs: Date.parse(f.time),
        });
      }
    })();
  }

  async finishDataset(_session: CatalogueSession, dataset: DatasetRef): Promise<void> {
    this.catalogue.setDetails(Number(dataset.id), { status: 'complete' });
  }

  async close(): Promise<void> {}
}

export function localUser(name?: string): CatalogueUser {
  let username = name?.trim();
  if (!username) {
    try {
      username = userInfo().username;
    } catch {
      username = 'operator';
    }
  }
  return { username, email: null, groups: [] };
}
