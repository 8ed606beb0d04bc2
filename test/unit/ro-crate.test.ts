// The RO-Crate builder and reader on their own: a derived dataset names its inputs in RO-Crate 1.2
// terms (isBasedOn, and a CreateAction with object, instrument and result), the visit is the Event
// it was recorded at, the crate passes the `ro-crate` package's validator, and the reader takes
// all of it back, with the checksum spellings other producers use.
import { describe, expect, it } from 'vitest';
import { buildCrate, crateSha256, readCrate, type CrateInput } from '../../src/main/engine/catalogue/ro-crate.js';

import { validateCrate } from '../support/ro-crate-validator.js';

const base: CrateInput = {
  name: 'integrate-1',
  description: null,
  rootUri: 's3://processed/MX42/integrate-1',
  datePublished: '2026-03-01T12:00:00.000Z',
  license: 'https://creativecommons.org/licenses/by/4.0/',
  proposal: 'MX42',
  visit: 'v2',
  technique: 'MX',
  sample: 'lysozyme',
  instrument: 'BL1',
  identifier: '20.500.12269/derived-1',
  metadata: { resolution: { value: 1.6, unit: 'Å' } },
  files: [
    {
      relpath: 'xds/XDS_ASCII.HKL',
      storageUri: 's3://processed/MX42/integrate-1/xds/XDS_ASCII.HKL',
      size: 5,
      sha256: 'a'.repeat(64),
      mtimeMs: 0,
    },
  ],
};
type G = Record<string, unknown>;
const graphOf = (c: { '@graph': G[] }) => new Map(c['@graph'].map((e) => [e['@id'] as string, e]));

describe('RO-Crate of a derived dataset', () => {
  const crate = buildCrate({
    ...base,
    inputDatasets: ['20.500.12269/raw-1', 's3://raw/MX42/scan-2/', 'scan-3'],
    usedSoftware: ['xds 2026', 'aimless'],
  });
  const g = graphOf(crate);
  const root = g.get('s3://processed/MX42/integrate-1/')!;

  it('names its inputs with isBasedOn and a CreateAction: object → inputs, instrument → software, result → the dataset', () => {
    expect(root.isBasedOn).toEqual([
      { '@id': '#input-20.500.12269%2Fraw-1' },
      { '@id': 's3://raw/MX42/scan-2/' },
      { '@id': '#input-scan-3' },
    ]);
    expect(g.get('#input-20.500.12269%2Fraw-1')).toEqual({
      '@id': '#input-20.500.12269%2Fraw-1',
      '@type': 'Dataset',
      name: '20.500.12269/raw-1',
      identifier: '20.500.12269/raw-1',
    });
    expect(g.get('s3://raw/MX42/scan-2/')).toMatchObject({ '@type': 'Dataset', name: 'scan-2' });
    const action = [...g.values()].find((e) => e['@type'] === 'CreateAction')!;
    expect(action).toMatchObject({
      object: root.isBasedOn,
      instrument: [{ '@id': '#software-xds-2026' }, { '@id': '#software-aimless' }],
      result: { '@id': root['@id'] },
    });
    expect(g.get('#software-xds-2026')).toEqual({
      '@id': '#software-xds-2026',
      '@type': 'SoftwareApplication',
      name: 'xds',
      version: '2026',
    });
    expect(root.recordedAt).toEqual({ '@id': '#visit-MX42-v2' });
    expect(g.get('#visit-MX42-v2')).toMatchObject({ '@type': 'Event', identifier: 'v2' });
  });

  it('passes the ro-crate validator, and every reference resolves inside the graph', () => {
    expect(validateCrate(crate).errors).toEqual([]);
    const refs = crate['@graph'].flatMap((e) =>
      Object.values(e)
        .flatMap((x) => (Array.isArray(x) ? x : [x]))
        .filter((x): x is { '@id': string } => typeof x === 'object' && x !== null && '@id' in x),
    );
    const external = new Set([...refs].map((r) => r['@id']).filter((id) => !g.has(id)));
    expect([...external]).toEqual(['https://w3id.org/ro/crate/1.2']);
  });

  it('reads its inputs, software, visit, sample and instrument back', () => {
    expect(readCrate(crate, '/tmp/integrate-1-ro-crate-metadata.json')).toMatchObject({
      name: 'integrate-1',
      proposal: 'MX42',
      visit: 'v2',
      sample: 'lysozyme',
      instrument: 'BL1',
      technique: 'MX',
      inputDatasets: ['20.500.12269/raw-1', 's3://raw/MX42/scan-2/', 'scan-3'],
      usedSoftware: ['xds 2026', 'aimless'],
    });
  });

  it('writes none of it for a raw dataset', () => {
    const raw = buildCrate({ ...base, visit: null });
    expect(raw['@graph'].map((e) => e['@type'])).not.toContain('CreateAction');
    expect(graphOf(raw).get('s3://processed/MX42/integrate-1/')).not.toHaveProperty('isBasedOn');
    expect(graphOf(raw).get('s3://processed/MX42/integrate-1/')).not.toHaveProperty('recordedAt');
    expect(readCrate(raw, '/tmp/x.json')).toMatchObject({ inputDatasets: [], usedSoftware: [], visit: null });
  });
});

describe('checksums as crates write them', () => {
  const hex = 'e3f3bae8c9c7d9e5997e5150ce89975bae1efd1fdd71b6547a913466c7bfc609';
  it.each([
    [{ sha256: hex }],
    [{ sha256: hex.toUpperCase() }],
    [{ checksum: `sha256:${hex}` }],
    [{ checksum: `SHA-256:${hex}` }],
    [{ 'lambda:checksum': `sha256:${hex}` }],
    [{ checksum: hex }],
    [{ checksum: `sha256-${Buffer.from(hex, 'hex').toString('base64')}` }],
    [{ checksum: ['md5:0cc175b9c0f1b6a831c399e269772661', `sha256:${hex}`] }],
  ])('reads %j', (fields) => {
    expect(crateSha256({ '@id': 'f', ...fields })).toEqual({ sha256: hex });
  });
  it('names another algorithm, and has nothing to say without a checksum', () => {
    expect(crateSha256({ '@id': 'f', checksum: 'md5:0cc175b9c0f1b6a831c399e269772661' })).toEqual({ other: 'md5' });
    expect(crateSha256({ '@id': 'f' })).toBeNull();
  });
});
