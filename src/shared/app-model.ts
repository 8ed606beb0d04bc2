// What the desktop app's screens show: plain data built by the app backend from the engine and
// sent over IPC. No behaviour here; the contract (ipc-contract.ts) says which command returns what.
import type { ErrorInfo } from './errors.js';
import type { FileState, JobProgress, JobRecord, ScanNote } from './model.js';

/** One job as the Activity screen shows it: journal record plus live progress. */
export interface JobView
  extends
    Omit<JobProgress, 'jobId'>,
    Pick<
      JobRecord,
      'id' | 'kind' | 'state' | 'dataset' | 'proposal' | 'destination' | 'sources' | 'createdAt' | 'finishedAt' | 'reason'
    > {
  /** Whether this app is running the job now (a paused or interrupted job is not). */
  running: boolean;
  /** Sync: files seen but not yet stored; null for batch jobs. */
  backlog: number | null;
  /** Paused with a reason, or failed/changed files: the operator should look. */
  attention: boolean;
}

/** One row of a job's file table. */
export interface FileRow {
  id: number;
  relpath: string;
  size: number;
  state: FileState;
  sha256: string | null;
  remoteKey: string | null;
  attempts: number;
  error: ErrorInfo | null;
  updatedAt: number;
}

export interface FilePage {
  jobId: number;
  /** Rows matching the filter, for the virtual scroll height. */
  total: number;
  offset: number;
  rows: FileRow[];
}

/** A file that changed state, as carried by the batched `jobs.update` event. */
export interface FileChange {
  jobId: number;
  relpath: string;
  state: FileState;
  error?: ErrorInfo;
}

export interface JobsUpdate {
  jobs: JobView[];
  /** The most recent file changes since the last update (capped; see `fileChangesDropped`). */
  fileChanges: FileChange[];
  fileChangesDropped: number;
}

/** The live preview of a dataset definition: what a dry-run scan would send. */
export interface SourcePreview {
  files: number;
  bytes: number;
  /** The first few files, in scan order. */
  sample: { relpath: string; size: number }[];
  notes: ScanNote[];
  notesTotal: number;
  elapsedMs: number;
  /** False when the scan stopped at its time budget: the counts are a lower bound. */
  complete: boolean;
}

export type CatalogueKind = 'local' | 'scicat' | 'icat' | 'icat-plus';

export interface SessionView {
  catalogue: { kind: CatalogueKind; name: string; url: string | null; signInRequired: boolean };
  state: 'signed-out' | 'signed-in' | 'local';
  user: string | null;
  canCreateInvestigation: boolean;
}

export interface InvestigationView {
  id: string;
  title: string;
  /** Where it was found: the facility catalogue, or datasets already in the local catalogue. */
  source: 'catalogue' | 'local';
  principalInvestigator?: string;
  startDate?: string;
  /** Datasets already recorded under it in the local catalogue. */
  datasets?: number;
}

export type TemplateFieldType = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'date';

export interface TemplateFieldView {
  key: string;
  label: string;
  type: TemplateFieldType;
  unit?: string;
  required: boolean;
  allowed?: string[];
  min?: number;
  max?: number;
  description?: string;
  /** Pre-filled value. */
  default?: string;
}

export interface TechniqueTemplateView {
  id: string;
  name: string;
  description?: string;
  fields: TemplateFieldView[];
}

export interface DatasetSummaryView {
  name: string;
  proposal: string | null;
  /** With name and proposal, which dataset this is (the same name may be in several proposals or visits). */
  visit?: string | null;
  /** The catalogue it is registered in ("local", "scicat https://host"): the same name, proposal and visit may be in two. */
  catalogue?: string;
  files: number;
  bytes: number;
  createdAt: number;
  technique?: string | null;
  /** 'acquiring' while a sync session may still add files, else 'complete'. */
  status?: string;
}

export interface CatalogueFileView {
  relpath: string;
  destination: string;
  storageUri: string;
  size: number;
  sha256: string;
  recordedAt: number;
}

/** Where a dataset is registered; `pid` is the catalogue's identifier once it answered. */
export interface RegistrationView {
  catalogue: string;
  pid: string | null;
  state: string;
  detail?: string;
}

export interface DatasetDetailView {
  /** `about`: descriptive fields (type, sample, operator...); `metadata`: scientific metadata with units. */
  dataset: DatasetSummaryView & { about: Record<string, string>; metadata: Record<string, string> };
  files: CatalogueFileView[];
  total: number;
  offset: number;
  registrations: RegistrationView[];
}

export interface VerifyReport {
  checked: number;
  failed: number;
  results: { relpath: string; ok: boolean; checked: string[]; problem?: string }[];
}

export type CredentialStatus = 'not-needed' | 'available' | 'missing';

export interface DestinationView {
  name: string;
  kind: 's3' | 'webdav' | 'filesystem';
  /** Endpoint and bucket, WebDAV URL or folder, for display. */
  location: string;
  keyTemplate: string;
  /** Defined by the facility profile (read-only here) or added by the operator in Settings. */
  origin: 'profile' | 'operator';
  /** The id part of the credentials (S3 access key id, WebDAV user), never the secret. */
  identity: string | null;
  credential: CredentialStatus;
}

export interface SettingsView {
  profileSource: string;
  facility: string;
  beamline: string;
  destinations: DestinationView[];
  defaultDestination: string | null;
  concurrency: number;
  partConcurrency: number;
  bandwidth: string;
  startAtLogin: boolean;
  dataDir: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  time: number;
  level: LogLevel;
  message: string;
  /** The other fields of the JSON line (job, file, error...). */
  fields: Record<string, unknown>;
}

export interface AppInfo {
  version: string;
  platform: string;
  dataDir: string;
  profileSource: string;
}
