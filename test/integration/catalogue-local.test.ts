// The embedded local catalogue (LAMBDA-BER shape), technique templates, RO-Crate manifests,
// register-in-place, import of a crate as pointers and fetch of those pointers, `find` and
// `reconcile` — on the real engine, the filesystem destination and the built CLI.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { profileSchema } from '../../src/shared/profile-schema.js';
import { Engine } from '../../src/main/engine/engine.js';
import { LocalCatalogue } from '../../src/main/engine/catalogue/local-catalogue.js';
import { LOCAL_CATALOGUE_MIGRATIONS } from '../../src/main/engine/catalogue/local/local-migrations.js';
import { openDatabase } from '../../src/main/engine/journal/open-database.js';
import { importCrate } from '../../src/main/engine/operations/import-crate.js';
import { registerInPlace } from '../../src/main/engine/operations/register-in-place.js';
import { fetchFiles } from '../../src/main/engine/operations/fetch-files.js';
import { verifyDataset } from '../../src/main/engine/operations/verify-dataset.js';
import { readCrate } from '../../src/main/engine/catalogue/ro-crate.js';
import { makeTree } from '../support/engine-harness.js';
import { validateCrate } from '../support/ro-crate-validator.js';

const CLI = resolve('bin/beamdrop.js');

function localSetup() {
  const home = mkdtempSync(join(tmpdir(), 'bd-local-'));
  const archive = join(home, 'nas');
  mkdirSync(archive);
  const profile = profileSchema.parse({
    facility: 'TESTFAC',
    beamline: 'BL1',
    destinations: { nas: { kind: 'filesystem', root: archive } },
    techniques: {
      'SAXS-bio': {
        extends: 'SAXS',
        fields: [
          { name: 'buffer', type: 'string', required: true },
          { name: 'pH', type: 'number', min: 0, max: 14 },
        ],
      },
    },
  });
  return { home, archive, profile, engine: Engine.open({ home }) };
}

describe('local catalogue', () => {
  it('keeps the records of the first schema and reshapes them after LAMBDA-BER', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bd-mig-'));
    const file = join(dir, 'catalogue.sqlite');
    const v1 = openDatabase(file, LOCAL_CATALOGUE_MIGRATIONS.slice(0, 1));
    v1.prepare(`INSERT INTO datasets (name, proposal, metadata, created_at) VALUES ('old', 'P1', '{"sample":"s"}', ?)`).run(
      Date.parse('2025-05-04T10:00:00Z'),
    );
    v1.prepare(
      `INSERT INTO data_files (dataset_id, relpath, destination, remote_key, storage_uri, size, sha256, mtime_ms, recorded_at)
      VALUES (1, 'run/img_001.cbf', 'nas', 'P1/old/run/img_001.cbf', 'file:///nas/P1/old/run/img_001.cbf', 10, ?, ?, ?)`,
    ).run('a'.repeat(64), Date.parse('2025-05-04T09:00:00Z'), Date.now());
    v1.close();
    const cat = new LocalCatalogue(file);
    try {
      expect(cat.files('old')).toEqual([expect.objectContaining({ relpath: 'run/img_001.cbf', destination: 'nas', size: 10 })]);
      expect(cat.db.prepare('SELECT file_name, file_format, data_type, creation_date FROM data_files').get()).toEqual({
        file_name: 'img_001.cbf',
        file_format: null,
        data_type: 'raw_data',
        creation_date: '2025-05-04T09:00:00.000Z',
      });
      expect(cat.db.prepare('SELECT experiment_code, experiment_date, processing_status FROM experiment_runs').get()).toEqual({
        experiment_code: 'old',
        experiment_date: '2025-05-04',
        processing_status: 'complete',
      });
    } finally {
      cat.close();
    }
  });

  it('records an upload as an experiment run with instrument, sample, technique and typed files, and writes a valid RO-Crate beside the data', async () => {
    const s = localSetup();
    try {
      const src = makeTree({ 'frames/f_0001.h5': 'h5 bytes', 'frames/f_0002.h5': 'more h5', 'notes.txt': 'n' });
      const summary = await s.engine.upload(s.profile, {
        sources: [src],
        dataset: 'lyso-saxs',
        proposal: 'MX42',
        destination: 'nas',
        metadata: { technique: 'SAXS-bio', sample: 'lysozyme', energy: '12.4', buffer: 'HEPES', pH: '7.5' },
      });
      expect(summary.counts).toEqual({ verified: 3 });
      const info = s.engine.services.catalogue.dataset('lyso-saxs')!;
      expect(info).toMatchObject({
        technique: 'SAXS-bio',
        proposal: 'MX42',
        instruments: ['BL1'],
        samples: ['lysozyme'],
        status: 'complete',
        type: 'raw',
        files: 3,
      });
      expect(
        s.engine.services.catalogue.db
          .prepare(`SELECT file_name, file_format, data_type FROM data_files WHERE relpath = 'frames/f_0001.h5'`)
          .get(),
      ).toEqual({ file_name: 'f_0001.h5', file_format: 'h5', data_type: 'raw_data' });

      const local = join(s.home, 'crates', 'MX42', 'lyso-saxs-ro-crate-metadata.json');
      const remote = join(s.archive, 'MX42', 'lyso-saxs-ro-crate-metadata.json');
      expect(readFileSync(remote, 'utf8')).toBe(readFileSync(local, 'utf8'));
      const crate = JSON.parse(readFileSync(local, 'utf8')) as { '@context': string; '@graph': Record<string, unknown>[] };
      expect(crate['@context']).toBe('https://w3id.org/ro/crate/1.2/context');
      const files = crate['@graph'].filter((e) => e['@type'] === 'File');
      const recorded = s.engine.services.catalogue.files('lyso-saxs');
      expect(files).toHaveLength(3);
      for (const f of recorded) {
        expect(files).toContainEqual(
          expect.objectContaining({
            '@id': f.storageUri,
            contentSize: String(f.size),
            sha256: f.sha256,
            name: f.relpath.split('/').pop(),
            encodingFormat: expect.any(String),
          }),
        );
        expect(f.storageUri).toMatch(/^file:\/\//);
      }
      expect(crate['@graph']).toContainEqual(
        expect.objectContaining({ '@type': 'PropertyValue', name: 'energy', value: 12.4, unitText: 'keV' }),
      );
      expect(s.engine.services.catalogue.dataset('lyso-saxs')!.crateUri).toBe(pathToFileURL(remote).href);

      const check = validateCrate(crate);
      expect(check.errors).toEqual([]);
      expect(check.passed).toEqual(
        expect.arrayContaining(['nameRequired', 'descriptionRequired', 'datePublishedRequired', 'licenseRequired']),
      );
      expect(
        readCrate(crate, local)
          .files.map((f) => f.relpath)
          .sort(),
      ).toEqual(['frames/f_0001.h5', 'frames/f_0002.h5', 'notes.txt']);

      // A rerun that adds a file writes a new crate next to the old one; nothing is overwritten.
      writeFileSync(join(src, 'frames', 'f_0003.h5'), 'third');
      await s.engine.upload(s.profile, {
        sources: [src],
        dataset: 'lyso-saxs',
        proposal: 'MX42',
        destination: 'nas',
        metadata: { technique: 'SAXS-bio', sample: 'lysozyme', buffer: 'HEPES' },
      });
      const newer = s.engine.services.catalogue.dataset('lyso-saxs')!.crateUri!;
      expect(newer).not.toBe(pathToFileURL(remote).href);
      expect(readFileSync(new URL(newer), 'utf8')).toContain('f_0003.h5');
      expect(readFileSync(remote, 'utf8')).not.toContain('f_0003.h5');
    } finally {
      await s.engine.close();
    }
  });

  it('refuses metadata that does not fit the template, naming the dataset and the field', async () => {
    const s = localSetup();
    try {
      const src = makeTree({ 'a.dat': 'a' });
      await expect(
        s.engine.upload(s.profile, {
          sources: [src],
          dataset: 'bad',
          destination: 'nas',
          metadata: { technique: 'SAXS-bio', sample: 'x', pH: 'neutral' },
        }),
      ).rejects.toMatchObject({
        code: 'metadata-invalid',
        dataset: 'bad',
        field: 'buffer',
        message: expect.stringMatching(/buffer: buffer is required for SAXS-bio[\s\S]*pH: "neutral" is not a number/),
      });
      await expect(
        s.engine.upload(s.profile, { sources: [src], dataset: 'bad', destination: 'nas', metadata: { technique: 'XPCS' } }),
      ).rejects.toMatchObject({
        field: 'technique',
        message: expect.stringMatching(/technique "XPCS" has no template; use one of: MX, SAXS, SAXS-bio, cryo-EM/),
      });
      expect(existsSync(join(s.archive, 'bad'))).toBe(false);
    } finally {
      await s.engine.close();
    }
  });

  it('imports a facility RO-Crate as pointers; fetch streams the files and checks every SHA-256', async () => {
    const producer = localSetup();
    const consumer = localSetup();
    try {
      const src = makeTree({ 'mrc/tomo_01.mrc': 'tomogram one', 'mrc/tomo_02.mrc': 'tomogram two' });
      await producer.engine.upload(producer.profile, {
        sources: [src],
        dataset: 'tomo',
        proposal: 'EM7',
        destination: 'nas',
        metadata: {
          technique: 'cryo-EM',
          sample: 'grid3',
          voltage: '300',
          magnification: '64000',
          pixel_size: '1.1',
          dose: '120',
        },
      });
      const crateFile = join(producer.home, 'crates', 'EM7', 'tomo-ro-crate-metadata.json');

      const r = await importCrate(consumer.engine.operationDeps(), crateFile, { dataset: 'tomo-from-facility' });
      expect(r).toMatchObject({ dataset: 'tomo-from-facility', files: 2, bytes: 24 });
      expect(consumer.engine.services.catalogue.dataset('tomo-from-facility')).toMatchObject({
        origin: 'import',
        technique: 'cryo-EM',
        proposal: 'EM7',
      });
      expect(
        consumer.engine.services.catalogue
          .files('tomo-from-facility')
          .every((f) => f.destination === 'uri' && f.remoteKey === f.storageUri),
      ).toBe(true);

      const out = mkdtempSync(join(tmpdir(), 'bd-fetch-'));
      const fetched = await fetchFiles(consumer.engine.operationDeps(), 'tomo-from-facility', out);
      expect(fetched.map((o) => o.status)).toEqual(['fetched', 'fetched']);
      expect(readFileSync(join(out, 'mrc', 'tomo_02.mrc'), 'utf8')).toBe('tomogram two');
      expect(
        (await verifyDataset(consumer.engine.operationDeps(), 'tomo-from-facility', { deep: true })).every((v) => v.result.ok),
      ).toBe(true);

      // The storage copy is damaged: fetch refuses it loudly and writes nothing.
      writeFileSync(join(producer.archive, 'EM7', 'tomo', 'mrc', 'tomo_01.mrc'), 'tomogram ONE');
      const out2 = mkdtempSync(join(tmpdir(), 'bd-fetch-'));
      await expect(fetchFiles(consumer.engine.operationDeps(), 'tomo-from-facility:mrc/tomo_01.mrc', out2)).rejects.toMatchObject(
        {
          code: 'checksum-mismatch',
        },
      );
      expect(existsSync(join(out2, 'mrc', 'tomo_01.mrc'))).toBe(false);
    } finally {
      await producer.engine.close();
      await consumer.engine.close();
    }
  });

  it('registers files already on storage without copying them; verify reads them in place', async () => {
    const s = localSetup();
    try {
      const onStorage = makeTree({ 'raw/a.cbf': 'A', 'raw/b.cbf': 'BB' });
      const r = await registerInPlace(s.engine.operationDeps(), s.profile, {
        path: onStorage,
        dataset: 'in-place',
        proposal: 'P9',
        metadata: { technique: 'MX', sample: 'xtal', energy: '12.7' },
      });
      expect(r).toEqual({ files: 2, bytes: 3, registration: null });
      expect(s.engine.services.catalogue.dataset('in-place')).toMatchObject({
        origin: 'register',
        technique: 'MX',
        status: 'complete',
        files: 2,
      });
      expect(s.engine.services.catalogue.files('in-place').map((f) => f.storageUri)).toEqual([
        pathToFileURL(join(onStorage, 'raw', 'a.cbf')).href,
        pathToFileURL(join(onStorage, 'raw', 'b.cbf')).href,
      ]);
      expect(existsSync(join(s.archive, 'P9'))).toBe(false);
      expect((await verifyDataset(s.engine.operationDeps(), 'in-place', { deep: false })).map((v) => v.result.ok)).toEqual([
        true,
        true,
      ]);
    } finally {
      await s.engine.close();
    }
  });
});

describe('catalogue commands (CLI)', () => {
  const home = mkdtempSync(join(tmpdir(), 'bd-cat-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, BEAMDROP_HOME: home };
  delete env.BEAMDROP_PROFILE;
  const beamdrop = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 120_000 });

  it('`find` searches by words, technique and date; `login` says the local catalogue needs none', () => {
    const a = makeTree({ 'a/img_1.cbf': '1' });
    const b = makeTree({ 'b/movie_1.tif': '2' });
    expect(
      beamdrop('upload', a, '--dataset', 'mx-run-1', '--proposal', 'P1', '-p', 'technique=MX', '-p', 'sample=thaumatin').status,
    ).toBe(0);
    expect(
      beamdrop(
        'upload',
        b,
        '--dataset',
        'em-run-1',
        '--proposal',
        'P2',
        '-p',
        'technique=cryo-EM',
        '-p',
        'sample=apoferritin',
        '-p',
        'voltage=300',
        '-p',
        'magnification=105000',
        '-p',
        'pixel_size=0.83',
        '-p',
        'dose=50',
      ).status,
    ).toBe(0);
    const all = JSON.parse(beamdrop('find', '--json').stdout) as { name: string }[];
    expect(all.map((d) => d.name).sort()).toEqual(['em-run-1', 'mx-run-1']);
    expect((JSON.parse(beamdrop('find', 'thaumatin', '--json').stdout) as { name: string }[]).map((d) => d.name)).toEqual([
      'mx-run-1',
    ]);
    expect((JSON.parse(beamdrop('find', 'movie_1', '--json').stdout) as { name: string }[]).map((d) => d.name)).toEqual([
      'em-run-1',
    ]);
    expect(
      (JSON.parse(beamdrop('find', '--technique', 'cryo-em', '--json').stdout) as { name: string }[]).map((d) => d.name),
    ).toEqual(['em-run-1']);
    expect(JSON.parse(beamdrop('find', '--since', '2999-01-01', '--json').stdout)).toEqual([]);
    expect(beamdrop('find', 'apoferritin').stdout).toMatch(/^em-run-1 .*cryo-EM · proposal P2 · sample apoferritin · 1 files/m);
    expect(beamdrop('find', '--since', 'yesterdayish').stderr).toMatch(/--since yesterdayish: write a date such as 2026-03-01/);
    expect(beamdrop('login').stdout).toMatch(/local catalogue needs no sign-in/);
  });

  it('`reconcile` says what is missing where, and --fix uploads it', () => {
    const src = makeTree({ 'd/1.h5': 'one', 'd/2.h5': 'two', 'd/3.h5': 'three' });
    expect(beamdrop('upload', src, '--dataset', 'recon', '--proposal', 'P3').status).toBe(0);
    const archive = join(home, 'archive', 'P3', 'recon');
    rmSync(join(archive, 'd', '2.h5'));
    writeFileSync(join(src, 'd', '4.h5'), 'four');
    const report = beamdrop('reconcile', 'recon');
    expect(report.status).toBe(1);
    expect(report.stdout).toMatch(/2 file\(s\) are where they should be/);
    expect(report.stdout).toMatch(
      /2 file\(s\) only on this computer \(not uploaded\):\n\s+d\/2\.h5: only on this computer, not on "local-archive"\n\s+d\/4\.h5/,
    );
    expect(report.stdout).toMatch(/What --fix would do:\n\s+- upload 2 file\(s\) to "local-archive", verify and register them/);
    expect(JSON.parse(beamdrop('reconcile', src, '--json').stdout)).toMatchObject({
      dataset: 'recon',
      findings: [
        { relpath: 'd/2.h5', problem: 'not-uploaded' },
        { relpath: 'd/4.h5', problem: 'not-uploaded' },
      ],
    });

    const fix = beamdrop('reconcile', 'recon', '--fix');
    expect(fix.status, fix.stderr).toBe(0);
    expect(fix.stdout).toMatch(/After --fix:\n.*\n\s+4 file\(s\) are where they should be/);
    expect(readFileSync(join(archive, 'd', '2.h5'), 'utf8')).toBe('two');
    expect(readFileSync(join(archive, 'd', '4.h5'), 'utf8')).toBe('four');
  });
});
