// The one interface every catalogue implements: local (embedded), SciCat v3/v4, ICAT, ICAT+.
// The outbox (outbox-worker.ts) is its only caller during uploads; login/whoami/proposals are
// also used by the CLI and the desktop app.
//
// NOTE FOR ADAPTER AUTHORS (scicat/, icat/, icat-plus/):
// - Adapters are stateless about sign-in: login() returns a CatalogueSession, and every data
//   call receives it. The outbox keeps the session (memory + OS keychain) and decides when to
//   refresh or ask the operator to sign in again. Never cache a token inside the adapter.
// - Every method may be called again after a crash at any point. createDataset() is always
//   preceded by findDataset(draft) with the same draft; addFiles() of a block whose outcome is
//   unknown is preceded by registeredFiles(). So: findDataset must find what createDataset made
//   (store draft.key in the record: SciCat e.g. in scientificMetadata.beamdropKey or keywords;
//   ICAT (investigation, name) is unique), and registeredFiles must see every file addFiles sent.
//   A create that meets "already exists" (SciCat 409, ICAT OBJECT_ALREADY_EXISTS) should look the
//   record up and return it rather than fail. A finished dataset that gets more files is reopened
//   (reopenDataset) before they are sent; a description changed after creation is sent with
//   updateDataset. Both are optional and may be called again after a crash.
// - addFiles() never receives more than maxBlockFiles files (SciCat: one OrigDatablock of at most
//   10,000 files; ICAT: one entityManager call). Blocks are not deduplicated by the outbox beyond
//   the registeredFiles() check, which is why it matters (SciCat blocks are not unique).
// - Throw CatalogueError (below) for anything the server says; network errors may be thrown
//   raw (classifyCatalogueError() treats what engine/net/network-error.ts calls a network failure as retryable), but a
//   CatalogueError is better because it names the catalogue.
// - Factories (the outbox builds adapters in create-catalogue.ts from the profile's `catalogue:`,
//   typed in src/shared/profile-catalogue-schema.ts):
//     scicat/scicat-adapter.ts       export function createScicatAdapter(config: ScicatCatalogueConfig, deps: AdapterDeps): CatalogueAdapter
//     icat/icat-adapter.ts           export function createIcatAdapter(config: IcatCatalogueConfig, deps: AdapterDeps): CatalogueAdapter
//     icat-plus/icat-plus-adapter.ts export function createIcatPlusAdapter(config: IcatPlusCatalogueConfig, deps: AdapterDeps): CatalogueAdapter
//   ICAT+: login() takes the broker user/password (the session token may carry what the adapter
//   needs to reconnect, e.g. the password, since it is kept only in memory and the OS keychain).
// - Errors: 5xx/429/unreachable → 'retryable'; 401, expired token, ICAT SESSION → 'needs-login';
//   400/412/VALIDATION → 'rejected' with the server's reason and, when it can be found, the field
//   (e.g. "scientificMetadata.energy", "principalInvestigator"); 403 INSUFFICIENT_PRIVILEGES →
//   'forbidden'. The outbox retries 'retryable' with backoff, waits for a new sign-in on
//   'needs-login', and marks the dataset "needs attention" on 'rejected'/'forbidden'.
import { BeamdropError, type ErrorCode, type ErrorInfo } from '../../../shared/errors.js';
import { networkFailure } from '../net/network-error.js';

export type CatalogueKind = 'local' | 'scicat' | 'icat' | 'icat-plus';

/** What the engine hands every adapter factory. */
export interface AdapterDeps {
  now: () => number;
  /** The Beamdrop data folder (ICAT+ keeps its default message buffer under it). */
  dataDir: string;
}

/** What the operator typed at `beamdrop login` (or the app's sign-in form). */
export interface CatalogueCredentials {
  username: string;
  password: string;
  /** ICAT authenticator plugin ("db", "ldap", …); SciCat: "local" | "ldap". Adapter default if absent. */
  method?: string;
}

export interface CatalogueUser {
  username: string;
  email: string | null;
  /** Groups the user belongs to: candidates for ownerGroup/accessGroups. */
  groups: string[];
  displayName?: string;
}

/** A signed-in user. Serialised as JSON into the OS keychain between runs: keep it plain data. */
export interface CatalogueSession {
  /** Bearer token (SciCat), sessionId (ICAT); '' for catalogues without sign-in. */
  token: string;
  user: CatalogueUser;
  /** Epoch ms after which the token is no longer valid, when the server says so. */
  expiresAt: number | null;
}

export interface Proposal {
  /** SciCat proposalId; ICAT Investigation name (plus visitId in `visit`). */
  id: string;
  title: string;
  visit?: string;
  ownerGroup: string | null;
  accessGroups: string[];
  principalInvestigator?: string | null;
  email?: string | null;
  /** The catalogue's own id when it differs from `id` (ICAT numeric id). */
  remoteId?: string;
}

export interface NewProposal {
  id: string;
  title: string;
  ownerGroup: string;
  email: string;
  visit?: string;
  accessGroups?: string[];
}

export interface MetadataValue {
  value: string | number | boolean;
  unit?: string;
}

/** Everything a catalogue needs to create one dataset; built by the outbox from job + template + user. */
export interface DatasetDraft {
  /** Stable idempotency key of this dataset in this catalogue ("bd-" + 32 hex). */
  key: string;
  name: string;
  type: 'raw' | 'derived';
  description?: string;
  proposalId: string | null;
  visit?: string | null;
  /** Beamline / instrument code. */
  instrument: string | null;
  facility: string | null;
  sample: string | null;
  technique: string | null;
  /** Absolute storage URI of the dataset's folder (SciCat sourceFolder, ICAT location). */
  sourceFolder: string;
  /** ISO 8601 with milliseconds and offset, e.g. 2026-03-01T10:00:00.000Z. */
  creationTime: string;
  startTime?: string;
  endTime?: string;
  owner: string;
  ownerGroup: string;
  accessGroups: string[];
  contactEmail: string;
  principalInvestigator: string;
  /** Validated against the technique template; units from the template. */
  scientificMetadata: Record<string, MetadataValue>;
  /**
   * Derived only: what it was made from. Identifiers as the operator gave them (a catalogue PID or
   * id, a dataset name, a storage URI or folder path); each adapter says which forms it can link.
   */
  inputDatasets?: string[];
  /** Derived only: the software that made it, "NAME VERSION" (softwareParts() splits it). */
  usedSoftware?: string[];
  /** false while a sync session may still add files (ICAT `complete`). */
  complete: boolean;
}

/** A dataset as the catalogue knows it. */
export interface DatasetRef {
  /** PID (SciCat, contains "/"), ICAT numeric id as a string, local id. Stored by the outbox. */
  id: string;
  /** Anything else the adapter needs later (e.g. ICAT investigation id); kept by the outbox. */
  extra?: Record<string, string>;
}

export interface CatalogueFileEntry {
  /** Path inside the dataset, '/' separated (SciCat dataFileList.path, ICAT Datafile.name). */
  path: string;
  size: number;
  sha256: string;
  /** Absolute storage URI (ICAT Datafile.location). */
  storageUri: string;
  /** File modification time, ISO 8601 with milliseconds. */
  time: string;
  /** Format hint from the extension (hdf5, cbf, mrc, …) or null. */
  format: string | null;
}

export interface CatalogueAdapter {
  readonly kind: CatalogueKind;
  /** Upper bound of files per addFiles() call (SciCat ≤ 10,000; ICAT a few thousand). */
  readonly maxBlockFiles: number;
  /** Whether the server lets the user create proposals (profile allowCreateProposal still applies). */
  readonly canCreateProposals: boolean;
  /** Whether proposals() can answer; ICAT+ ingestion cannot, and its ingester checks the investigation itself. */
  readonly listsProposals: boolean;

  login(credentials: CatalogueCredentials): Promise<CatalogueSession>;
  /** Extends a session (ICAT PUT /session); throws 'needs-login' when the server refuses. */
  refresh(session: CatalogueSession): Promise<CatalogueSession>;
  whoami(session: CatalogueSession): Promise<CatalogueUser>;
  logout(session: CatalogueSession): Promise<void>;

  /** Proposals the user may add datasets to, optionally filtered by text. */
  proposals(session: CatalogueSession, search?: string): Promise<Proposal[]>;
  createProposal(session: CatalogueSession, proposal: NewProposal): Promise<Proposal>;

  /** The dataset an earlier createDataset(draft) made, found by draft.key (or a natural unique key). */
  findDataset(session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef | null>;
  createDataset(session: CatalogueSession, draft: DatasetDraft): Promise<DatasetRef>;
  /** Which of `paths` the catalogue already lists for the dataset. */
  registeredFiles(session: CatalogueSession, dataset: DatasetRef, paths: string[]): Promise<Set<string>>;
  /** Registers one block of at most maxBlockFiles files. */
  addFiles(session: CatalogueSession, dataset: DatasetRef, files: CatalogueFileEntry[]): Promise<void>;
  /** No more files will come: ICAT complete=true, ICAT+ sends its one XML message. Idempotent. */
  finishDataset(session: CatalogueSession, dataset: DatasetRef, draft: DatasetDraft): Promise<void>;
  /**
   * A finished dataset gets more files (a second sync session, a rerun after failed files,
   * reconcile --fix): take it back before they are sent (SciCat archivable=false, ICAT
   * complete=false). Absent: nothing to undo (ICAT+ sends its message only at the finish).
   * finishDataset follows once the new files are registered. Idempotent.
   */
  reopenDataset?(session: CatalogueSession, dataset: DatasetRef, draft: DatasetDraft): Promise<void>;
  /**
   * The dataset's description changed after it was created (a rerun with other -p values,
   * `catalogue retry -p`): send the draft's metadata, sample, technique and description (SciCat
   * PATCH dataset, ICAT DatasetParameters). Absent: the catalogue takes the description only
   * once, at createDataset or finishDataset (ICAT+). Idempotent.
   */
  updateDataset?(session: CatalogueSession, dataset: DatasetRef, draft: DatasetDraft): Promise<void>;

  close(): Promise<void>;
}

/**
 * "xds 2026", "dials/3.17", "mantid@6.9.1", "CCP4 v8.0" → name and version; a name alone has no
 * version. The version is the last word when it starts with a digit (or v and a digit).
 */
export function softwareParts(entry: string): { name: string; version: string | null } {
  const text = entry.trim();
  const m = /^(.+?)[\s@/=]+(v?\d[^\s]*)$/i.exec(text);
  return m === null ? { name: text, version: null } : { name: (m[1] as string).trim(), version: m[2] as string };
}

/** How the outbox reacts: retry later, wait for sign-in, or stop and show the operator. */
export type CatalogueProblem = 'retryable' | 'needs-login' | 'rejected' | 'forbidden';

const CODES: Record<CatalogueProblem, ErrorCode> = {
  retryable: 'destination-unreachable',
  'needs-login': 'credentials-rejected',
  // The catalogue refused what the dataset says (a metadata value, a missing field, an unknown input).
  rejected: 'metadata-invalid',
  forbidden: 'permission-denied',
};

export interface CatalogueErrorInit {
  problem: CatalogueProblem;
  /** Operator-readable: what happened, in which catalogue, what to do. */
  message: string;
  /** The server's own words (response message), kept verbatim for "needs attention". */
  reason?: string;
  /** Metadata field the server objected to, e.g. "scientificMetadata.energy". */
  field?: string;
  status?: number;
  dataset?: string;
}

export class CatalogueError extends BeamdropError {
  readonly problem: CatalogueProblem;
  readonly reason: string | undefined;
  readonly status: number | undefined;

  constructor(init: CatalogueErrorInit, options?: { cause?: unknown }) {
    const info: ErrorInfo = {
      code: CODES[init.problem],
      message: init.message,
      retryable: init.problem === 'retryable' || init.problem === 'needs-login',
    };
    if (init.field !== undefined) info.field = init.field;
    if (init.dataset !== undefined) info.dataset = init.dataset;
    super(info, options);
    this.name = 'CatalogueError';
    this.problem = init.problem;
    this.reason = init.reason;
    this.status = init.status;
  }
}

/** Any error from an adapter call as a CatalogueError; unknown errors count as rejected (never retried blindly). */
export function classifyCatalogueError(e: unknown, catalogue: string): CatalogueError {
  if (e instanceof CatalogueError) return e;
  const err = e as { message?: string };
  const network = networkFailure(e);
  if (network) {
    return new CatalogueError(
      {
        problem: 'retryable',
        message: `the catalogue ${catalogue} cannot be reached (${network.description}); registration will be retried.`,
      },
      { cause: e },
    );
  }
  return new CatalogueError(
    {
      problem: 'rejected',
      message: `the catalogue ${catalogue} call failed: ${err?.message ?? String(e)}`,
      reason: err?.message ?? String(e),
    },
    { cause: e },
  );
}
