// What Beamdrop sends to SciCat, built from a DatasetDraft: v3 raw and derived datasets (the
// "obsolete" DTOs, whose whitelists differ), v4 datasets (links as arrays), and OrigDatablocks.
// Types come from the official SDK models so that a renamed or removed field breaks the build.
// Datasets are created with size 0: the origdatablocks route adds each block's size and count.
// They are created not archivable (SciCat's default is archivable = true at creation, so an
// archive job could take a dataset whose files are still arriving); finishDataset makes them
// archivable once the last file is registered, as scicat-cli does after its copy, and
// reopenDataset makes them not archivable again while more files arrive.
import type {
  CreateDatasetDto,
  CreateDatasetOrigDatablockDto,
  CreateDerivedDatasetObsoleteDto,
  CreateOrigDatablockDto,
  CreateRawDatasetObsoleteDto,
  DataFile,
  LifecycleClass,
  PartialUpdateDatasetDto,
  PartialUpdateDatasetLifecycleDto,
  PartialUpdateDerivedDatasetObsoleteDto,
  PartialUpdateRawDatasetObsoleteDto,
} from '@scicatproject/scicat-sdk-ts-fetch';
import type { CatalogueFileEntry, DatasetDraft, MetadataValue } from '../catalogue-adapter.js';

/** The SDK types dates as Date; on the wire they are ISO strings, which is what we send. */
type Wire<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | undefined ? string | undefined : T[K] };

export type RawV3 = Wire<CreateRawDatasetObsoleteDto>;
export type DerivedV3 = Wire<CreateDerivedDatasetObsoleteDto>;
export type DatasetV4 = Wire<CreateDatasetDto>;
export type FileWire = Wire<DataFile>;
export type BlockV3 = Omit<CreateDatasetOrigDatablockDto, 'dataFileList'> & { dataFileList: FileWire[] };
export type BlockV4 = Omit<CreateOrigDatablockDto, 'dataFileList'> & { dataFileList: FileWire[] };
export type LifecycleUpdate = Wire<PartialUpdateDatasetLifecycleDto>;
export type RawUpdateV3 = Wire<PartialUpdateRawDatasetObsoleteDto>;
export type DerivedUpdateV3 = Wire<PartialUpdateDerivedDatasetObsoleteDto>;
export type DatasetUpdateV4 = Wire<PartialUpdateDatasetDto>;

/** At creation: not archivable until every file is there (scicat-cli's "filesNotYetAvailable"). */
export const LIFECYCLE_AT_CREATION: LifecycleClass = { archivable: false, archiveStatusMessage: 'filesNotYetAvailable' };
/** After the last file was verified and registered: an archive job may take the dataset. */
export const LIFECYCLE_WHEN_FINISHED: LifecycleUpdate = { archivable: true, archiveStatusMessage: 'datasetCreated' };
/** A finished dataset that gets more files: not archivable again until they are registered. */
export const LIFECYCLE_WHEN_REOPENED: LifecycleUpdate = {
  archivable: false,
  archiveStatusMessage: LIFECYCLE_AT_CREATION.archiveStatusMessage,
};

/** SciCat's physical-quantity form; the server adds valueSI/unitSI itself. */
export function scientificMetadata(
  md: Record<string, MetadataValue>,
): Record<string, { value: MetadataValue['value']; unit?: string }> {
  return Object.fromEntries(
    Object.entries(md).map(([k, v]) => [k, v.unit === undefined ? { value: v.value } : { value: v.value, unit: v.unit }]),
  );
}

/** The free tags: the idempotency key (how findDataset finds the dataset again) and the technique. */
export function keywords(draft: DatasetDraft): string[] {
  return draft.technique === null ? [draft.key] : [draft.key, draft.technique];
}

/** "/FACILITY/BEAMLINE", SciCat's usual creationLocation; a beamline code is not an instrument PID. */
export function creationLocation(draft: DatasetDraft): string {
  const parts = [draft.facility, draft.instrument].filter((p): p is string => p !== null && p !== '');
  return parts.length === 0 ? 'unknown' : `/${parts.join('/')}`;
}

/** Only the keys that have a value: the whitelist rejects nothing we leave out. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}

function common(draft: DatasetDraft) {
  return {
    ownerGroup: draft.ownerGroup,
    accessGroups: draft.accessGroups,
    owner: draft.owner,
    contactEmail: draft.contactEmail,
    sourceFolder: draft.sourceFolder,
    creationTime: draft.creationTime,
    datasetName: draft.name,
    description: draft.description,
    keywords: keywords(draft),
    scientificMetadata: scientificMetadata(draft.scientificMetadata),
    size: 0,
    numberOfFiles: 0,
    datasetlifecycle: { ...LIFECYCLE_AT_CREATION },
  };
}

export function datasetV3(draft: DatasetDraft): RawV3 | DerivedV3 {
  if (draft.type === 'derived') {
    return defined<DerivedV3>({
      ...common(draft),
      type: 'derived',
      proposalId: draft.proposalId ?? undefined,
      investigator: draft.principalInvestigator,
      inputDatasets: draft.inputDatasets ?? [],
      usedSoftware: draft.usedSoftware ?? [],
    });
  }
  return defined<RawV3>({
    ...common(draft),
    type: 'raw',
    proposalId: draft.proposalId ?? undefined,
    sampleId: draft.sample ?? undefined,
    principalInvestigator: draft.principalInvestigator,
    creationLocation: creationLocation(draft),
    startTime: draft.startTime,
    endTime: draft.endTime,
  });
}

export function datasetV4(draft: DatasetDraft): DatasetV4 {
  const derived = draft.type === 'derived';
  return defined<DatasetV4>({
    ...common(draft),
    type: draft.type,
    principalInvestigators: [draft.principalInvestigator],
    proposalIds: draft.proposalId === null ? undefined : [draft.proposalId],
    sampleIds: draft.sample === null ? undefined : [draft.sample],
    creationLocation: creationLocation(draft),
    startTime: draft.startTime,
    endTime: draft.endTime,
    inputDatasets: derived ? (draft.inputDatasets ?? []) : undefined,
    usedSoftware: derived ? (draft.usedSoftware ?? []) : undefined,
  });
}

function dataFileList(files: CatalogueFileEntry[]): FileWire[] {
  return files.map((f) => ({ path: f.path, size: f.size, time: f.time, chk: f.sha256 }));
}

/** The block's size is the sum of its files: SciCat adds it to the dataset's size. */
export function blockV3(files: CatalogueFileEntry[]): BlockV3 {
  return { size: files.reduce((s, f) => s + f.size, 0), chkAlg: 'sha256', dataFileList: dataFileList(files) };
}

export function blockV4(
  datasetId: string,
  ownerGroup: string | undefined,
  accessGroups: string[],
  files: CatalogueFileEntry[],
): BlockV4 {
  return defined<BlockV4>({ ...blockV3(files), datasetId, ownerGroup, accessGroups });
}

/**
 * PATCH /datasets/{pid} after a change of the dataset's description (a rerun with other -p
 * values, `catalogue retry -p`): the fields Beamdrop describes a dataset with. Top-level fields
 * are replaced ($set), so scientificMetadata becomes exactly the draft's; keywords keep the key.
 */
export function datasetUpdateV3(draft: DatasetDraft): RawUpdateV3 | DerivedUpdateV3 {
  const base = {
    description: draft.description,
    keywords: keywords(draft),
    scientificMetadata: scientificMetadata(draft.scientificMetadata),
  };
  if (draft.type === 'derived')
    return defined<DerivedUpdateV3>({ ...base, inputDatasets: draft.inputDatasets, usedSoftware: draft.usedSoftware });
  return defined<RawUpdateV3>({ ...base, sampleId: draft.sample ?? undefined });
}

export function datasetUpdateV4(draft: DatasetDraft): DatasetUpdateV4 {
  const derived = draft.type === 'derived';
  return defined<DatasetUpdateV4>({
    description: draft.description,
    keywords: keywords(draft),
    scientificMetadata: scientificMetadata(draft.scientificMetadata),
    sampleIds: draft.sample === null ? undefined : [draft.sample],
    inputDatasets: derived ? (draft.inputDatasets ?? []) : undefined,
    usedSoftware: derived ? (draft.usedSoftware ?? []) : undefined,
  });
}
