// The ICAT contract server is test infrastructure: these checks pin its contract to
// catalogues.md (status codes, error bodies, uniqueness, one write = one transaction, dates).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQuery } from '../support/icat-contract-query.js';
import { startIcatContractServer, type IcatContractServer } from '../support/icat-contract-server.js';

let server: IcatContractServer;
let investigationId: number;

type Answer = { status: number; body: unknown };
const form = async (method: string, path: string, fields: Record<string, string>): Promise<Answer> => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
};
const get = async (path: string, query: Record<string, string>): Promise<Answer> => {
  const res = await fetch(`${server.url}${path}?${new URLSearchParams(query).toString()}`);
  return { status: res.status, body: JSON.parse(await res.text()) };
};
const login = async (username: string, password: string): Promise<string> =>
  (
    (await form('POST', '/icat/session', { json: JSON.stringify({ plugin: 'db', credentials: [{ username }, { password }] }) }))
      .body as { sessionId: string }
  ).sessionId;
const write = (sessionId: string, entities: unknown[]): Promise<Answer> =>
  form('POST', '/icat/entityManager', { sessionId, entities: JSON.stringify(entities) });
const query = (sessionId: string, q: string): Promise<Answer> => get('/icat/entityManager', { sessionId, query: q });
const dataset = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  Dataset: { investigation: { id: investigationId }, name, type: { id: server.entities('DatasetType')[0]?.id }, ...extra },
});

beforeAll(async () => {
  server = await startIcatContractServer({
    users: [
      { username: 'alice', password: 'a' },
      { username: 'mallory', password: 'm' },
    ],
    parameterTypes: [{ name: 'energy', units: 'keV', valueType: 'NUMERIC' }],
    applications: [{ name: 'xds', version: '2026' }],
  });
  investigationId = server.seedInvestigation({ name: "MX-1'a", visitId: '1', members: ['db/alice'] });
});
afterAll(async () => {
  await server.close();
});

describe('ICAT contract server', () => {
  it('opens sessions from the json form field, and answers SESSION 403 otherwise', async () => {
    const sid = await login('alice', 'a');
    expect((await get(`/icat/session/${sid}`, {})).body).toMatchObject({ userName: 'db/alice' });
    expect((await form('PUT', `/icat/session/${sid}`, {})).status).toBe(204);
    const wrong = await form('POST', '/icat/session', {
      json: JSON.stringify({ plugin: 'db', credentials: [{ username: 'alice' }, { password: 'x' }] }),
    });
    expect(wrong).toEqual({ status: 403, body: { code: 'SESSION', message: expect.any(String), offset: 0 } });
    expect((await form('DELETE', `/icat/session/${sid}`, {})).status).toBe(204);
    expect((await get(`/icat/session/${sid}`, {})).status).toBe(403);
  });

  it('writes all entities of one call or none, naming the failing offset', async () => {
    const sid = await login('alice', 'a');
    const ok = await write(sid, [
      dataset('t-a'),
      dataset('t-b', { complete: false, startDate: '2026-03-01T10:00:00.000+01:00' }),
    ]);
    expect(ok.status).toBe(200);
    expect(ok.body).toHaveLength(2);
    const dup = await write(sid, [dataset('t-c'), dataset('t-a')]);
    expect(dup).toEqual({
      status: 412,
      body: { code: 'OBJECT_ALREADY_EXISTS', message: expect.stringContaining('Dataset exists'), offset: 1 },
    });
    expect(server.entities('Dataset').map((d) => d.name)).not.toContain('t-c');
  });

  it('maps rule breaks to ICAT codes and statuses', async () => {
    const sid = await login('alice', 'a');
    const typeId = server.entities('DatasetType')[0]?.id;
    expect(await write(sid, [{ Dataset: { investigation: { id: investigationId }, type: { id: typeId } } }])).toMatchObject({
      status: 412,
      body: { code: 'VALIDATION', message: 'Dataset.name cannot be null' },
    });
    expect(await write(sid, [{ Dataset: { investigation: { id: 9999 }, name: 'x', type: { id: typeId } } }])).toMatchObject({
      status: 404,
      body: { code: 'NO_SUCH_OBJECT_FOUND' },
    });
    expect(await write(sid, [dataset('t-date', { startDate: '2026-03-01T10:00:00Z' })])).toMatchObject({
      status: 400,
      body: { code: 'BAD_PARAMETER' },
    });
    expect(await write(await login('mallory', 'm'), [dataset('t-m')])).toMatchObject({
      status: 403,
      body: { code: 'INSUFFICIENT_PRIVILEGES' },
    });
    const [id] = (await write(sid, [dataset('t-upd')])).body as number[];
    expect((await write(sid, [{ Dataset: { id, complete: true } }])).status).toBe(200);
    expect(server.store.get('Dataset', id as number)?.complete).toBe(true);
  });

  it('answers the queries the adapter sends, with JPQL quoting, joins, paging and counts', async () => {
    const sid = await login('alice', 'a');
    const invs = await query(
      sid,
      "SELECT DISTINCT i FROM Investigation i JOIN i.investigationUsers iu JOIN iu.user u WHERE u.name = 'db/alice' AND i.facility.name = 'TESTFAC' ORDER BY i.name",
    );
    expect(invs.body).toEqual([
      { Investigation: expect.objectContaining({ id: investigationId, name: "MX-1'a", visitId: '1' }) },
    ]);
    expect((await query(sid, "SELECT i FROM Investigation i WHERE i.name = 'MX-1''a'")).body).toHaveLength(1);
    const names = await query(
      sid,
      `SELECT ds.name FROM Dataset ds WHERE ds.investigation.id = ${investigationId} AND ds.name LIKE 't-%' ORDER BY ds.name DESC LIMIT 0, 2`,
    );
    expect(names.body).toEqual(['t-upd', 't-b']);
    expect((await query(sid, `SELECT COUNT(ds) FROM Dataset ds WHERE ds.name IN ('t-a', 't-b')`)).body).toEqual([2]);
    expect(await query(sid, 'SELECT ds FROM Dataset ds WHERE ds.name = "x"')).toMatchObject({
      status: 400,
      body: { code: 'BAD_PARAMETER' },
    });
    expect(() => parseQuery('SELECT ds FROM Dataset ds GROUP BY ds.name')).toThrow(/does not understand/);
  });

  it('keeps provenance as ICAT does: users make DataCollections and Jobs, administrators make Applications', async () => {
    const alice = await login('alice', 'a');
    const mallory = await login('mallory', 'm');
    const [dsId] = (await write(alice, [dataset('prov-out')])).body as number[];
    const [inId] = (await write(alice, [dataset('prov-in')])).body as number[];
    const app = server.entities('Application')[0]?.id as number;
    expect(
      await write(alice, [{ Application: { facility: { id: server.facilityId }, name: 'mine', version: '1' } }]),
    ).toMatchObject({ status: 403, body: { code: 'INSUFFICIENT_PRIVILEGES' } });
    expect(
      await write(alice, [{ Application: { facility: { id: server.facilityId }, name: 'xds', version: '2026' } }]),
    ).toMatchObject({ status: 403 });
    const [input] = (await write(alice, [{ DataCollection: { dataCollectionDatasets: [{ dataset: { id: inId } }] } }]))
      .body as number[];
    // Somebody else's collection cannot be filled.
    expect(
      await write(mallory, [{ DataCollectionDataset: { dataCollection: { id: input }, dataset: { id: dsId } } }]),
    ).toMatchObject({ status: 403 });
    expect(
      (
        await write(alice, [
          {
            DataCollection: {
              dataCollectionDatasets: [{ dataset: { id: dsId } }],
              jobsAsOutput: [{ application: { id: app }, inputDataCollection: { id: input } }],
            },
          },
        ])
      ).status,
    ).toBe(200);
    // A Job needs its Application; the same dataset twice in one collection is a duplicate.
    expect(await write(alice, [{ Job: {} }])).toMatchObject({ status: 412, body: { code: 'VALIDATION' } });
    expect(
      await write(alice, [
        { DataCollection: { dataCollectionDatasets: [{ dataset: { id: inId } }, { dataset: { id: inId } }] } },
      ]),
    ).toMatchObject({ status: 412, body: { code: 'OBJECT_ALREADY_EXISTS' } });
    const count = await query(
      alice,
      `SELECT COUNT(j) FROM Job j JOIN j.outputDataCollection dc JOIN dc.dataCollectionDatasets dcd WHERE dcd.dataset.id = ${dsId}`,
    );
    expect(count.body).toEqual([1]);
    expect(
      (await query(alice, `SELECT a FROM Application a WHERE a.facility.name = 'TESTFAC' AND a.name = 'xds' ORDER BY a.version`))
        .body,
    ).toEqual([{ Application: expect.objectContaining({ name: 'xds', version: '2026' }) }]);
  });

  it('expires sessions on demand and keeps its state across stop/restart', async () => {
    const sid = await login('alice', 'a');
    server.expireSessions();
    expect((await query(sid, 'SELECT f FROM Facility f')).body).toMatchObject({ code: 'SESSION' });
    await server.stop();
    await expect(fetch(`${server.url}/icat/version`)).rejects.toThrow();
    await server.restart();
    expect((await query(await login('alice', 'a'), "SELECT ds.name FROM Dataset ds WHERE ds.name = 't-a'")).body).toEqual([
      't-a',
    ]);
  });
});
