// The SciCat contract server is test infrastructure: if it drifts from catalogues.md, every
// adapter test built on it proves the wrong thing. These checks pin its contract.
import {
  instanceOfJobClass,
  instanceOfOutputJobV3Dto,
  instanceOfReturnedAuthLoginDto,
  instanceOfUpdateDatasetLifecycleDto,
} from '@scicatproject/scicat-sdk-ts-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS, modelShape } from '../support/scicat-contract-models.js';
import { startScicatContractServer, type ScicatContractServer } from '../support/scicat-contract-server.js';

let server: ScicatContractServer;

type J = Record<string, unknown>;
const call = async (
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: J }> => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` }),
    },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as J };
};
const login = async (username = 'alice', password = 'pw-alice'): Promise<string> =>
  (await call('POST', '/api/v3/auth/login', { body: { username, password } })).body.access_token as string;

const raw = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'raw',
  ownerGroup: 'p100',
  owner: 'alice',
  contactEmail: 'alice@example.org',
  sourceFolder: '/data/p100/scan1',
  creationTime: '2026-03-01T10:00:00.000Z',
  datasetName: 'scan1',
  principalInvestigator: 'pi@example.org',
  creationLocation: '/FAC/BL1',
  ...extra,
});

beforeAll(async () => {
  server = await startScicatContractServer({
    users: [
      { username: 'alice', password: 'pw-alice', email: 'alice@example.org', groups: ['p100'] },
      { username: 'bob', password: 'pw-bob', email: 'bob@example.org', groups: ['p200'] },
    ],
  });
});

const job = async (
  version: 'v3' | 'v4',
  token: string,
  pids: string[],
  extra: Record<string, unknown> = {},
): Promise<{ status: number; body: J }> => {
  const datasetList = pids.map((pid) => ({ pid, files: [] }));
  const body =
    version === 'v3'
      ? { type: 'archive', datasetList, jobParams: { username: 'alice' }, ...extra }
      : { type: 'archive', ownerGroup: 'p100', jobParams: { datasetList }, ...extra };
  return call('POST', `/api/${version}/jobs`, { token, body });
};
afterAll(async () => {
  await server.close();
});

describe('SciCat contract server', () => {
  it('reads required and accepted fields from the official SDK models', () => {
    const rawShape = modelShape(MODELS.rawV3);
    expect(rawShape.required).toEqual(
      expect.arrayContaining([
        'type',
        'ownerGroup',
        'owner',
        'contactEmail',
        'sourceFolder',
        'creationTime',
        'principalInvestigator',
        'creationLocation',
      ]),
    );
    expect(modelShape(MODELS.derivedV3).allowed).not.toContain('principalInvestigator');
    expect(modelShape(MODELS.derivedV3).required).toEqual(
      expect.arrayContaining(['investigator', 'inputDatasets', 'usedSoftware']),
    );
    expect(modelShape(MODELS.datasetV4).required).toEqual(
      expect.arrayContaining(['ownerGroup', 'contactEmail', 'sourceFolder', 'creationTime', 'datasetName', 'type']),
    );
    expect(modelShape(MODELS.origBlockV4).required).toEqual(expect.arrayContaining(['size', 'dataFileList', 'datasetId']));
  });

  it('logs in with an access_token shaped like the SDK model, and rejects a wrong password with 401', async () => {
    const ok = await call('POST', '/api/v3/auth/login', { body: { username: 'alice', password: 'pw-alice' } });
    expect(ok.status).toBe(201);
    expect(instanceOfReturnedAuthLoginDto(ok.body)).toBe(true);
    expect((await call('POST', '/api/v3/auth/login', { body: { username: 'alice', password: 'nope' } })).status).toBe(401);
    const me = await call('GET', '/api/v3/auth/whoami', { token: ok.body.access_token as string });
    expect(me.body).toMatchObject({ username: 'alice', currentGroups: ['p100'] });
    expect((await call('GET', '/api/v3/auth/whoami')).status).toBe(401);
  });

  it('answers v3 dataset validation errors as {status, message: JSON of errors}', async () => {
    const token = await login();
    const res = await call('POST', '/api/v3/datasets', { token, body: raw({ colour: 'blue', creationLocation: undefined }) });
    expect(res.status).toBe(400);
    expect(res.body.status).toBe(400);
    const errors = JSON.parse(res.body.message as string) as { property: string; constraints: Record<string, string> }[];
    expect(errors.map((e) => e.property).sort()).toEqual(['colour', 'creationLocation']);
    expect(errors.find((e) => e.property === 'colour')?.constraints.whitelistValidation).toBe('property colour should not exist');
  });

  it('answers other validation errors as {statusCode, message: [...]}', async () => {
    const token = await login();
    const res = await call('POST', '/api/v4/datasets', { token, body: { ...raw(), principalInvestigator: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, message: ['property principalInvestigator should not exist'] });
  });

  it('assigns PIDs <prefix>/<uuid>, serves them URL-encoded, and hides them from other groups', async () => {
    const token = await login();
    const created = await call('POST', '/api/v3/datasets', { token, body: raw() });
    expect(created.status).toBe(201);
    const pid = created.body.pid as string;
    expect(pid).toMatch(new RegExp(`^${server.pidPrefix.replaceAll('.', '\\.')}/[0-9a-f-]{36}$`));
    expect((await call('GET', `/api/v3/datasets/${encodeURIComponent(pid)}`, { token })).status).toBe(200);
    expect((await call('GET', `/api/v3/datasets/${pid}`, { token })).status).toBe(404);
    expect((await call('GET', `/api/v3/datasets/${encodeURIComponent(`${server.pidPrefix}/absent`)}`, { token })).status).toBe(
      404,
    );
    expect(
      (await call('GET', `/api/v3/datasets/${encodeURIComponent(pid)}`, { token: await login('bob', 'pw-bob') })).status,
    ).toBe(403);
    expect((await call('POST', '/api/v3/datasets', { token, body: raw({ pid }) })).status).toBe(409);
    expect((await call('POST', '/api/v3/datasets', { token, body: raw({ ownerGroup: 'p200' }) })).status).toBe(403);
  });

  it('adds each OrigDatablock to the dataset size and count, and never deduplicates blocks', async () => {
    const token = await login();
    const pid = (await call('POST', '/api/v3/datasets', { token, body: raw() })).body.pid as string;
    const block = {
      size: 30,
      chkAlg: 'sha256',
      dataFileList: [
        { path: 'a', size: 10, time: '2026-03-01T10:00:00.000Z' },
        { path: 'b', size: 20, time: '2026-03-01T10:00:00.000Z' },
      ],
    };
    for (let i = 0; i < 2; i++)
      expect(
        (await call('POST', `/api/v3/datasets/${encodeURIComponent(pid)}/origdatablocks`, { token, body: block })).status,
      ).toBe(201);
    expect(server.datasets.get(pid)).toMatchObject({ size: 60, numberOfFiles: 4 });
    expect((await call('GET', `/api/v3/datasets/${encodeURIComponent(pid)}/origdatablocks`, { token })).body).toHaveLength(2);
    const v4 = await call('POST', '/api/v4/origdatablocks', { token, body: { ...block, datasetId: pid } });
    expect(v4.status).toBe(201);
    expect(server.datasets.get(pid)).toMatchObject({ size: 90, numberOfFiles: 6 });
    const bad = await call('POST', '/api/v4/origdatablocks', {
      token,
      body: { ...block, datasetId: pid, dataFileList: [{ path: 'c', size: 'big', time: 'yesterday' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual(
      expect.arrayContaining(['dataFileList.0.size must be a number conforming to the specified constraints']),
    );
  });

  it("gives a new dataset SciCat's lifecycle defaults (archivable) unless the payload says otherwise", async () => {
    const token = await login();
    const plain = (await call('POST', '/api/v3/datasets', { token, body: raw() })).body;
    expect(plain.datasetlifecycle).toMatchObject({
      archivable: true,
      retrievable: false,
      publishable: false,
      isOnCentralDisk: true,
      archiveStatusMessage: 'datasetCreated',
    });
    const held = (
      await call('POST', '/api/v4/datasets', {
        token,
        body: {
          ...raw({ principalInvestigator: undefined, creationLocation: undefined }),
          datasetlifecycle: { archivable: false },
        },
      })
    ).body;
    expect(held.datasetlifecycle).toMatchObject({ archivable: false, archiveStatusMessage: 'datasetCreated' });
    const bad = await call('POST', '/api/v3/datasets', {
      token,
      body: raw({ datasetlifecycle: { archivable: 'no', colour: 1 } }),
    });
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.body.message as string) as { property: string }[]).map((e) => e.property)).toEqual([
      'datasetlifecycle',
    ]);
  });

  it('updates the lifecycle through PATCH …/datasetlifecycle (null resets a value) for the owner group only', async () => {
    const token = await login();
    const pid = (await call('POST', '/api/v3/datasets', { token, body: raw({ datasetlifecycle: { archivable: false } }) })).body
      .pid as string;
    const path = `/api/v4/datasets/${encodeURIComponent(pid)}/datasetlifecycle`;
    const done = await call('PATCH', path, { token, body: { archivable: true, archiveStatusMessage: 'x' } });
    expect(done.status).toBe(200);
    expect(instanceOfUpdateDatasetLifecycleDto(done.body)).toBe(true);
    expect(done.body).toMatchObject({ archivable: true, archiveStatusMessage: 'x', retrievable: false });
    expect((await call('PATCH', path, { token, body: { archiveStatusMessage: null } })).body.archiveStatusMessage).toBe(
      'datasetCreated',
    );
    expect((await call('GET', `/api/v3/datasets/${encodeURIComponent(pid)}/datasetlifecycle`, { token })).body.archivable).toBe(
      true,
    );
    expect((await call('PATCH', path, { token, body: { archivable: 'yes' } })).status).toBe(400);
    expect((await call('PATCH', path, { token, body: { size: 3 } })).body).toMatchObject({
      statusCode: 400,
      message: ['property size should not exist'],
    });
    expect((await call('PATCH', path, { token: await login('bob', 'pw-bob'), body: { archivable: false } })).status).toBe(403);
    expect(
      (
        await call('PATCH', `/api/v3/datasets/${encodeURIComponent(`${server.pidPrefix}/absent`)}/datasetlifecycle`, {
          token,
          body: {},
        })
      ).status,
    ).toBe(404);
  });

  it('refuses an archive job for a dataset that is not archivable, as the recommended job configuration does, and accepts it after', async () => {
    const token = await login();
    const create = async (archivable: boolean) =>
      (await call('POST', '/api/v3/datasets', { token, body: raw({ datasetlifecycle: { archivable } }) })).body.pid as string;
    const open = await create(true);
    const held = await create(false);
    for (const v of ['v3', 'v4'] as const) {
      expect(await job(v, token, [open, held])).toEqual({
        status: 400,
        body: { status: 400, message: "Invalid request. Invalid value for 'datasetlifecycle.archivable'" },
      });
    }
    const v4 = await job('v4', token, [open]);
    expect(v4.status).toBe(201);
    expect(instanceOfJobClass(v4.body)).toBe(true);
    expect(v4.body).toMatchObject({
      type: 'archive',
      ownerGroup: 'p100',
      jobParams: { datasetList: [{ pid: open, files: [] }] },
    });
    const v3 = await job('v3', token, [open]);
    expect(v3.status).toBe(201);
    expect(instanceOfOutputJobV3Dto(v3.body)).toBe(true);
    await call('PATCH', `/api/v3/datasets/${encodeURIComponent(held)}/datasetlifecycle`, { token, body: { archivable: true } });
    expect((await job('v4', token, [held])).status).toBe(201);
    expect(server.jobs.filter((j) => j.type === 'archive')).toHaveLength(3);
  });

  it("answers SciCat's own job errors: unknown type, empty or bad list, unknown pid, foreign group", async () => {
    const token = await login();
    const pid = (await call('POST', '/api/v3/datasets', { token, body: raw() })).body.pid as string;
    expect((await job('v4', token, [pid], { type: 'shred' })).body).toEqual({ status: 400, message: 'Invalid job type: shred' });
    expect((await job('v4', token, [])).body).toEqual({ status: 400, message: 'List of passed datasets is empty.' });
    expect((await job('v4', token, [`${server.pidPrefix}/nope`])).body.message).toBe(
      `Datasets with pid ${server.pidPrefix}/nope do not exist.`,
    );
    expect(
      (
        await call('POST', '/api/v4/jobs', {
          token,
          body: { type: 'archive', ownerGroup: 'p100', jobParams: { datasetList: [{ pid }] } },
        })
      ).body.message,
    ).toBe('Dataset list is expected to contain sets of pid and files.');
    expect((await job('v4', token, [pid], { ownerGroup: undefined })).body.message).toBe(
      'Invalid new job. Owner group should be specified.',
    );
    expect((await job('v4', token, [pid], { ownerGroup: 'p200' })).body.message).toBe(
      'Invalid new job. User needs to belong to job owner group.',
    );
    expect((await job('v4', token, [pid], { colour: 'x' })).body).toMatchObject({
      statusCode: 400,
      message: ['property colour should not exist'],
    });
    const bob = await login('bob', 'pw-bob');
    expect((await job('v4', bob, [pid], { ownerGroup: 'p200' })).status).toBe(403);
  });

  it('on a backend before the lifecycle route, answers it 404 and takes the lifecycle through PATCH /datasets/{pid}', async () => {
    const old = await startScicatContractServer({
      lifecycleRoute: false,
      users: [{ username: 'alice', password: 'pw-alice', email: 'alice@example.org', groups: ['p100'] }],
    });
    try {
      const tok = (
        (await (
          await fetch(`${old.url}/api/v3/auth/login`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ username: 'alice', password: 'pw-alice' }),
          })
        ).json()) as { access_token: string }
      ).access_token;
      const send = async (method: string, path: string, body: unknown, type = 'application/json') => {
        const res = await fetch(`${old.url}${path}`, {
          method,
          headers: { 'Content-Type': type, Authorization: `Bearer ${tok}` },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as J };
      };
      const pid = (
        await send('POST', '/api/v3/datasets', raw({ datasetlifecycle: { archivable: false, archiveStatusMessage: 'w' } }))
      ).body.pid as string;
      const seg = encodeURIComponent(pid);
      const missing = await send('PATCH', `/api/v3/datasets/${seg}/datasetlifecycle`, { archivable: true });
      expect(missing).toEqual({
        status: 404,
        body: { statusCode: 404, message: `Cannot PATCH /api/v3/datasets/${seg}/datasetlifecycle`, error: 'Not Found' },
      });
      // application/json: $set replaces the sub-document (the schema fills its defaults) …
      await send('PATCH', `/api/v3/datasets/${seg}`, { datasetlifecycle: { archivable: true } });
      expect(old.datasets.get(pid)?.datasetlifecycle).toMatchObject({ archivable: true, archiveStatusMessage: 'datasetCreated' });
      // … a JSON merge patch merges it.
      await send(
        'PATCH',
        `/api/v4/datasets/${seg}`,
        { datasetlifecycle: { archiveStatusMessage: 'm' } },
        'application/merge-patch+json',
      );
      expect(old.datasets.get(pid)?.datasetlifecycle).toMatchObject({ archivable: true, archiveStatusMessage: 'm' });
      expect((await send('PATCH', `/api/v4/datasets/${seg}`, { colour: 'x' })).status).toBe(400);
    } finally {
      await old.close();
    }
  });

  it('expires tokens on demand and survives a stop/restart with its state', async () => {
    const token = await login();
    const before = server.datasets.size;
    server.expireTokens();
    expect((await call('GET', '/api/v3/auth/whoami', { token })).status).toBe(401);
    await server.stop();
    await expect(fetch(`${server.url}/api/v3/auth/whoami`)).rejects.toThrow();
    await server.restart();
    const fresh = await login();
    expect((await call('GET', '/api/v3/datasets', { token: fresh })).body).toHaveLength(before);
  });
});
