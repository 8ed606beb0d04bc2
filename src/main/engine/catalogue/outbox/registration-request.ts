// What the outbox journals for one dataset (the request), its idempotency key, and the draft the
// catalogue finally receives. Ownership is resolved when the dataset is created, from the user
// who started the upload and the proposal as the catalogue knows it then. The request is parsed
// with one schema when the outbox reads its row (outbox-store.ts), so a row that does not match is
// an error naming the registration, never a silent loss.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CatalogueConfig } from '../../../../shared/profile-catalogue-schema.js';
import {
  CatalogueError,
  type CatalogueUser,
  type DatasetDraft,
  type MetadataValue,
  type Proposal,
} from '../catalogue-adapter.js';

export interface RegistrationRequest {
  dataset: string;
  proposal: string | null;
  visit: string | null;
  type: 'raw' | 'derived';
  technique: string | null;
  sample: string | null;
  description: string | null;
  /** Validated against the technique template, units attached. */
  metadata: Record<string, MetadataValue>;
  /** Absolute storage URI of the dataset's folder at the destination. */
  sourceFolder: string;
  /** ISO 8601 with milliseconds. */
  creationTime: string;
  /** The signed-in user who started the upload (null for the local catalogue). */
  owner: CatalogueUser | null;
  instrument: string | null;
  facility: string | null;
  inputDatasets: string[];
  usedSoftware: string[];
  /** false for sync sessions: ICAT keeps complete=false until the session ends. */
  complete: boolean;
}

/** Compile-time check that a schema's output is exactly an interface declared elsewhere (both ways). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** A scientific metadata value as the technique template typed it (job options journal these too). */
export const metadataValueSchema = z.object({
  value: z.union([z.string(), z.number(), z.boolean()]),
  unit: z.string().optional(),
});
const _metadataValue: Same<z.output<typeof metadataValueSchema>, MetadataValue> = true;

/** The signed-in user as journaled with a job and its registration. */
export const catalogueUserSchema = z.object({
  username: z.string(),
  email: z.string().nullable(),
  groups: z.array(z.string()),
  displayName: z.string().optional(),
});
const _catalogueUser: Same<z.output<typeof catalogueUserSchema>, CatalogueUser> = true;

/** Every field Beamdrop has written since the outbox existed; a field added later must be optional or have a default. */
export const registrationRequestSchema = z.object({
  dataset: z.string(),
  proposal: z.string().nullable(),
  /** Read as none when absent, as the outbox always has. */
  visit: z.string().nullable().default(null),
  type: z.enum(['raw', 'derived']),
  technique: z.string().nullable(),
  sample: z.string().nullable(),
  description: z.string().nullable(),
  metadata: z.record(z.string(), metadataValueSchema),
  sourceFolder: z.string(),
  creationTime: z.string(),
  owner: catalogueUserSchema.nullable(),
  instrument: z.string().nullable(),
  facility: z.string().nullable(),
  inputDatasets: z.array(z.string()),
  usedSoftware: z.array(z.string()),
  complete: z.boolean(),
});
const _request: Same<z.output<typeof registrationRequestSchema>, RegistrationRequest> = true;
void [_metadataValue, _catalogueUser, _request];

/** How a catalogue is named in the journal and in messages: "scicat https://host". */
export function catalogueIdentity(config: CatalogueConfig): string {
  return config.kind === 'local' ? 'local' : `${config.kind} ${config.url.replace(/\/+$/, '')}`;
}

/**
 * Stable per dataset identity (catalogue, proposal, visit, name), so every rerun and sync append
 * finds the same record. Without a visit the key is the one Beamdrop computed before visits were
 * part of it (`legacyKey`), so registrations made then are found again. Which key a dataset
 * actually uses is decided by the outbox (OutboxStore.keyFor), which knows the registrations of
 * before the upgrade.
 */
export function idempotencyKey(catalogue: string, proposal: string | null, dataset: string, visit: string | null): string {
  return visit ? keyOf([catalogue, proposal ?? '', dataset, visit]) : legacyKey(catalogue, proposal, dataset);
}

/** The key of versions before visits were part of the identity: (catalogue, proposal, name). */
export function legacyKey(catalogue: string, proposal: string | null, dataset: string): string {
  return keyOf([catalogue, proposal ?? '', dataset]);
}

/**
 * The key of a dataset without a visit whose legacy key a registration of before the upgrade
 * holds for a dataset with a visit (the old key ignored visits): a key of its own.
 */
export function noVisitKey(catalogue: string, proposal: string | null, dataset: string): string {
  return keyOf([catalogue, proposal ?? '', dataset, null]);
}

function keyOf(parts: (string | null)[]): string {
  return 'bd-' + createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/**
 * The fields of a request the catalogue keeps as the dataset's description (what a rerun with
 * other -p values or `catalogue retry -p` changes), as one comparable string.
 */
export function describedBy(r: RegistrationRequest): string {
  return JSON.stringify([r.type, r.technique, r.sample, r.description, r.metadata, r.inputDatasets, r.usedSoftware]);
}

/** The request with the description (metadata, sample, technique, …) of `now`; where and by whom it was made stays. */
export function withDescriptionOf(stored: RegistrationRequest, now: RegistrationRequest): RegistrationRequest {
  return {
    ...stored,
    type: now.type,
    technique: now.technique,
    sample: now.sample,
    description: now.description,
    metadata: now.metadata,
    inputDatasets: now.inputDatasets,
    usedSoftware: now.usedSoftware,
  };
}

/** How a command names this dataset: `ds1 --proposal P --visit V` (only what it has). */
export function datasetArgs(d: { dataset: string; proposal: string | null; visit?: string | null }): string {
  return [d.dataset, d.proposal ? `--proposal ${d.proposal}` : null, d.visit ? `--visit ${d.visit}` : null]
    .filter(Boolean)
    .join(' ');
}

function rejected(dataset: string, field: string, message: string): CatalogueError {
  return new CatalogueError({
    problem: 'rejected',
    dataset,
    field,
    reason: message,
    message: `dataset "${dataset}": ${message}`,
  });
}

/** The dataset as the catalogue receives it; a missing owner group or contact is "needs attention" naming the field. */
export function buildDraft(
  key: string,
  req: RegistrationRequest,
  user: CatalogueUser,
  proposal: Proposal | null,
  config: CatalogueConfig,
): DatasetDraft {
  const own = config.kind === 'local' ? { ownerGroup: undefined, accessGroups: [] as string[], contactEmail: undefined } : config;
  const owner = req.owner ?? user;
  // The local catalogue has no groups or mail: its owner is the operator.
  // ICAT+ messages carry no groups or mail either: the investigation decides who sees the data.
  const local = config.kind === 'local' || config.kind === 'icat-plus' ? owner.username : undefined;
  const ownerGroup = proposal?.ownerGroup ?? own.ownerGroup ?? owner.groups[0] ?? local;
  if (!ownerGroup)
    throw rejected(
      req.dataset,
      'ownerGroup',
      `no owner group: the proposal names none and user "${owner.username}" is in no group. Set catalogue.ownerGroup in the facility profile or choose a proposal with an owner group, then run \`beamdrop catalogue retry ${datasetArgs(req)}\`.`,
    );
  const contactEmail = owner.email ?? proposal?.email ?? own.contactEmail ?? (local !== undefined ? '' : undefined);
  if (contactEmail === undefined || contactEmail === null)
    throw rejected(
      req.dataset,
      'contactEmail',
      `no contact email: user "${owner.username}" has none in the catalogue. Set catalogue.contactEmail in the facility profile, then run \`beamdrop catalogue retry ${datasetArgs(req)}\`.`,
    );
  const accessGroups = [...new Set([...(proposal?.accessGroups ?? []), ...own.accessGroups])].filter((g) => g !== ownerGroup);
  const draft: DatasetDraft = {
    key,
    name: req.dataset,
    type: req.type,
    proposalId: req.proposal,
    visit: req.visit,
    instrument: req.instrument,
    facility: req.facility,
    sample: req.sample,
    technique: req.technique,
    sourceFolder: req.sourceFolder,
    creationTime: req.creationTime,
    owner: owner.username,
    ownerGroup,
    accessGroups,
    contactEmail,
    principalInvestigator: proposal?.principalInvestigator ?? owner.displayName ?? owner.username,
    scientificMetadata: req.metadata,
    complete: req.complete,
  };
  if (req.description) draft.description = req.description;
  if (req.type === 'derived') {
    draft.inputDatasets = req.inputDatasets;
    draft.usedSoftware = req.usedSoftware;
  }
  return draft;
}
