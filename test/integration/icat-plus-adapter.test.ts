// The ICAT+ adapter against a real ActiveMQ broker (Debian's activemq, started by this file on a
// free loopback port): the dataset message reaches /queue/icatIngest and a separate consumer
// reads it back; with the broker down the message waits as a file in the buffer folder; once the
// broker is back, resend delivers it exactly once and removes the file.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CatalogueError,
  type CatalogueAdapter,
  type CatalogueSession,
  type DatasetDraft,
} from '../../src/main/engine/catalogue/catalogue-adapter.js';
import { createIcatPlusAdapter } from '../../src/main/engine/catalogue/icat-plus/icat-plus-adapter.js';
import { bufferedIcatPlusMessages } from '../../src/main/engine/catalogue/icat-plus/message-buffer.js';
import { resendIcatPlusBuffer } from '../../src/main/engine/catalogue/icat-plus/resend.js';
import type { IcatPlusCatalogueConfig } from '../../src/shared/profile-catalogue-schema.js';
import { readQueue, startActiveMq, type ActiveMqBroker } from '../support/activemq.js';

const QUEUE = '/queue/icatIngest';
let n = 0;
const draft = (over: Partial<DatasetDraft> = {}): DatasetDraft => ({
  key: `bd-${(++n).toString(16).padStart(32, '0')}`,
  name: `scan_${n}`,
  type: 'raw',
  proposalId: 'MX2345',
  visit: null,
  instrument: 'ID23',
  facility: 'ESRF',
  sample: 'lysozyme & co',
  technique: 'MX',
  sourceFolder: `/data/visitor/mx2345/id23/scan_${n}`,
  creationTime: '2026-03-01T10:00:00.000Z',
  owner: 'alice',
  ownerGroup: 'mx2345',
  accessGroups: [],
  contactEmail: 'alice@example.org',
  principalInvestigator: 'pi@example.org',
  scientificMetadata: { InstrumentMonochromator_energy: { value: 12.4, unit: 'keV' } },
  complete: true,
  ...over,
});
const rejection = async (p: Promise<unknown>): Promise<CatalogueError> => {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CatalogueError);
  return e as CatalogueError;
};

let broker: ActiveMqBroker;
let dataDir: string;
let config: IcatPlusCatalogueConfig;
let adapter: CatalogueAdapter;
let session: CatalogueSession;

beforeAll(async () => {
  broker = await startActiveMq();
  console.log(`[activemq] ${broker.url} (pid ${broker.pid}) ready in ${broker.startMs} ms`);
  dataDir = await mkdtemp(join(tmpdir(), 'beamdrop-icatplus-'));
  config = { kind: 'icat-plus', url: broker.url, queue: QUEUE, username: broker.username, accessGroups: [] };
  adapter = createIcatPlusAdapter(config, { now: Date.now, dataDir });
  session = await adapter.login({ username: broker.username, password: broker.password });
});
afterAll(async () => {
  await broker?.destroy();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

describe('ICAT+ adapter over STOMP', () => {
  it('refuses a wrong broker password as needs-login', async () => {
    expect((await rejection(adapter.login({ username: broker.username, password: 'wrong' }))).problem).toBe('needs-login');
  });

  it('delivers the dataset message to the queue, once, and leaves nothing buffered', async () => {
    const d = draft();
    const ref = await adapter.createDataset(session, d);
    await adapter.addFiles(session, ref, []);
    await adapter.finishDataset(session, ref, d);
    await adapter.finishDataset(session, ref, d);
    const got = await readQueue(broker, QUEUE, { count: 1, idleMs: 1_500 });
    expect(got).toHaveLength(1);
    const body = got[0]?.body ?? '';
    expect(body).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?><tns:dataset xmlns:tns="http:\/\/www\.esrf\.fr\/icat" complete="true">/,
    );
    expect(body).toContain(`<tns:name>${d.name}</tns:name>`);
    expect(body).toContain('<tns:sample><tns:name>lysozyme &amp; co</tns:name></tns:sample>');
    expect(body).toContain(
      '<tns:parameter><tns:name>InstrumentMonochromator_energy</tns:name><tns:value>12.4</tns:value></tns:parameter>',
    );
    expect(got[0]?.headers.persistent).toBe('true');
    // Sent without content-length, like pyicat-plus: ActiveMQ stored a TextMessage (a BytesMessage
    // would come back with a content-length header), which is what the ingester expects.
    expect(got[0]?.headers['content-length']).toBeUndefined();
    expect(await bufferedIcatPlusMessages(config, { dataDir })).toEqual([]);
    expect(await adapter.findDataset(session, d)).toEqual({ id: d.key });
  });

  it('keeps the message as a file while the broker is down, and resend delivers it exactly once', async () => {
    const d = draft();
    const ref = await adapter.createDataset(session, d);
    await broker.stop();
    let bufferedXml: string;
    try {
      await adapter.finishDataset(session, ref, d);
      const buffered = await bufferedIcatPlusMessages(config, { dataDir });
      expect(buffered.map((m) => m.key)).toEqual([d.key]);
      bufferedXml = await readFile(buffered[0]?.path as string, 'utf8');
      expect(bufferedXml).toContain(`<tns:location>${d.sourceFolder}</tns:location>`);
      expect(await adapter.findDataset(session, d)).toEqual({ id: d.key });
      // Repeated while still down (a crash and resume): still one file.
      await adapter.finishDataset(session, ref, d);
      expect(await bufferedIcatPlusMessages(config, { dataDir })).toHaveLength(1);
      const failed = await resendIcatPlusBuffer(config, { dataDir }, { username: broker.username, password: broker.password });
      expect(failed).toMatchObject({ sent: [], remaining: [buffered[0]?.file] });
      expect(failed.error?.problem).toBe('retryable');
    } finally {
      await broker.restart();
    }
    const report = await resendIcatPlusBuffer(config, { dataDir }, { username: broker.username, password: broker.password });
    expect(report.error).toBeUndefined();
    expect(report.sent).toHaveLength(1);
    expect(report.remaining).toEqual([]);
    expect(await resendIcatPlusBuffer(config, { dataDir }, { username: broker.username, password: broker.password })).toEqual({
      sent: [],
      remaining: [],
    });
    const got = await readQueue(broker, QUEUE, { count: 1, idleMs: 1_500 });
    expect(got.map((m) => m.body)).toEqual([bufferedXml]);
    // finishDataset after the resend (the outbox resuming) sends nothing more.
    await adapter.finishDataset(session, ref, d);
    expect(await readQueue(broker, QUEUE, { count: 0, idleMs: 1_000 })).toHaveLength(0);
  });

  it('resends files another tool left in the buffer folder, unchanged', async () => {
    const folder = join(dataDir, 'icat-plus-buffer');
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><tns:dataset xmlns:tns="http://www.esrf.fr/icat" complete="true"><tns:name>from-bliss</tns:name></tns:dataset>';
    await writeFile(join(folder, 'from-bliss.xml'), xml);
    const report = await resendIcatPlusBuffer(config, { dataDir }, { username: broker.username, password: broker.password });
    expect(report).toEqual({ sent: ['from-bliss.xml'], remaining: [] });
    expect((await readQueue(broker, QUEUE, { count: 1, idleMs: 1_000 })).map((m) => m.body)).toEqual([xml]);
    expect(existsSync(join(folder, 'from-bliss.xml'))).toBe(false);
    expect((await readdir(folder)).filter((f) => f.endsWith('.xml'))).toEqual([]);
  });

  it('stops a dataset without a sample before anything is sent', async () => {
    const e = await rejection(adapter.createDataset(session, draft({ sample: null })));
    expect(e).toMatchObject({ problem: 'rejected', field: 'sample' });
    expect(e.message).toContain('Sample_name');
    expect(await adapter.proposals(session)).toEqual([]);
    expect(
      (await rejection(adapter.createProposal(session, { id: 'x', title: 'x', ownerGroup: 'x', email: 'x@y.z' }))).problem,
    ).toBe('forbidden');
  });
});
