// A SciCat backend stand-in for the adapter tests (scicat-backend-next needs MongoDB, which cannot
// run here). It follows shared/reference/catalogues.md: /api/v3 and /api/v4 routes, bearer tokens
// from POST /api/v3/auth/login, server-assigned PIDs "<prefix>/<uuid>" (URL-encoded in paths),
// whitelist validation against the official SDK models (scicat-contract-models.ts), v3 dataset
// errors as {"status":400,"message":"<JSON of errors>"} and other 400s as
// {"statusCode":400,"message":[…]}, 409 on a duplicate pid, 404/403 on GET, and OrigDatablocks
// that add their size and file count to the dataset and are never deduplicated. A dataset's
// datasetlifecycle gets SciCat's defaults at creation (archivable = true unless the payload says
// otherwise), is changed by PATCH /datasets/{pid}/datasetlifecycle (or, on backends before that
// route, by PATCH /datasets/{pid}), and POST /jobs of type "archive" refuses, as the backend's
// recommended job configuration does (a "validate" action with datasetlifecycle.archivable const
// true), any listed dataset that is not archivable: 400 {"status":400,"message":"Invalid request.
// Invalid value for 'datasetlifecycle.archivable'"}. Tests can expire tokens, take the server down
// and bring it back, and add metadata rules that reject values (at creation and in a PATCH).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseJson, startContractHttp, type ContractHttpServer, type ContractResponse } from './contract-http.js';
import { flattenErrors, matchesWhere, MODELS, validateModel, type FieldError } from './scicat-contract-models.js';

export interface ScicatUser {
  username: string;
  password: string;
  email: string;
  groups: string[];
}

export type Doc = Record<string, unknown>;

export interface ScicatContractServer extends ContractHttpServer {
  pidPrefix: string;
  datasets: Map<string, Doc>;
  /** OrigDatablocks in creation order. */
  origDatablocks: Doc[];
  proposals: Map<string, Doc>;
  /** Jobs accepted by POST /api/v3|v4/jobs, in creation order (v4 shape). */
  jobs: Doc[];
  addUser(user: ScicatUser): void;
  /** Every token issued so far answers 401 from now on (as after its expires_in). */
  expireTokens(): void;
  /** Reject datasets whose scientificMetadata[key] fails `check` (returns the reason, or null). */
  setMetadataRule(key: string, check: (entry: unknown) => string | null): void;
  clearMetadataRules(): void;
  /** The next `count` API requests answer `status` (a struggling server), then all is normal. */
  failNext(count: number, status?: number): void;
}

export interface ScicatContractOptions {
  pidPrefix?: string;
  users?: ScicatUser[];
  tokenTtlSeconds?: number;
  /** Groups whose members may create proposals (SciCat's PROPOSAL_GROUPS). */
  proposalGroups?: string[];
  /** false: a backend from before PATCH /datasets/{pid}/datasetlifecycle (2025): that route answers 404. */
  lifecycleRoute?: boolean;
  port?: number;
}

/** SciCat's LifecycleSchema defaults (src/datasets/schemas/lifecycle.schema.ts). */
export function lifecycleDefaults(now = new Date()): Doc {
  const at = now.toISOString();
  const day = new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
  return {
    archivable: true,
    retrievable: false,
    publishable: false,
    dateOfDiskPurging: at,
    archiveRetentionTime: day,
    dateOfPublishing: day,
    publishedOn: at,
    isOnCentralDisk: true,
    archiveStatusMessage: 'datasetCreated',
    retrieveStatusMessage: '',
    archiveReturnMessage: {},
    retrieveReturnMessage: {},
    retrieveIntegrityCheck: false,
  };
}

/** Job types as in the backend's jobConfig.example.yaml: each validates one lifecycle flag of its datasets. */
const JOB_TYPES: Record<string, { flag: string }> = {
  archive: { flag: 'datasetlifecycle.archivable' },
  retrieve: { flag: 'datasetlifecycle.retrievable' },
};
const JOB_CONFIG_VERSION = 'v1.0 2024-03-01 6f3f38';

interface Token {
  user: ScicatUser;
  expiresAt: number;
  revoked: boolean;
}

const unauthorized: ContractResponse = { status: 401, body: { statusCode: 401, message: 'Unauthorized' } };
const forbidden = (message = 'Forbidden resource'): ContractResponse => ({
  status: 403,
  body: { statusCode: 403, message, error: 'Forbidden' },
});
const notFound = (message = 'Not Found'): ContractResponse => ({
  status: 404,
  body: { statusCode: 404, message, error: 'Not Found' },
});
const badRequest = (errors: FieldError[]): ContractResponse => ({
  status: 400,
  body: { statusCode: 400, message: flattenErrors(errors), error: 'Bad Request' },
});
/** HttpException({status, message}) as the jobs controller throws it. */
const jobRefused = (message: string, status = 400): ContractResponse => ({ status, body: { status, message } });
/** The v3 dataset controller's own validation answer. */
const badRequestV3 = (errors: FieldError[]): ContractResponse => ({
  status: 400,
  body: { status: 400, message: JSON.stringify(errors) },
});

export async function startScicatContractServer(opts: ScicatContractOptions = {}): Promise<ScicatContractServer> {
  const pidPrefix = opts.pidPrefix ?? '20.500.12269';
  const ttl = opts.tokenTtlSeconds ?? 3600;
  const proposalGroups = opts.proposalGroups ?? ['proposal-ingestor'];
  const users = new Map<string, ScicatUser>((opts.users ?? []).map((u) => [u.username, u]));
  const tokens = new Map<string, Token>();
  const datasets = new Map<string, Doc>();
  const proposals = new Map<string, Doc>();
  const origDatablocks: Doc[] = [];
  const jobs: Doc[] = [];
  const lifecycleRoute = opts.lifecycleRoute ?? true;
  const metadataRules = new Map<string, (entry: unknown) => string | null>();
  let failures: { count: number; status: number } = { count: 0, status: 503 };

  const caller = (req: IncomingMessage): ScicatUser | undefined => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const t = m?.[1] === undefined ? undefined : tokens.get(m[1]);
    return t === undefined || t.revoked || Date.now() > t.expiresAt ? undefined : t.user;
  };
  const visible = (doc: Doc, user: ScicatUser): boolean =>
    doc.isPublished === true ||
    user.groups.includes(String(doc.ownerGroup)) ||
    ((doc.accessGroups as string[] | undefined) ?? []).some((g) => user.groups.includes(g));
  const listFilter = (url: URL, param: string): { where: Doc; limit: number; skip: number } => {
    const f = (parseJson(url.searchParams.get(param) ?? '{}') ?? {}) as {
      where?: Doc;
      limits?: { limit?: number; skip?: number };
    };
    return { where: f.where ?? {}, limit: f.limits?.limit ?? Number.MAX_SAFE_INTEGER, skip: f.limits?.skip ?? 0 };
  };
  const list = (docs: Iterable<Doc>, user: ScicatUser, url: URL, param: string): ContractResponse => {
    const { where, limit, skip } = listFilter(url, param);
    return { status: 200, body: [...docs].filter((d) => visible(d, user) && matchesWhere(d, where)).slice(skip, skip + limit) };
  };
  const stamp = (user: ScicatUser): Doc => {
    const now = new Date().toISOString();
    return { createdBy: user.username, updatedBy: user.username, createdAt: now, updatedAt: now };
  };

  const metadataErrors = (body: Doc): FieldError[] => {
    const sm = body.scientificMetadata;
    if (typeof sm !== 'object' || sm === null) return [];
    const children = [...metadataRules].flatMap(([key, check]): FieldError[] => {
      const reason = check((sm as Doc)[key]);
      return reason === null
        ? []
        : [{ property: key, value: (sm as Doc)[key], constraints: { scientificMetadataRule: `${key} ${reason}` }, children: [] }];
    });
    return children.length === 0 ? [] : [{ property: 'scientificMetadata', children }];
  };

  const createDataset = (version: string, body: unknown, user: ScicatUser): ContractResponse => {
    const doc = (body ?? {}) as Doc;
    let errors: FieldError[];
    if (version === 'v3') {
      const m = doc.type === 'raw' ? MODELS.rawV3 : doc.type === 'derived' ? MODELS.derivedV3 : undefined;
      errors =
        m === undefined
          ? [
              {
                property: 'type',
                value: doc.type,
                constraints: { isEnum: 'type must be one of the following values: raw, derived' },
                children: [],
              },
            ]
          : validateModel(m, body);
    } else {
      errors = validateModel(MODELS.datasetV4, body);
      if (errors.length === 0 && doc.type !== 'raw' && doc.type !== 'derived') {
        errors = [
          {
            property: 'type',
            value: doc.type,
            constraints: { isEnum: 'type must be one of the following values: raw, derived' },
            children: [],
          },
        ];
      }
    }
    errors.push(...metadataErrors(doc));
    if (errors.length > 0) return version === 'v3' ? badRequestV3(errors) : badRequest(errors);
    if (!user.groups.includes(String(doc.ownerGroup)))
      return forbidden(`Unauthorized to create datasets for group ${String(doc.ownerGroup)}`);
    const pid = typeof doc.pid === 'string' ? doc.pid : `${pidPrefix}/${randomUUID()}`;
    if (datasets.has(pid))
      return { status: 409, body: { statusCode: 409, message: `A dataset with pid ${pid} already exists`, error: 'Conflict' } };
    const stored: Doc = {
      ...doc,
      ...stamp(user),
      pid,
      size: doc.size ?? 0,
      numberOfFiles: doc.numberOfFiles ?? 0,
      accessGroups: doc.accessGroups ?? [],
      isPublished: doc.isPublished ?? false,
      // Mongoose fills the LifecycleSchema defaults for what the payload leaves out.
      datasetlifecycle: { ...lifecycleDefaults(), ...((doc.datasetlifecycle as Doc | undefined) ?? {}) },
    };
    datasets.set(pid, stored);
    return { status: 201, body: stored };
  };

  const getDataset = (pid: string, user: ScicatUser): ContractResponse => {
    const doc = datasets.get(pid);
    if (doc === undefined) return notFound(`Dataset ${pid} not found`);
    return visible(doc, user) ? { status: 200, body: doc } : forbidden('Unauthorized access');
  };

  /** The dataset for a write by `user`: 404 when absent, 403 unless the user is in its owner group. */
  const writable = (pid: string, user: ScicatUser): Doc | ContractResponse => {
    const doc = datasets.get(pid);
    if (doc === undefined) return notFound(`Dataset ${pid} not found`);
    if (!user.groups.includes(String(doc.ownerGroup))) return forbidden('Unauthorized to update this dataset');
    return doc;
  };
  const isResponse = (x: Doc | ContractResponse): x is ContractResponse => typeof (x as ContractResponse).status === 'number';

  /** Setting a property to null resets it to its default; other values replace it. */
  const patchLifecycle = (current: Doc, update: Doc): Doc => {
    const defaults = lifecycleDefaults();
    const next = { ...current };
    for (const [k, v] of Object.entries(update)) next[k] = v === null ? defaults[k] : v;
    return next;
  };

  const updateLifecycle = (pid: string, body: unknown, user: ScicatUser): ContractResponse => {
    const errors = validateModel(MODELS.lifecycleUpdate, body);
    if (errors.length > 0) return badRequest(errors);
    const doc = writable(pid, user);
    if (isResponse(doc)) return doc;
    doc.datasetlifecycle = patchLifecycle((doc.datasetlifecycle as Doc | undefined) ?? lifecycleDefaults(), body as Doc);
    Object.assign(doc, { updatedBy: user.username, updatedAt: new Date().toISOString() });
    return { status: 200, body: doc.datasetlifecycle };
  };

  /** PATCH /datasets/{pid}: top-level fields replaced ($set); a JSON merge patch merges nested objects. */
  const updateDataset = (
    version: string,
    pid: string,
    body: unknown,
    user: ScicatUser,
    mergePatch: boolean,
  ): ContractResponse => {
    const existing = datasets.get(pid);
    const m =
      version === 'v4' ? MODELS.datasetUpdateV4 : existing?.type === 'derived' ? MODELS.derivedUpdateV3 : MODELS.rawUpdateV3;
    const errors = validateModel(m, body);
    errors.push(...metadataErrors((body ?? {}) as Doc));
    if (errors.length > 0) return version === 'v3' ? badRequestV3(errors) : badRequest(errors);
    const doc = writable(pid, user);
    if (isResponse(doc)) return doc;
    const update = body as Doc;
    for (const [k, v] of Object.entries(update)) {
      if (k === 'datasetlifecycle') {
        const base = mergePatch ? ((doc.datasetlifecycle as Doc | undefined) ?? lifecycleDefaults()) : lifecycleDefaults();
        doc.datasetlifecycle = patchLifecycle(base, (v ?? {}) as Doc);
      } else if (v === null && mergePatch) delete doc[k];
      else doc[k] = v;
    }
    Object.assign(doc, { updatedBy: user.username, updatedAt: new Date().toISOString() });
    return { status: 200, body: doc };
  };

  /** jobs.controller.utils validateDatasetList: a non-empty list of {pid, files} whose pids exist. */
  const checkDatasetList = (list: unknown): { pid: string; files: string[] }[] | ContractResponse => {
    if (!Array.isArray(list)) return jobRefused('Invalid dataset list');
    if (list.length === 0) return jobRefused('List of passed datasets is empty.');
    for (const item of list) {
      const keys = typeof item === 'object' && item !== null ? Object.keys(item as object) : [];
      if (keys.length !== 2 || !keys.every((k) => k === 'pid' || k === 'files'))
        return jobRefused('Dataset list is expected to contain sets of pid and files.');
      if (typeof (item as Doc).pid !== 'string') return jobRefused("In datasetList each 'pid' field should be a string.");
      if (!Array.isArray((item as Doc).files)) return jobRefused("In datasetList each 'files' field should be an array.");
    }
    const entries = list as { pid: string; files: string[] }[];
    const absent = entries.map((e) => e.pid).filter((p) => !datasets.has(p));
    if (absent.length > 0) return jobRefused(`Datasets with pid ${absent.join(',')} do not exist.`);
    return entries;
  };

  const createJob = (version: string, body: unknown, user: ScicatUser): ContractResponse => {
    const errors = validateModel(version === 'v3' ? MODELS.jobV3 : MODELS.jobV4, body);
    if (errors.length > 0) return badRequest(errors);
    const b = body as Doc;
    // The v3 route maps its body onto the v4 one (CreateJobV3MappingInterceptor): datasetList goes
    // into jobParams, and the owner group is the last group of jobParams.username, else "".
    if (version === 'v3') delete (b.jobParams as Doc | undefined)?.datasetList;
    const jobParams: Doc =
      version === 'v3' ? { datasetList: b.datasetList ?? [], ...((b.jobParams as Doc | undefined) ?? {}) } : (b.jobParams as Doc);
    const named = typeof jobParams.username === 'string' ? users.get(jobParams.username) : undefined;
    const ownerGroup =
      version === 'v3'
        ? named === undefined
          ? ''
          : (named.groups[named.groups.length - 1] ?? '')
        : (b.ownerGroup as string | undefined);
    const type = String(b.type);
    const config = JOB_TYPES[type];
    if (config === undefined) return jobRefused(`Invalid job type: ${type}`);
    const list = checkDatasetList(jobParams.datasetList);
    if (!Array.isArray(list)) return list;
    if (!ownerGroup) return jobRefused('Invalid new job. Owner group should be specified.');
    if (!user.groups.includes(ownerGroup)) return jobRefused('Invalid new job. User needs to belong to job owner group.');
    // create.auth "#datasetOwner": every dataset belongs to the job's owner group.
    if (list.some((e) => datasets.get(e.pid)?.ownerGroup !== ownerGroup))
      return { status: 403, body: { statusCode: 403, message: 'Unauthorized to create this dataset', error: 'Forbidden' } };
    // The "validate" action: the lifecycle flag of every listed dataset must be true.
    const [, field] = config.flag.split('.') as [string, string];
    for (const e of list) {
      const lifecycle = (datasets.get(e.pid)?.datasetlifecycle ?? {}) as Doc;
      if (lifecycle[field] !== true) return jobRefused(`Invalid request. Invalid value for '${config.flag}'`);
    }
    const now = new Date().toISOString();
    const job: Doc = {
      _id: randomUUID(),
      id: randomUUID(),
      type,
      ownerUser: user.username,
      ownerGroup,
      accessGroups: [],
      isPublished: false,
      contactEmail: (b.contactEmail as string | undefined) ?? (b.emailJobInitiator as string | undefined) ?? user.email,
      jobParams: { ...jobParams, datasetList: list },
      configVersion: JOB_CONFIG_VERSION,
      statusCode: 'jobSubmitted',
      statusMessage: 'Job submitted.',
      jobResultObject: {},
      createdBy: user.username,
      updatedBy: user.username,
      createdAt: now,
      updatedAt: now,
    };
    jobs.push(job);
    if (version === 'v4') return { status: 201, body: job };
    // mapJobClassV4toV3
    return {
      status: 201,
      body: {
        id: job.id,
        emailJobInitiator: job.contactEmail,
        type,
        creationTime: now,
        jobParams: job.jobParams,
        jobStatusMessage: job.statusCode,
        datasetList: list,
        jobResultObject: {},
        ownerGroup,
        createdBy: user.username,
        updatedBy: user.username,
        createdAt: now,
        updatedAt: now,
      },
    };
  };

  const addBlock = (version: string, pid: string, body: unknown, user: ScicatUser): ContractResponse => {
    const errors = validateModel(version === 'v3' ? MODELS.origBlockV3 : MODELS.origBlockV4, body);
    if (errors.length > 0) return badRequest(errors);
    const dataset = datasets.get(pid);
    if (dataset === undefined) return notFound(`Dataset ${pid} not found`);
    if (!user.groups.includes(String(dataset.ownerGroup))) return forbidden('Unauthorized to add origdatablocks to this dataset');
    const block = body as Doc;
    const files = block.dataFileList as unknown[];
    const stored: Doc = {
      ownerGroup: dataset.ownerGroup,
      accessGroups: dataset.accessGroups,
      ...block,
      ...stamp(user),
      _id: randomUUID(),
      datasetId: pid,
    };
    origDatablocks.push(stored);
    // What SciCat does on this route: the block's size and count are added to the dataset.
    dataset.size = Number(dataset.size ?? 0) + Number(block.size);
    dataset.numberOfFiles = Number(dataset.numberOfFiles ?? 0) + files.length;
    return { status: 201, body: stored };
  };

  const login = (body: unknown): ContractResponse => {
    const errors = validateModel(MODELS.credentials, body);
    if (errors.length > 0) return badRequest(errors);
    const { username, password } = body as { username: string; password: string };
    const user = users.get(username);
    if (user === undefined || user.password !== password) return unauthorized;
    const token = randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', '');
    const created = new Date();
    tokens.set(token, { user, expiresAt: created.getTime() + ttl * 1000, revoked: false });
    const returnedUser = { id: `id-${user.username}`, username: user.username, email: user.email, authStrategy: 'local' };
    return {
      status: 201,
      body: {
        access_token: token,
        id: token,
        expires_in: ttl,
        ttl,
        created: created.toISOString(),
        userId: returnedUser.id,
        user: returnedUser,
      },
    };
  };

  const createProposal = (body: unknown, user: ScicatUser): ContractResponse => {
    const errors = validateModel(MODELS.proposal, body);
    if (errors.length > 0) return badRequest(errors);
    if (!user.groups.some((g) => proposalGroups.includes(g))) return forbidden('Unauthorized to create proposals');
    const p = body as Doc;
    const id = String(p.proposalId);
    if (proposals.has(id))
      return { status: 409, body: { statusCode: 409, message: `Proposal ${id} already exists`, error: 'Conflict' } };
    const stored: Doc = {
      accessGroups: [],
      keywords: [],
      type: 'Default Proposal',
      parentProposalId: null,
      isPublished: false,
      ...p,
      ...stamp(user),
    };
    proposals.set(id, stored);
    return { status: 201, body: stored };
  };

  const route = (req: IncomingMessage, url: URL, rawBody: string): ContractResponse => {
    const raw = (req.url ?? '/').split('?')[0] ?? '/';
    const m = /^\/api\/(v3|v4)(\/.*)$/.exec(raw);
    if (m === null) return notFound(`Cannot ${req.method} ${raw}`);
    if (failures.count > 0) {
      failures.count -= 1;
      return { status: failures.status, body: { statusCode: failures.status, message: 'Service Unavailable' } };
    }
    const version = m[1] as string;
    // Express matches routes on the encoded path and decodes each parameter afterwards, so a PID
    // whose "/" is not encoded as %2F does not reach the dataset routes.
    const seg = (m[2] as string)
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
    const method = req.method ?? 'GET';
    const body = rawBody === '' ? undefined : parseJson(rawBody);
    if (rawBody !== '' && body === undefined)
      return { status: 400, body: { statusCode: 400, message: 'Unexpected token in JSON body', error: 'Bad Request' } };
    const is = (verb: string, ...parts: (string | null)[]): boolean =>
      method === verb && seg.length === parts.length && parts.every((p, i) => p === null || p === seg[i]);

    if (version === 'v3' && is('POST', 'auth', 'login')) return login(body);
    if (version === 'v3' && is('POST', 'auth', 'ldap')) return login(body);
    const user = caller(req);
    if (user === undefined) return unauthorized;
    if (version === 'v3' && is('GET', 'auth', 'whoami')) {
      return {
        status: 200,
        body: {
          _id: `id-${user.username}`,
          id: `id-${user.username}`,
          username: user.username,
          email: user.email,
          currentGroups: user.groups,
          authStrategy: 'local',
        },
      };
    }
    if (version === 'v3' && is('POST', 'auth', 'logout')) {
      const token = (req.headers.authorization ?? '').slice('Bearer '.length);
      const t = tokens.get(token);
      if (t !== undefined) t.revoked = true;
      return { status: 200, body: { logout: 'successful' } };
    }
    if (version === 'v3' && is('GET', 'proposals')) return list(proposals.values(), user, url, 'filters');
    if (version === 'v3' && is('POST', 'proposals')) return createProposal(body, user);
    if (version === 'v3' && is('GET', 'proposals', null)) {
      const p = proposals.get(seg[1] as string);
      if (p === undefined) return notFound();
      return visible(p, user) ? { status: 200, body: p } : forbidden();
    }
    if (version === 'v3' && is('POST', 'datasets', 'isValid')) {
      const errors = validateModel(body !== null && (body as Doc).type === 'derived' ? MODELS.derivedV3 : MODELS.rawV3, body);
      return { status: 200, body: { valid: errors.length === 0, reason: flattenErrors(errors) } };
    }
    if (is('POST', 'datasets')) return createDataset(version, body, user);
    if (is('GET', 'datasets')) return list(datasets.values(), user, url, 'filter');
    if (is('GET', 'datasets', null)) return getDataset(seg[1] as string, user);
    if (is('PATCH', 'datasets', null))
      return updateDataset(
        version,
        seg[1] as string,
        body,
        user,
        (req.headers['content-type'] ?? '').startsWith('application/merge-patch+json'),
      );
    if (lifecycleRoute && is('GET', 'datasets', null, 'datasetlifecycle')) {
      const got = getDataset(seg[1] as string, user);
      return got.status !== 200 ? got : { status: 200, body: (got.body as Doc).datasetlifecycle };
    }
    if (lifecycleRoute && is('PATCH', 'datasets', null, 'datasetlifecycle')) return updateLifecycle(seg[1] as string, body, user);
    if (is('POST', 'jobs')) return createJob(version, body, user);
    if (is('GET', 'jobs')) return { status: 200, body: jobs.filter((j) => user.groups.includes(String(j.ownerGroup))) };
    if (version === 'v3' && is('POST', 'datasets', null, 'origdatablocks')) return addBlock('v3', seg[1] as string, body, user);
    if (version === 'v3' && is('GET', 'datasets', null, 'origdatablocks')) {
      const got = getDataset(seg[1] as string, user);
      return got.status !== 200 ? got : { status: 200, body: origDatablocks.filter((b) => b.datasetId === seg[1]) };
    }
    if (version === 'v4' && is('POST', 'origdatablocks'))
      return addBlock('v4', String((body as Doc | undefined)?.datasetId ?? ''), body, user);
    if (version === 'v4' && is('GET', 'origdatablocks')) return list(origDatablocks, user, url, 'filter');
    return notFound(`Cannot ${method} ${raw}`);
  };

  const http = await startContractHttp('SciCat', route, opts.port);
  return Object.assign(http, {
    pidPrefix,
    datasets,
    origDatablocks,
    proposals,
    jobs,
    addUser: (u: ScicatUser) => {
      users.set(u.username, u);
    },
    expireTokens: () => {
      for (const t of tokens.values()) t.expiresAt = 0;
    },
    setMetadataRule: (key: string, check: (entry: unknown) => string | null) => {
      metadataRules.set(key, check);
    },
    clearMetadataRules: () => {
      metadataRules.clear();
    },
    failNext: (count: number, status = 503) => {
      failures = { count, status };
    },
  });
}
