// The outbox reads each registration's request back through its schema: what the current code
// writes (job-catalogue.ts requestOf, register-in-place.ts) comes back equal, and a row written
// differently is an error naming the registration instead of a request with fields missing.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/main/engine/journal/journal.js';
import { OutboxStore } from '../../src/main/engine/catalogue/outbox/outbox-store.js';
import type { RegistrationRequest } from '../../src/main/engine/catalogue/outbox/registration-request.js';

const newStore = () => {
  const journal = new Journal(join(mkdtempSync(join(tmpdir(), 'bd-outbox-')), 'journal.sqlite'));
  return { journal, store: new OutboxStore(journal, () => 1_000) };
};

/** A derived sync dataset for a facility catalogue: every optional part filled. */
const full: RegistrationRequest = {
  dataset: 'ds1',
  proposal: '20170251',
  visit: 'v1',
  type: 'derived',
  technique: 'SAXS',
  sample: 'lysozyme',
  description: 'buffer subtracted',
  metadata: { energy: { value: 12.4, unit: 'keV' }, detector: { value: 'Pilatus' }, cooled: { value: true } },
  sourceFolder: 's3://bucket/20170251/ds1/',
  creationTime: '2026-03-14T10:00:00.000Z',
  owner: { username: 'ingestor', email: null, groups: ['p-1234'], displayName: 'Ingestor' },
  instrument: 'BL1',
  facility: 'TESTFAC',
  inputDatasets: ['pid/raw-1'],
  usedSoftware: ['pyFAI 2024.1'],
  complete: false,
};

/** A raw dataset registered in place with the local catalogue's shape: nulls and empty lists. */
const bare: RegistrationRequest = {
  dataset: 'in-place',
  proposal: null,
  visit: null,
  type: 'raw',
  technique: null,
  sample: null,
  description: null,
  metadata: {},
  sourceFolder: 'file:///archive/in-place/',
  creationTime: '2026-03-14T10:00:00.000Z',
  owner: null,
  instrument: null,
  facility: null,
  inputDatasets: [],
  usedSoftware: [],
  complete: true,
};

describe('OutboxStore requests', () => {
  it('reads back what the current code writes, optional fields included', () => {
    const { store } = newStore();
    const a = store.ensure('scicat https://cat', 'bd-a', full);
    const b = store.ensure('scicat https://cat', 'bd-b', bare);
    expect(store.get(a.id)).toMatchObject({ dataset: 'ds1', proposal: '20170251', visit: 'v1', request: full });
    expect(store.byKey('bd-b')).toMatchObject({ visit: null, request: bare });
    store.retry(b.id, { ...bare, sample: 'fixed' });
    expect(store.get(b.id)!.request).toEqual({ ...bare, sample: 'fixed' });
    expect(store.list({ catalogue: 'scicat https://cat', visit: 'v1' }).map((r) => r.id)).toEqual([a.id]);
  });

  it('reads a request without a visit as having none, as it always has', () => {
    const { journal, store } = newStore();
    const a = store.ensure('local', 'bd-a', full);
    journal
      .connectionForStores()
      .prepare(`UPDATE registrations SET request = json_remove(request, '$.visit') WHERE id = ?`)
      .run(a.id);
    expect(store.get(a.id)).toMatchObject({ visit: null, request: { ...full, visit: null } });
  });

  it('refuses a stored request that does not match, naming the registration and the field', () => {
    const { journal, store } = newStore();
    const a = store.ensure('scicat https://cat', 'bd-a', full);
    const raw = journal.connectionForStores();
    raw.prepare(`UPDATE registrations SET request = json_set(request, '$.complete', 'yes') WHERE id = ?`).run(a.id);
    let error: unknown;
    try {
      store.get(a.id);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'internal',
      dataset: 'ds1',
      field: 'request',
      message: expect.stringMatching(
        /^registration 1 of dataset "ds1" \(proposal 20170251\) in scicat https:\/\/cat cannot be read/,
      ),
    });
    expect((error as Error).message).toMatch(/request\.complete/);
    expect(() => store.list()).toThrow(/registration 1 /);
    raw.prepare(`UPDATE registrations SET request = 'not json' WHERE id = ?`).run(a.id);
    expect(() => store.byKey('bd-a')).toThrow(/not JSON/);
  });

  it('refuses to journal a request that would not read back', () => {
    const { store } = newStore();
    expect(() => store.ensure('local', 'bd-a', { ...bare, metadata: { energy: 12.4 } } as never)).toThrow(
      /registration of dataset "in-place" cannot be journaled: request\.metadata\.energy/,
    );
    expect(store.list()).toEqual([]);
  });
});
