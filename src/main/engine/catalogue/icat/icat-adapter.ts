// The ICAT catalogue (icat.server REST). A dataset lives in an Investigation (facility, name,
// visitId), which is found — or, when the profile allows, created — first. The Dataset is created
// with complete=false and its parameters in one transaction; Datafiles follow in batches (one
// entityManager call each); finishDataset sets complete=true, reopenDataset sets it back to false
// before a finished dataset gets more files (ICAT's usual rules let nobody but its administrators
// add Datafiles to a complete Dataset), and updateDataset writes a changed description as
// DatasetParameters (updated in place, created when new). ICAT's unique keys make every step
// safe to repeat: OBJECT_ALREADY_EXISTS leads to a lookup, never to a second record. A derived
// dataset is linked to its inputs and software by a Job (icat-provenance.ts).
import type { IcatCatalogueConfig } from '../../../../shared/profile-catalogue-schema.js';
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
import { icatCode, icatRejected } from './icat-errors.js';
import { icatDate, IcatHttp, jpql } from './icat-http.js';
import { IcatLookups, type IcatInvestigation } from './icat-lookups.js';
import { IcatProvenance } from './icat-provenance.js';

/** Datafile names are read back in pages of this many. */
const NAME_PAGE = 5_000;

export function createIcatAdapter(config: IcatCatalogueConfig, deps: AdapterDeps): CatalogueAdapter {
  return new IcatAdapter(config, deps);
}

class IcatAdapter implements CatalogueAdapter {
  readonly kind = 'icat' as const;
  readonly maxBlockFiles: number;
  readonly canCreateProposals: boolean;
  readonly listsProposals = true;
  private readonly http: IcatHttp;
  private readonly lookups: IcatLookups;
  private readonly provenance: IcatProvenance;

  constructor(
    private readonly config: IcatCatalogueConfig,
    private readonly deps: AdapterDeps,
  ) {
    this.http = new IcatHttp(config.url);
    this.lookups = new IcatLookups(this.http, config);
    this.provenance = new IcatProvenance(this.http, config.facility);
    this.maxBlockFiles = config.blockFiles;
    this.canCreateProposals = config.allowCreateProposal;
  }

  async login(credentials: CatalogueCredentials): Promise<CatalogueSession> {
    const plugin = credentials.method ?? this.config.authenticator;
    let sessionId: string;
    try {
      sessionId = await this.http.login(plugin, credentials.username, credentials.password);
    } catch (e) {
      if (icatCode(e) !== 'SESSION') throw e;
      throw new CatalogueError(
        {
          problem: 'needs-login',
          status: 403,
          message: `ICAT at ${this.http.base} did not accept the user name or password of "${credentials.username}" (authenticator ${plugin}); check them and try \`beamdrop login\` again.`,
        },
        { cause: e },
      );
    }
    return this.describe(sessionId);
  }

  async refresh(session: CatalogueSession): Promise<CatalogueSession> {
    await this.http.refresh(session.token);
    return this.describe(session.token);
  }

  async whoami(session: CatalogueSession): Promise<CatalogueUser> {
    return (await this.describe(session.token)).user;
  }

  async logout(session: CatalogueSession): Promise<void> {
    try {
      await this.http.logout(session.token);
    } catch (e) {
      if (icatCode(e) !== 'SESSION') throw e;
    }
  }

  async proposals(session: CatalogueSession, search?: string): Promise<Proposal[]> {
    const rows = await this.http.entities<IcatInvestigation>(
      session.token,
      'Investigation',
      `SELECT DISTINCT i FROM Investigation i JOIN i.investigationUsers iu JOIN iu.user u WHERE u.name = ${jpql(session.user.username)} AND i.facility.name = ${jpql(this.config.facility)} ORDER BY i.name`,
      { action: 'listing investigations' },
    );
    const text = search?.trim().toLowerCase() ?? '';
    return rows
      .filter((i) => text === '' || i.name.toLowerCase().includes(text) || (i.title ?? '').toLowerCase().includes(text))
      .map(toProposal);
  }

  async createProposal(session: CatalogueSession, p: NewProposal): Promise<Proposal> {
    if (!this.config.allowCreateProposal) {
      throw new CatalogueError({
        problem: 'forbidden',
        message: `the facility profile does not allow creating investigations in ICAT (allowCreateProposal is false); choose an existing one or ask the facility to create ${p.id}.`,
      });
    }
    const visit = p.visit ?? '1';
    const [facilityId, typeId, user] = await Promise.all([
      this.lookups.facilityId(session.token),
      this.lookups.investigationTypeId(session.token),
      this.lookups.user(session.token, session.user.username),
    ]);
    try {
      await this.http.write(
        session.token,
        [
          {
            Investigation: {
              facility: { id: facilityId },
              name: p.id,
              visitId: visit,
              title: p.title,
              type: { id: typeId },
              // The creator becomes a member, so that ICAT's rules let them add datasets to it.
              investigationUsers: user === null ? [] : [{ user: { id: user.id }, role: 'PRINCIPAL_EXPERIMENTER' }],
            },
          },
        ],
        { action: `creating investigation ${p.id} (visit ${visit})` },
      );
    } catch (e) {
      if (icatCode(e) !== 'OBJECT_ALREADY_EXISTS') throw e;
    }
    const inv = await this.lookups.investigation(session.token, p.id, visit);
    if (inv === null)
      throw icatRejected(
        `ICAT reported investigation ${p.id} (visit ${visit}) as created, but it cannot be found; check its permissions in ICAT.`,
      );
    return toProposal(inv);
  }

  async findDataset(session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef | null> {
    if (draft.proposalId === null) return null;
    const inv = await this.lookups.investigation(session.token, draft.proposalId, draft.visit, draft.name);
    if (inv === null) return null;
    const found = await this.http.entities<{ id: number }>(
      session.token,
      'Dataset',
      `SELECT ds FROM Dataset ds WHERE ds.investigation.id = ${inv.id} AND ds.name = ${jpql(draft.name)}`,
      { action: `looking up dataset "${draft.name}"`, dataset: draft.name },
    );
    return found[0] === undefined ? null : { id: String(found[0].id), extra: { investigationId: String(inv.id) } };
  }

  async createDataset(session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef> {
    if (draft.proposalId === null) {
      throw icatRejected(
        `dataset "${draft.name}" has no proposal: in ICAT every dataset belongs to an investigation; choose one.`,
        'proposalId',
        draft.name,
      );
    }
    let inv = await this.lookups.investigation(session.token, draft.proposalId, draft.visit, draft.name);
    if (inv === null) {
      if (!this.config.allowCreateProposal) {
        throw icatRejected(
          `investigation ${draft.proposalId}${draft.visit ? ` (visit ${draft.visit})` : ''} does not exist in ICAT facility ${this.config.facility}; choose an existing proposal, or ask the facility to create it.`,
          'proposalId',
          draft.name,
        );
      }
      const p = await this.createProposal(session, {
        id: draft.proposalId,
        title: draft.proposalId,
        ownerGroup: draft.ownerGroup,
        email: draft.contactEmail,
        ...(draft.visit ? { visit: draft.visit } : {}),
      });
      inv = { id: Number(p.remoteId), name: p.id, visitId: p.visit ?? '1' };
    }
    // Everything ICAT must already know (type, parameter types, inputs, software) is looked up
    // first, so that a refusal leaves no half-described dataset behind.
    const [typeId, parameters, provenance] = await Promise.all([
      this.lookups.datasetTypeId(session.token, draft.name),
      this.lookups.parameters(session.token, draft),
      this.provenance.resolve(session.token, inv, draft),
    ]);
    const dataset: Record<string, unknown> = {
      investigation: { id: inv.id },
      name: draft.name,
      type: { id: typeId },
      complete: false,
      location: draft.sourceFolder,
      parameters,
    };
    if (draft.description !== undefined) dataset.description = draft.description;
    if (draft.startTime !== undefined) dataset.startDate = icatDate(draft.startTime);
    if (draft.endTime !== undefined) dataset.endDate = icatDate(draft.endTime);
    let ref: DatasetRef;
    try {
      const [id] = await this.http.write(session.token, [{ Dataset: dataset }], {
        action: `creating dataset "${draft.name}" in investigation ${inv.name} (visit ${inv.visitId})`,
        dataset: draft.name,
      });
      ref = { id: String(id), extra: { investigationId: String(inv.id) } };
    } catch (e) {
      if (icatCode(e) !== 'OBJECT_ALREADY_EXISTS') throw e;
      const found = await this.findDataset(session, { ...draft, visit: inv.visitId });
      if (found === null) throw e;
      ref = found;
    }
    if (provenance !== null && !(await this.provenance.linked(session.token, Number(ref.id), draft.name)))
      await this.provenance.link(session.token, Number(ref.id), provenance, draft.name);
    return ref;
  }

  async registeredFiles(session: CatalogueSession, dataset: DatasetRef, paths: string[]): Promise<Set<string>> {
    const known = await this.datafileNames(session, dataset);
    return new Set(paths.filter((p) => known.has(p)));
  }

  async addFiles(session: CatalogueSession, dataset: DatasetRef, files: CatalogueFileEntry[]): Promise<void> {
    for (let i = 0; i < files.length; i += this.maxBlockFiles) {
      const batch = files.slice(i, i + this.maxBlockFiles);
      const action = `registering ${batch.length} files of dataset ${dataset.id}`;
      try {
        await this.http.write(
          session.token,
          batch.map((f) => datafile(dataset, f)),
          { action },
        );
      } catch (e) {
        if (icatCode(e) !== 'OBJECT_ALREADY_EXISTS') throw e;
        // The whole batch was rolled back because some files were registered before: send the rest.
        const known = await this.datafileNames(session, dataset);
        const rest = batch.filter((f) => !known.has(f.path));
        if (rest.length > 0)
          await this.http.write(
            session.token,
            rest.map((f) => datafile(dataset, f)),
            { action },
          );
      }
    }
  }

  async finishDataset(session: CatalogueSession, dataset: DatasetRef, draft: DatasetDraft): Promise<void> {
    // A crash between creating the dataset and linking its inputs left it unlinked: link it now,
    // while it is still incomplete (ICAT's usual rules freeze a complete dataset).
    if (draft.type === 'derived' && !(await this.provenance.linked(session.token, Number(dataset.id), draft.name))) {
      const inv = await this.investigationOf(session, dataset, draft);
      const p = inv === null ? null : await this.provenance.resolve(session.token, inv, draft);
      if (p !== null) await this.provenance.link(session.token, Number(dataset.id), p, draft.name);
    }
    const update: Record<string, unknown> = { id: Number(dataset.id), complete: true };
    if (draft.endTime !== undefined) update.endDate = icatDate(draft.endTime);
    await this.http.write(session.token, [{ Dataset: update }], {
      action: `marking dataset "${draft.name}" complete`,
      dataset: draft.name,
    });
  }

  async reopenDataset(session: CatalogueSession, dataset: DatasetRef, draft: DatasetDraft): Promise<void> {
    await this.http.write(session.token, [{ Dataset: { id: Number(dataset.id), complete: false } }], {
      action: `marking dataset "${draft.name}" incomplete while more files are registered`,
      dataset: draft.name,
    });
  }

  async updateDataset(session: CatalogueSession, dataset: DatasetRef, draft: DatasetDraft): Promise<void> {
    const id = Number(dataset.id);
    const ctx = { action: `updating the parameters of dataset "${draft.name}"`, dataset: draft.name };
    const writes: Record<string, Record<string, unknown>>[] = [];
    // One parameter per type and dataset (ICAT's unique key): an existing one gets the new value.
    for (const p of await this.lookups.parameters(session.token, draft)) {
      const { type, ...value } = p as { type: { id: number } } & Record<string, unknown>;
      const [existing] = await this.http.entities<{ id: number }>(
        session.token,
        'DatasetParameter',
        `SELECT p FROM DatasetParameter p WHERE p.dataset.id = ${id} AND p.type.id = ${Number(type.id)}`,
        ctx,
      );
      writes.push({ DatasetParameter: existing ? { id: existing.id, ...value } : { dataset: { id }, type, ...value } });
    }
    if (draft.description !== undefined) writes.push({ Dataset: { id, description: draft.description } });
    if (writes.length) await this.http.write(session.token, writes, ctx);
  }

  async close(): Promise<void> {}

  /** The investigation the dataset was created in (kept in DatasetRef.extra). */
  private async investigationOf(
    session: CatalogueSession,
    dataset: DatasetRef,
    draft: DatasetDraft,
  ): Promise<IcatInvestigation | null> {
    const id = Number(dataset.extra?.investigationId);
    if (Number.isFinite(id) && id > 0) {
      const [inv] = await this.http.entities<IcatInvestigation>(
        session.token,
        'Investigation',
        `SELECT i FROM Investigation i WHERE i.id = ${id}`,
        { action: `reading investigation ${id}`, dataset: draft.name },
      );
      if (inv !== undefined) return inv;
    }
    return draft.proposalId === null
      ? null
      : this.lookups.investigation(session.token, draft.proposalId, draft.visit, draft.name);
  }

  private async describe(sessionId: string): Promise<CatalogueSession> {
    const info = await this.http.session(sessionId);
    const row = await this.lookups.user(sessionId, info.userName);
    // ICAT's access comes from investigation membership, not from groups the draft could name.
    const user: CatalogueUser = { username: info.userName, email: row?.email ?? null, groups: [] };
    if (row?.fullName) user.displayName = row.fullName;
    return { token: sessionId, user, expiresAt: this.deps.now() + Math.floor(info.remainingMinutes * 60_000) };
  }

  private async datafileNames(session: CatalogueSession, dataset: DatasetRef): Promise<Set<string>> {
    const names = new Set<string>();
    for (let offset = 0; ; offset += NAME_PAGE) {
      const page = await this.http.query<string>(
        session.token,
        `SELECT df.name FROM Datafile df WHERE df.dataset.id = ${Number(dataset.id)} ORDER BY df.id LIMIT ${offset}, ${NAME_PAGE}`,
        { action: `listing the files already registered for dataset ${dataset.id}` },
      );
      for (const n of page) names.add(n);
      if (page.length < NAME_PAGE) return names;
    }
  }
}

function datafile(dataset: DatasetRef, f: CatalogueFileEntry): Record<string, Record<string, unknown>> {
  // ICAT's checksum is free text and IDS writes CRC32 there: name the algorithm.
  return {
    Datafile: {
      dataset: { id: Number(dataset.id) },
      name: f.path,
      location: f.storageUri,
      fileSize: f.size,
      checksum: `sha256:${f.sha256}`,
      datafileModTime: icatDate(f.time),
    },
  };
}

function toProposal(i: IcatInvestigation): Proposal {
  return { id: i.name, title: i.title ?? '', visit: i.visitId, ownerGroup: null, accessGroups: [], remoteId: String(i.id) };
}
