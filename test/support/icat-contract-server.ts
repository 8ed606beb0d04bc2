// An icat.server REST stand-in for the adapter tests (ICAT needs Payara and a database, which
// cannot run here), following shared/reference/catalogues.md: POST /icat/session with the form
// field json=…, GET/PUT/DELETE /icat/session/{id}, POST /icat/entityManager (form sessionId +
// entities, one call = one transaction) and GET /icat/entityManager?query=… (icat-contract-query.ts),
// errors as {"code","message","offset"} with SESSION/INSUFFICIENT_PRIVILEGES 403,
// NO_SUCH_OBJECT_FOUND 404, OBJECT_ALREADY_EXISTS/VALIDATION 412. Writers must be members of the
// investigation (InvestigationUser) unless they are root, as with ICAT's usual rules, and add or
// change Datafiles only in a Dataset that is not complete (python-icat's reference rules,
// init-icat.py: Datafile CUD where dataset.complete = False), while the Dataset itself, its
// complete flag included, stays writable by members; everybody may
// create DataCollections (and their DataCollectionDatasets, in a DataCollection they created) and
// Jobs, while Applications, like ParameterTypes, are made by the administrators (python-icat's
// reference rules).
import { randomUUID } from 'node:crypto';
import { formFields, parseJson, startContractHttp, type ContractHttpServer, type ContractResponse } from './contract-http.js';
import { runQuery } from './icat-contract-query.js';
import { IcatError, IcatStore, type Entity, type WriteCheck } from './icat-contract-store.js';

export interface IcatUser {
  username: string;
  password: string;
  /** Authenticator plugin; ICAT's user name is "<plugin>/<username>". */
  plugin?: string;
  root?: boolean;
  canCreateInvestigations?: boolean;
  email?: string;
  fullName?: string;
}

export interface IcatContractOptions {
  facility?: string;
  users?: IcatUser[];
  datasetTypes?: string[];
  investigationTypes?: string[];
  parameterTypes?: { name: string; units: string; valueType: 'NUMERIC' | 'STRING' | 'DATE_AND_TIME' }[];
  /** Applications (software) of the facility, for Jobs of derived datasets. */
  applications?: { name: string; version: string }[];
  sessionMinutes?: number;
  port?: number;
}

export interface IcatContractServer extends ContractHttpServer {
  facility: string;
  facilityId: number;
  store: IcatStore;
  /** All entities of a type, in id order. */
  entities(type: string): Entity[];
  /** Creates an investigation with these ICAT user names ("db/alice") as members; returns its id. */
  seedInvestigation(inv: { name: string; visitId: string; title?: string; members?: string[] }): number;
  /** Every session from now on answers SESSION 403, as after its lifetime. */
  expireSessions(): void;
  failNext(count: number, status?: number): void;
}

const fail = (e: IcatError): ContractResponse => ({
  status: e.status,
  body: { code: e.code, message: e.message, offset: e.offset },
});

export async function startIcatContractServer(opts: IcatContractOptions = {}): Promise<IcatContractServer> {
  const facility = opts.facility ?? 'TESTFAC';
  const lifetimeMs = (opts.sessionMinutes ?? 120) * 60_000;
  const users = new Map((opts.users ?? []).map((u) => [`${u.plugin ?? 'db'}/${u.username}`, u]));
  const sessions = new Map<string, { user: string; expiresAt: number }>();
  const store = new IcatStore();
  let failures = { count: 0, status: 500 };

  const rootCheck: WriteCheck = () => undefined;
  const write = (type: string, values: Record<string, unknown>): number =>
    store.write([{ type, values }], 'db/root', rootCheck)[0] as number;
  const facilityId = write('Facility', { name: facility });
  const typeIds = new Map<string, number>();
  for (const name of opts.investigationTypes ?? ['experiment'])
    typeIds.set(`inv:${name}`, write('InvestigationType', { facility: { id: facilityId }, name }));
  for (const name of opts.datasetTypes ?? ['raw', 'processed']) write('DatasetType', { facility: { id: facilityId }, name });
  for (const p of opts.parameterTypes ?? [])
    write('ParameterType', { facility: { id: facilityId }, applicableToDataset: true, ...p });
  for (const a of opts.applications ?? []) write('Application', { facility: { id: facilityId }, ...a });
  const userId = (name: string, extra: { email?: string; fullName?: string } = {}): number => {
    const found = [...store.table('User').values()].find((u) => u.name === name);
    return found?.id ?? write('User', { name, ...extra });
  };
  for (const [name, u] of users)
    userId(name, {
      ...(u.email === undefined ? {} : { email: u.email }),
      ...(u.fullName === undefined ? {} : { fullName: u.fullName }),
    });

  const isMember = (user: string, investigationId: unknown): boolean =>
    [...store.table('InvestigationUser').values()].some(
      (iu) => iu.investigation === investigationId && store.get('User', iu.user as number)?.name === user,
    );
  // ICAT's authorization rules, reduced to what a beamline deployment typically grants.
  const checkFor =
    (user: string): WriteCheck =>
    (action, type, row) => {
      const u = users.get(user);
      if (u?.root === true) return;
      const denied = (): never => {
        throw new IcatError('INSUFFICIENT_PRIVILEGES', `${action} access to this ${type} is not allowed.`);
      };
      switch (type) {
        case 'Investigation':
        case 'InvestigationUser':
          if (u?.canCreateInvestigations !== true) denied();
          return;
        case 'Dataset':
          if (!isMember(user, row.investigation)) denied();
          return;
        case 'Datafile':
        case 'DatasetParameter': {
          const ds = store.get('Dataset', row.dataset as number);
          if (ds === undefined || !isMember(user, ds.investigation)) denied();
          // A complete dataset takes no more files until it is marked incomplete again.
          if (type === 'Datafile' && ds?.complete === true) denied();
          return;
        }
        case 'DataCollection':
        case 'Job':
          if (action === 'UPDATE' && row.createId !== user) denied();
          return;
        case 'DataCollectionDataset':
          if (store.get('DataCollection', row.dataCollection as number)?.createId !== user) denied();
          return;
        default:
          denied();
      }
    };

  const sessionUser = (id: string | null): string => {
    const s = id === null ? undefined : sessions.get(id);
    if (s === undefined || Date.now() > s.expiresAt)
      throw new IcatError('SESSION', `Unable to find user by sessionid: ${id ?? ''}`);
    return s.user;
  };

  const login = (form: URLSearchParams): ContractResponse => {
    const parsed = parseJson(form.get('json') ?? '') as { plugin?: unknown; credentials?: unknown } | undefined;
    if (parsed === undefined || typeof parsed.plugin !== 'string' || !Array.isArray(parsed.credentials)) {
      throw new IcatError('BAD_PARAMETER', 'json must be {"plugin": "…", "credentials": [{"username": "…"}, {"password": "…"}]}');
    }
    const creds = Object.assign({}, ...(parsed.credentials as object[])) as { username?: string; password?: string };
    const name = `${parsed.plugin}/${creds.username ?? ''}`;
    const user = users.get(name);
    if (user === undefined || (user.plugin ?? 'db') !== parsed.plugin || user.password !== creds.password) {
      throw new IcatError('SESSION', 'The username and password do not match');
    }
    const sessionId = randomUUID();
    sessions.set(sessionId, { user: name, expiresAt: Date.now() + lifetimeMs });
    return { status: 200, body: { sessionId } };
  };

  const writeEntities = (form: URLSearchParams): ContractResponse => {
    const user = sessionUser(form.get('sessionId'));
    const parsed = parseJson(form.get('entities') ?? '');
    const list = Array.isArray(parsed) ? parsed : parsed !== undefined && parsed !== null ? [parsed] : undefined;
    if (list === undefined) throw new IcatError('BAD_PARAMETER', 'entities must be a JSON array of {"EntityType": {…}} objects');
    const items = list.map((item, offset) => {
      const entries = typeof item === 'object' && item !== null ? Object.entries(item as object) : [];
      const [type, values] = entries[0] ?? [];
      if (entries.length !== 1 || typeof values !== 'object' || values === null) {
        throw new IcatError('BAD_PARAMETER', 'each entity must be {"EntityType": {…fields}}', offset);
      }
      return { type: type as string, values: values as Record<string, unknown> };
    });
    return { status: 200, body: store.write(items, user, checkFor(user)) };
  };

  const route = (method: string, path: string, url: URL, body: string): ContractResponse => {
    if (method === 'GET' && path === '/icat/version') return { status: 200, body: { version: '6.1.0 (contract)' } };
    if (method === 'POST' && path === '/icat/session') return login(formFields(body));
    const s = /^\/icat\/session\/([^/]+)$/.exec(path);
    if (s !== null) {
      const id = decodeURIComponent(s[1] as string);
      const user = sessionUser(id);
      const session = sessions.get(id) as { user: string; expiresAt: number };
      if (method === 'GET')
        return { status: 200, body: { userName: user, remainingMinutes: (session.expiresAt - Date.now()) / 60_000 } };
      if (method === 'PUT') {
        session.expiresAt = Date.now() + lifetimeMs;
        return { status: 204 };
      }
      if (method === 'DELETE') {
        sessions.delete(id);
        return { status: 204 };
      }
    }
    if (path === '/icat/entityManager' && method === 'POST') return writeEntities(formFields(body));
    if (path === '/icat/entityManager' && method === 'GET') {
      sessionUser(url.searchParams.get('sessionId'));
      const query = url.searchParams.get('query');
      if (query === null) throw new IcatError('BAD_PARAMETER', 'query is missing');
      return { status: 200, body: runQuery(store, query) };
    }
    return {
      status: 404,
      body: { code: 'NOT_IMPLEMENTED', message: `no route ${method} ${path} in the ICAT contract server`, offset: 0 },
    };
  };

  const http = await startContractHttp(
    'ICAT',
    (req, url, body) => {
      if (failures.count > 0) {
        failures.count -= 1;
        return { status: failures.status, body: { code: 'INTERNAL', message: 'the server is struggling (failNext)', offset: 0 } };
      }
      try {
        return route(req.method ?? 'GET', url.pathname, url, body);
      } catch (e) {
        if (e instanceof IcatError) return fail(e);
        throw e;
      }
    },
    opts.port,
  );

  return Object.assign(http, {
    facility,
    facilityId,
    store,
    entities: (type: string) => [...store.table(type).values()],
    seedInvestigation: (inv: { name: string; visitId: string; title?: string; members?: string[] }) => {
      const typeId = typeIds.values().next().value as number;
      return write('Investigation', {
        facility: { id: facilityId },
        name: inv.name,
        visitId: inv.visitId,
        title: inv.title ?? inv.name,
        type: { id: typeId },
        investigationUsers: (inv.members ?? []).map((m) => ({ user: { id: userId(m) }, role: 'member' })),
      });
    },
    expireSessions: () => {
      for (const s of sessions.values()) s.expiresAt = 0;
    },
    failNext: (count: number, status = 500) => {
      failures = { count, status };
    },
  });
}
