// The SciCat contract server is test infrastructure: if it drifts from catalogues.md, every
// adapter test built on it proves the wrong thing. These checks pin its contract.
import { instanceOfReturnedAuthLoginDto } from '@scicatproject/scicat-sdk-ts-fetch';
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
