// `beamdrop import` of a crate Beamdrop did not write: a LAMBDA-BER (LAMBDA Core profile) crate
// as a facility exports it (test/fixtures/lambda-ber/): relative @ids resolved against the
// crate's folder, a file inside a dataset part, `checksum: "sha256:…"` beside RO-Crate's `sha256`,
// and the sample, instrument, facility and technique the root carries — all in the local
// catalogue, and the files fetched back and checked against the SHA-256 sums the crate gave.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findDatasets } from '../../src/main/engine/catalogue/local/local-search.js';
import { Engine } from '../../src/main/engine/engine.js';
import { fetchFiles } from '../../src/main/engine/operations/fetch-files.js';
import { importCrate } from '../../src/main/engine/operations/import-crate.js';

const fixture = join(import.meta.dirname, '../fixtures/lambda-ber/lyz42');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function setup() {
  const home = mkdtempSync(join(tmpdir(), 'bd-import-'));
  const crateDir = join(home, 'export', 'lyz42');
  cpSync(fixture, crateDir, { recursive: true });
  const engine = Engine.open({ home });
  cleanup.push(
    () => engine.close(),
    () => rmSync(home, { recursive: true, force: true }),
  );
  return { home, crateDir, engine, local: engine.services.catalogue };
}

describe('import of a LAMBDA-BER crate', () => {
  it('takes its "sha256:" checksums, its relative files, its sample and its instrument', async () => {
    const { home, crateDir, engine, local } = setup();
    const r = await importCrate({ local }, join(crateDir, 'ro-crate-metadata.json'), { dataset: 'lyz42' });
    expect(r).toMatchObject({ dataset: 'lyz42', files: 2, bytes: 71 + 79, alreadyKnown: 0 });

    const info = local.dataset('lyz42');
    expect(info).toMatchObject({
      name: 'lyz42',
      origin: 'import',
      technique: 'xray_crystallography',
      samples: ['LYZ-42'],
      instruments: ['BL14.1'],
      status: 'complete',
    });
    const files = local.files(info!.id);
    expect(files.map((f) => [f.relpath, f.storageUri, f.size]).sort()).toEqual([
      ['processing_summary.json', pathToFileURL(join(crateDir, 'processing_summary.json')).href, 79],
      ['reflections/lyz42_scaled.mtz', pathToFileURL(join(crateDir, 'reflections/lyz42_scaled.mtz')).href, 71],
    ]);
    // The sums recorded are the sums of the bytes at those URIs, read back independently.
    for (const f of files) expect(f.sha256).toBe(sha256(fileURLToPath(f.storageUri)));
    const facility = local.db.prepare('SELECT facility FROM instruments WHERE code = ?').get('BL14.1') as { facility: string };
    expect(facility.facility).toBe('HZB');

    // fetch streams them and checks each SHA-256.
    const out = mkdtempSync(join(home, 'fetch-'));
    const fetched = await fetchFiles(engine.operationDeps(), 'lyz42', out);
    expect(fetched.map((o) => o.status)).toEqual(['fetched', 'fetched']);
    expect(readFileSync(join(out, 'reflections', 'lyz42_scaled.mtz'))).toEqual(
      readFileSync(join(fixture, 'reflections', 'lyz42_scaled.mtz')),
    );

    // Importing again knows every file.
    expect(await importCrate({ local }, join(crateDir, 'ro-crate-metadata.json'), { dataset: 'lyz42' })).toMatchObject({
      alreadyKnown: 2,
    });
  });

  it('refuses a file whose only checksum is not SHA-256, naming the file and the algorithm', async () => {
    const { crateDir, local } = setup();
    const file = join(crateDir, 'ro-crate-metadata.json');
    const crate = JSON.parse(readFileSync(file, 'utf8')) as { '@graph': Record<string, unknown>[] };
    const mtz = crate['@graph'].find((e) => e['@id'] === 'reflections/lyz42_scaled.mtz')!;
    mtz.checksum = 'md5:0cc175b9c0f1b6a831c399e269772661';
    writeFileSync(file, JSON.stringify(crate));
    await expect(importCrate({ local }, file)).rejects.toMatchObject({
      code: 'source-invalid',
      file,
      message: expect.stringMatching(/lyz42_scaled\.mtz has only a md5 checksum/),
    });
    expect(findDatasets(local, { text: 'Lysozyme' })).toEqual([]);
  });
});
