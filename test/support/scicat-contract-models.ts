// Request validation for the SciCat contract server, driven by the official generated SDK
// (@scicatproject/scicat-sdk-ts-fetch): the accepted fields of a payload are the keys its
// `*FromJSON` mapper knows, the required ones are those its `instanceOf*` check needs. So a payload
// our adapter builds is checked against the official models, not against our own idea of them.
// Errors have the shape of class-validator's ValidationError, which SciCat returns (JSON-encoded)
// for v3 datasets, and flatten to the string list NestJS's ValidationPipe returns elsewhere.
import {
  CreateDatasetDtoFromJSON,
  instanceOfCreateDatasetDto,
  CreateJobDtoFromJSON,
  instanceOfCreateJobDto,
  CreateJobDtoV3FromJSON,
  instanceOfCreateJobDtoV3,
  DatasetListDtoFromJSON,
  instanceOfDatasetListDto,
  LifecycleClassFromJSON,
  instanceOfLifecycleClass,
  PartialUpdateDatasetDtoFromJSON,
  instanceOfPartialUpdateDatasetDto,
  PartialUpdateDatasetLifecycleDtoFromJSON,
  instanceOfPartialUpdateDatasetLifecycleDto,
  PartialUpdateDerivedDatasetObsoleteDtoFromJSON,
  instanceOfPartialUpdateDerivedDatasetObsoleteDto,
  PartialUpdateRawDatasetObsoleteDtoFromJSON,
  instanceOfPartialUpdateRawDatasetObsoleteDto,
  CreateDatasetOrigDatablockDtoFromJSON,
  instanceOfCreateDatasetOrigDatablockDto,
  CreateDerivedDatasetObsoleteDtoFromJSON,
  instanceOfCreateDerivedDatasetObsoleteDto,
  CreateOrigDatablockDtoFromJSON,
  instanceOfCreateOrigDatablockDto,
  CreateProposalDtoFromJSON,
  instanceOfCreateProposalDto,
  CreateRawDatasetObsoleteDtoFromJSON,
  instanceOfCreateRawDatasetObsoleteDto,
  CredentialsDtoFromJSON,
  instanceOfCredentialsDto,
  DataFileFromJSON,
  instanceOfDataFile,
} from '@scicatproject/scicat-sdk-ts-fetch';

/** class-validator's ValidationError, as SciCat serialises it. */
export interface FieldError {
  property: string;
  value?: unknown;
  constraints?: Record<string, string>;
  children: FieldError[];
}

export interface SdkModel {
  name: string;
  fromJSON(json: unknown): object;
  instanceOf(value: object): boolean;
}

const model = (name: string, fromJSON: (j: unknown) => object, instanceOf: (v: object) => boolean): SdkModel => ({
  name,
  fromJSON,
  instanceOf,
});

export const MODELS = {
  credentials: model('CredentialsDto', CredentialsDtoFromJSON, instanceOfCredentialsDto),
  rawV3: model('CreateRawDatasetObsoleteDto', CreateRawDatasetObsoleteDtoFromJSON, instanceOfCreateRawDatasetObsoleteDto),
  derivedV3: model(
    'CreateDerivedDatasetObsoleteDto',
    CreateDerivedDatasetObsoleteDtoFromJSON,
    instanceOfCreateDerivedDatasetObsoleteDto,
  ),
  datasetV4: model('CreateDatasetDto', CreateDatasetDtoFromJSON, instanceOfCreateDatasetDto),
  proposal: model('CreateProposalDto', CreateProposalDtoFromJSON, instanceOfCreateProposalDto),
  origBlockV3: model(
    'CreateDatasetOrigDatablockDto',
    CreateDatasetOrigDatablockDtoFromJSON,
    instanceOfCreateDatasetOrigDatablockDto,
  ),
  origBlockV4: model('CreateOrigDatablockDto', CreateOrigDatablockDtoFromJSON, instanceOfCreateOrigDatablockDto),
  dataFile: model('DataFile', DataFileFromJSON, instanceOfDataFile),
  /** A dataset's datasetlifecycle as given at creation. */
  lifecycle: model('LifecycleClass', LifecycleClassFromJSON, instanceOfLifecycleClass),
  /** PATCH /datasets/{pid}/datasetlifecycle. */
  lifecycleUpdate: model(
    'PartialUpdateDatasetLifecycleDto',
    PartialUpdateDatasetLifecycleDtoFromJSON,
    instanceOfPartialUpdateDatasetLifecycleDto,
  ),
  /** PATCH /datasets/{pid}. */
  rawUpdateV3: model(
    'PartialUpdateRawDatasetObsoleteDto',
    PartialUpdateRawDatasetObsoleteDtoFromJSON,
    instanceOfPartialUpdateRawDatasetObsoleteDto,
  ),
  derivedUpdateV3: model(
    'PartialUpdateDerivedDatasetObsoleteDto',
    PartialUpdateDerivedDatasetObsoleteDtoFromJSON,
    instanceOfPartialUpdateDerivedDatasetObsoleteDto,
  ),
  datasetUpdateV4: model('PartialUpdateDatasetDto', PartialUpdateDatasetDtoFromJSON, instanceOfPartialUpdateDatasetDto),
  /** POST /api/v3/jobs and /api/v4/jobs. */
  jobV3: model('CreateJobDtoV3', CreateJobDtoV3FromJSON, instanceOfCreateJobDtoV3),
  jobV4: model('CreateJobDto', CreateJobDtoFromJSON, instanceOfCreateJobDto),
  datasetList: model('DatasetListDto', DatasetListDtoFromJSON, instanceOfDatasetListDto),
} as const;

interface Shape {
  allowed: string[];
  required: string[];
}
const shapes = new Map<string, Shape>();

/** Accepted and required fields of a model, read from the SDK itself. */
export function modelShape(m: SdkModel): Shape {
  const cached = shapes.get(m.name);
  if (cached !== undefined) return cached;
  // Some mappers map arrays unconditionally (dataFileList.map): feed them an object whose every
  // field is an empty array, which every mapper accepts.
  const probe = new Proxy({}, { get: () => [] });
  const allowed = Object.keys(m.fromJSON(probe));
  const full: Record<string, unknown> = Object.fromEntries(allowed.map((k) => [k, 'x']));
  const required = allowed.filter((k) => {
    const copy = { ...full };
    delete copy[k];
    return !m.instanceOf(copy);
  });
  const shape = { allowed, required };
  shapes.set(m.name, shape);
  return shape;
}

type FieldType = 'string' | 'number' | 'boolean' | 'date' | 'string[]' | 'object' | 'array';

/** Nested objects validated against their own SDK model (a whitelist at every level, as class-validator's nested DTOs). */
const NESTED: Record<string, keyof typeof MODELS> = { datasetlifecycle: 'lifecycle' };

// The SDK carries no runtime types, so the types of the fields our adapters send are listed here
// (as the backend's DTO decorators declare them).
const TYPES: Record<string, FieldType> = {
  username: 'string',
  password: 'string',
  ownerGroup: 'string',
  accessGroups: 'string[]',
  owner: 'string',
  ownerEmail: 'string',
  contactEmail: 'string',
  sourceFolder: 'string',
  size: 'number',
  numberOfFiles: 'number',
  creationTime: 'date',
  startTime: 'date',
  endTime: 'date',
  keywords: 'string[]',
  description: 'string',
  datasetName: 'string',
  scientificMetadata: 'object',
  proposalId: 'string',
  principalInvestigator: 'string',
  creationLocation: 'string',
  sampleId: 'string',
  instrumentId: 'string',
  type: 'string',
  investigator: 'string',
  inputDatasets: 'string[]',
  usedSoftware: 'string[]',
  pid: 'string',
  principalInvestigators: 'string[]',
  proposalIds: 'string[]',
  sampleIds: 'string[]',
  instrumentIds: 'string[]',
  email: 'string',
  title: 'string',
  chkAlg: 'string',
  dataFileList: 'array',
  datasetId: 'string',
  path: 'string',
  time: 'date',
  chk: 'string',
  datasetlifecycle: 'object',
  archivable: 'boolean',
  retrievable: 'boolean',
  publishable: 'boolean',
  isOnCentralDisk: 'boolean',
  retrieveIntegrityCheck: 'boolean',
  archiveStatusMessage: 'string',
  retrieveStatusMessage: 'string',
  exportedTo: 'string',
  storageLocation: 'string',
  dateOfDiskPurging: 'date',
  archiveRetentionTime: 'date',
  dateOfPublishing: 'date',
  publishedOn: 'date',
  archiveReturnMessage: 'object',
  retrieveReturnMessage: 'object',
  jobParams: 'object',
  datasetList: 'array',
  emailJobInitiator: 'string',
  ownerUser: 'string',
  executionTime: 'date',
  jobStatusMessage: 'string',
  jobResultObject: 'object',
  files: 'string[]',
};

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function typeError(key: string, value: unknown, type: FieldType): Record<string, string> | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : { isString: `${key} must be a string` };
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : { isNumber: `${key} must be a number conforming to the specified constraints` };
    case 'boolean':
      return typeof value === 'boolean' ? undefined : { isBoolean: `${key} must be a boolean value` };
    case 'date':
      return typeof value === 'string' && ISO_8601.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : { isDateString: `${key} must be a valid ISO 8601 date string` };
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? undefined
        : { isString: `each value in ${key} must be a string` };
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? undefined
        : { isObject: `${key} must be an object` };
    case 'array':
      return Array.isArray(value) ? undefined : { isArray: `${key} must be an array` };
  }
}

/** Whitelist, required fields and types of one payload against one SDK model. */
export function validateModel(m: SdkModel, payload: unknown): FieldError[] {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return [
      {
        property: '',
        value: payload,
        constraints: { isObject: `the request body must be a JSON object (${m.name})` },
        children: [],
      },
    ];
  }
  const body = payload as Record<string, unknown>;
  const { allowed, required } = modelShape(m);
  const errors: FieldError[] = [];
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key))
      errors.push({
        property: key,
        value: body[key],
        constraints: { whitelistValidation: `property ${key} should not exist` },
        children: [],
      });
  }
  for (const key of required) {
    if (body[key] === undefined || body[key] === null)
      errors.push({
        property: key,
        value: body[key],
        constraints: { isDefined: `${key} should not be null or undefined` },
        children: [],
      });
  }
  for (const [key, value] of Object.entries(body)) {
    const type = TYPES[key];
    if (!allowed.includes(key) || value === undefined || value === null || type === undefined) continue;
    const bad = typeError(key, value, type);
    if (bad !== undefined) errors.push({ property: key, value, constraints: bad, children: [] });
  }
  for (const [key, nested] of Object.entries(NESTED)) {
    const value = body[key];
    if (!allowed.includes(key) || typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const inner = validateModel(MODELS[nested], value);
    if (inner.length > 0) errors.push({ property: key, value, children: inner });
  }
  if (Array.isArray(body.dataFileList)) {
    const children = body.dataFileList.flatMap((f, i): FieldError[] => {
      const inner = validateModel(MODELS.dataFile, f);
      return inner.length === 0 ? [] : [{ property: String(i), value: f, children: inner }];
    });
    if (children.length > 0) errors.push({ property: 'dataFileList', children });
  }
  return errors;
}

/** NestJS ValidationPipe's message list: "parent.child.field must be …". */
export function flattenErrors(errors: FieldError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix === '' ? e.property : `${prefix}.${e.property}`;
    const own = Object.values(e.constraints ?? {}).map((m) => (prefix === '' ? m : `${prefix}.${m}`));
    return [...own, ...flattenErrors(e.children, path)];
  });
}

/** Minimal MongoDB filter matching, for the `where` of SciCat's list routes. */
export function matchesWhere(doc: Record<string, unknown>, where: Record<string, unknown>): boolean {
  return Object.entries(where).every(([key, cond]) => {
    if (key === '$or') return Array.isArray(cond) && cond.some((c) => matchesWhere(doc, c as Record<string, unknown>));
    if (key === '$and') return Array.isArray(cond) && cond.every((c) => matchesWhere(doc, c as Record<string, unknown>));
    const value = key
      .split('.')
      .reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), doc);
    return matchesCondition(value, cond);
  });
}

function matchesCondition(value: unknown, cond: unknown): boolean {
  if (cond !== null && typeof cond === 'object' && !Array.isArray(cond)) {
    const ops = cond as Record<string, unknown>;
    return Object.entries(ops).every(([op, arg]) => {
      switch (op) {
        case '$in':
          return Array.isArray(arg) && arg.some((a) => matchesCondition(value, a));
        case '$eq':
          return matchesCondition(value, arg);
        case '$regex': {
          const re = new RegExp(String(arg), typeof ops.$options === 'string' ? ops.$options : '');
          return (Array.isArray(value) ? value : [value]).some((v) => typeof v === 'string' && re.test(v));
        }
        case '$options':
          return true;
        default:
          throw new Error(`the SciCat contract server does not implement the filter operator ${op}`);
      }
    });
  }
  // MongoDB: a scalar condition matches an array field when any element equals it.
  if (Array.isArray(value) && !Array.isArray(cond)) return value.includes(cond);
  return JSON.stringify(value) === JSON.stringify(cond);
}
