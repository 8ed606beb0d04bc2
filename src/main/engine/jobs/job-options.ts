// What a job stores so that it can be continued exactly: one zod schema per job kind, parsed once
// when the journal reads a row (journal.ts), so `job.options` is typed everywhere and a row that
// does not match is an error naming the job instead of a silent loss. The shapes are the ones
// Beamdrop has written since stored options existed; a field added later must be optional or have
// a default here, so that journals written by earlier versions still parse.
import { z } from 'zod';
import { catalogueSchema } from '../../../shared/profile-catalogue-schema.js';
import { destinationSchema, uploadPolicySchema } from '../../../shared/profile-schema.js';
import type { FolderRules } from '../../../shared/profile-sync-schema.js';
import type { JobKind } from '../../../shared/model.js';
import type { JobCatalogue } from '../catalogue/job-catalogue.js';
import { catalogueUserSchema, metadataValueSchema } from '../catalogue/outbox/registration-request.js';
import type { KeyVariables } from '../keys/key-template.js';
import type { SyncFolder, SyncSettings } from '../sync/sync-rules.js';

/** Compile-time check that a schema's output is exactly an interface declared elsewhere (both ways). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <A, B>(ok: Same<A, B>): Same<A, B> => ok;

const nullableText = z.string().nullable().optional();

const keyVariables = z.object({
  facility: nullableText,
  beamline: nullableText,
  proposal: nullableText,
  visit: nullableText,
  dataset: z.string(),
  /** Fixed when the job starts, so a job resumed after midnight keeps its keys. */
  date: z.string(),
});
same<z.output<typeof keyVariables>, Omit<KeyVariables, 'relpath'>>(true);

/** Which files belong to the job and how their keys are made. */
const fileSelection = {
  /** Every include the job scans with: the profile's, then the operator's (`own.include`). */
  include: z.array(z.string()),
  /** Every exclude: the profile's default excludes and excludes, then the operator's (`own.exclude`). */
  exclude: z.array(z.string()),
  /**
   * The operator's own patterns (--include/--exclude, the app's form), the tail of the lists above;
   * what a rerun compares with what is typed now, while the profile's part is compared as the
   * profile's. Absent in jobs of versions before it was stored: their lists hold the operator's
   * and the profile's patterns as one, without the default excludes (sync jobs kept those in
   * each folder's ignore patterns).
   */
  own: z.object({ include: z.array(z.string()), exclude: z.array(z.string()) }).optional(),
  followSymlinks: z.boolean(),
  keyTemplate: z.string(),
  vars: keyVariables,
};

const jobCatalogueSchema = z.object({
  config: catalogueSchema,
  key: z.string().nullable(),
  owner: catalogueUserSchema.nullable(),
  technique: z.string().nullable(),
  scientific: z.record(z.string(), metadataValueSchema),
  license: z.string(),
  facility: z.string().nullable(),
  beamline: z.string().nullable(),
});
same<z.output<typeof jobCatalogueSchema>, JobCatalogue>(true);

/** What every job kind stores besides its files: destination, policy and catalogue side. */
const stored = {
  ...fileSelection,
  destinationConfig: destinationSchema,
  /** The destination came from --to (not named in the profile). */
  adhoc: z.boolean(),
  policy: uploadPolicySchema,
  /** Technique, metadata, owner and registration key; absent in jobs of versions before the outbox (local only). */
  catalogue: jobCatalogueSchema.optional(),
};

const markerRule = z.object({ match: z.string(), marker: z.string() });
const folderRules = z.object({
  quietPeriodMs: z.number(),
  exclusiveOpen: z.enum(['auto', 'always', 'never']),
  markers: z.array(markerRule),
  ignore: z.array(z.string()),
  mode: z.enum(['watch', 'poll']),
  pollIntervalMs: z.number(),
});
same<z.output<typeof folderRules>, FolderRules>(true);
const syncFolder = z.object({
  path: z.string(),
  rules: folderRules,
  inner: z.array(z.object({ rel: z.string(), rules: folderRules })),
});
same<z.output<typeof syncFolder>, SyncFolder>(true);
const syncSettings = z.object({
  onChange: z.enum(['version', 'flag']),
  reconcileIntervalMs: z.number(),
  rescanIntervalMs: z.number(),
  stopGraceMs: z.number(),
  technique: z.string().nullable(),
});
same<z.output<typeof syncSettings>, SyncSettings>(true);

export const batchOptionsSchema = z.object(stored);
/** A dry run stores what the batch upload it previews would: it is shown, never continued. */
export const dryRunOptionsSchema = z.object(stored);
export const syncOptionsSchema = z.object({
  ...stored,
  sync: z.object({ folders: z.array(syncFolder), settings: syncSettings }),
});

/** The file selection and key naming every job has (what the scanner and key renderer need). */
export type JobOptions = z.output<z.ZodObject<typeof fileSelection>>;
export type BatchJobOptions = z.output<typeof batchOptionsSchema>;
export type DryRunJobOptions = z.output<typeof dryRunOptionsSchema>;
export type SyncJobOptions = z.output<typeof syncOptionsSchema>;

export interface OptionsByKind {
  batch: BatchJobOptions;
  sync: SyncJobOptions;
  'dry-run': DryRunJobOptions;
}
/** Options of any kind of job. */
export type StoredOptions = OptionsByKind[JobKind];

export const OPTIONS_SCHEMAS: { [K in JobKind]: z.ZodType<OptionsByKind[K]> } = {
  batch: batchOptionsSchema,
  sync: syncOptionsSchema,
  'dry-run': dryRunOptionsSchema,
};
