// A dataset is (catalogue, proposal, visit, name) in the local catalogue, its RO-Crate, `find`,
// `verify`, `fetch` and `reconcile` (issue 8, findings 3 and 6): the same name in two proposals is
// two datasets, each crate names its own proposal and sample and lists its own files, the visit
// is recorded, a bare name shared by several datasets is refused with the candidates, catalogues
// written by earlier versions migrate without loss, and reconcile knows sync datasets. On the real
// engine, a filesystem destination and the built CLI.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { profileSchema, type FacilityProfile } from '../../src/shared/profile-schema.js';
import { syncSchema } from '../../src/shared/profile-sync-schema.js';
import type { JobEvent } from '../../src/shared/model.js';
import { Engine } from '../../src/main/engine/engine.js';
import { LocalCatalogue } from '../../src/main/engine/catalogue/local-catalogue.js';
import { LOCAL_CATALOGUE_MIGRATIONS } from '../../src/main/engine/catalogue/local/local-migrations.js';
import { findDatasets } from '../../src/main/engine/catalogue/local/local-search.js';
import { idempotencyKey } from '../../src/main/engine/catalogue/outbox/registration-request.js';
import { readCrate } from '../../src/main/engine/catalogue/ro-crate.js';
import { openDatabase } from '../../src/main/engine/journal/open-database.js';
import { fetchFiles } from '../../src/main/engine/operations/fetch-files.js';
import { fixReconcile, reconcile } from '../../src/main/engine/operations/reconcile.js';
import { verifyDataset } from '../../src/main/engine/operations/verify-dataset.js';
import { makeTree } from '../support/engine-harness.js';
import { waitUntil } from '../fault/helpers.js';

const CLI = resolve('bin/beamdrop.js');

type Crate = { '@graph': Record<string, unknown>[] };

function localSetup(sync: Record<string, unknown> = {}) {
  const home = mkdtempSync(join(tmpdir(), 'bd-ident-'));
  const archive = join(home, 'nas');
  mkdirSync(archive);
  const profile: FacilityProfile = profileSchema.parse({
    facility: 'TESTFAC',
    beamline: 'BL1',
    destinations: { nas: { kind: 'filesystem', root: archive } },
  });
  profile.sync = syncSchema.parse({
    quietPeriod: '400ms',
    reconcileInterval: '1s',
    pollInterval: '200ms',
    stopGrace: '2s',
    ...sync,
  });
  return { home, archive, profile, engine: Engine.open({ home }) };
}

const graphOf = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as Crate)['@graph'];
const named = (graph: Record<string, unknown>[], type: string) => graph.filter((e) => e['@type'] === type).map((e) => e.name);

describe('dataset identity in the local catalogue', () => {
  it('keeps the same dataset name in two proposals apart: two datasets, each crate with its own proposal, sample and files; the visit is recorded', async () => {
    const s = localSetup();
    try {
      const a = makeTree({ 'd/1.h5': 'proposal A one', 'd/2.h5': 'proposal A two', 'd/3.h5': 'proposal A three' });
      const b = makeTree({ 'd/1.h5': 'proposal B: another one', 'x.h5': 'B x', 'y.h5': 'B y' });
      await s.engine.upload(s.profile, {
        sources: [a],
        dataset: 'ds1',
        proposal: '20170251',
        destination: 'nas',
        metadata: { sample: 'lysozyme' },
      });
      await s.engine.upload(s.profile, {
        sources: [b],
        dataset: 'ds1',
        proposal: '99999',
        visit: 'v2',
        destination: 'nas',
        metadata: { sample: 'buffer-only' },
      });

      const cat = s.engine.services.catalogue;
      const both = cat.matching({ name: 'ds1' });
      expect(both).toHaveLength(2);
      const [first, second] = both;
      expect(first).toMatchObject({ catalogue: 'local', proposal: '20170251', visit: null, samples: ['lysozyme'], files: 3 });
      expect(second).toMatchObject({ catalogue: 'local', proposal: '99999', visit: 'v2', samples: ['buffer-only'], files: 3 });
      expect(cat.files(first!.id).map((f) => f.relpath)).toEqual(['d/1.h5', 'd/2.h5', 'd/3.h5']);
      expect(cat.files(second!.id).map((f) => f.relpath)).toEqual(['d/1.h5', 'x.h5', 'y.h5']);
      expect(() => cat.dataset('ds1')).toThrow(expect.objectContaining({ code: 'dataset-ambiguous' }));
      expect(findDatasets(cat, { visit: 'v2' }).map((d) => d.proposal)).toEqual(['99999']);
      expect(findDatasets(cat, { text: 'v2' }).map((d) => d.proposal)).toEqual(['99999']);

      // Each crate, beside its own data and in its own local folder, names only its own dataset.
      const crateA = join(s.archive, '20170251', 'ds1-ro-crate-metadata.json');
      // The default key template puts the visit in the keys: {proposal}/{visit}/{dataset}/{relpath}.
      const crateB = join(s.archive, '99999', 'v2', 'ds1-ro-crate-metadata.json');
      expect(readFileSync(join(s.home, 'crates', '20170251', 'ds1-ro-crate-metadata.json'), 'utf8')).toBe(
        readFileSync(crateA, 'utf8'),
      );
      expect(readFileSync(join(s.home, 'crates', '99999', 'v2', 'ds1-ro-crate-metadata.json'), 'utf8')).toBe(
        readFileSync(crateB, 'utf8'),
      );
      const ga = graphOf(crateA);
      const gb = graphOf(crateB);
      expect(named(ga, 'Project')).toEqual(['20170251']);
      expect(named(gb, 'Project')).toEqual(['99999']);
      expect(named(ga, 'Thing')).toEqual(['lysozyme']);
      expect(named(gb, 'Thing')).toEqual(['buffer-only']);
      expect(
        readCrate({ '@context': 'https://w3id.org/ro/crate/1.2/context', '@graph': ga }, crateA)
          .files.map((f) => f.relpath)
          .sort(),
      ).toEqual(['d/1.h5', 'd/2.h5', 'd/3.h5']);
      expect(ga.filter((e) => e['@type'] === 'File').every((e) => String(e['@id']).includes('/20170251/ds1/'))).toBe(true);
      expect(gb.filter((e) => e['@type'] === 'File').every((e) => String(e['@id']).includes('/99999/v2/ds1/'))).toBe(true);
      expect(JSON.stringify(ga)).not.toMatch(/99999|buffer-only|"v2"/);
      // The visit is named in its own crate only.
      expect(gb.filter((e) => e['@type'] === 'Event').map((e) => e.identifier)).toEqual(['v2']);
      expect(ga.filter((e) => e['@type'] === 'Event')).toEqual([]);
      expect(cat.dataset({ name: 'ds1', proposal: '20170251' })!.crateUri).toMatch(/\/20170251\/ds1-ro-crate-metadata\.json$/);

      // verify and fetch take the one that is meant, and refuse to guess.
      await expect(verifyDataset(s.engine.operationDeps(), 'ds1', { deep: false })).rejects.toMatchObject({
        code: 'dataset-ambiguous',
      });
      expect(
        (await verifyDataset(s.engine.operationDeps(), { name: 'ds1', proposal: '99999' }, { deep: true })).map(
          (v) => v.result.ok,
        ),
      ).toEqual([true, true, true]);
      const out = mkdtempSync(join(tmpdir(), 'bd-ident-fetch-'));
      await fetchFiles(s.engine.operationDeps(), 'ds1', out, { visit: 'v2' });
      expect(readFileSync(join(out, 'd', '1.h5'), 'utf8')).toBe('proposal B: another one');
    } finally {
      await s.engine.close();
    }
  });

  it('records the input datasets of a derived dataset', async () => {
    const s = localSetup();
    try {
      const src = makeTree({ 'map.mrc': 'reconstructed' });
      await s.engine.upload(s.profile, {
        sources: [src],
        dataset: 'ds1-map',
        proposal: 'P7',
        destination: 'nas',
        metadata: { datasetType: 'derived', inputDatasets: 'ds1, 20.500.12269/abc', usedSoftware: 'relion' },
      });
      expect(s.engine.services.catalogue.dataset('ds1-map')).toMatchObject({
        type: 'derived',
        inputDatasets: ['ds1', '20.500.12269/abc'],
      });
      // ...and its RO-Crate names them (and the software), from the local catalogue.
      const graph = graphOf(join(s.home, 'crates', 'P7', 'ds1-map-ro-crate-metadata.json'));
      const root = graph.find((e) => e['@type'] === 'Dataset' && Array.isArray(e.hasPart))!;
      const based = (root.isBasedOn as { '@id': string }[]).map((r) => graph.find((e) => e['@id'] === r['@id'])!.identifier);
      expect(based).toEqual(['ds1', '20.500.12269/abc']);
      expect(named(graph, 'SoftwareApplication')).toEqual(['relion']);
    } finally {
      await s.engine.close();
    }
  });

  it('migrates a catalogue.sqlite of the previous schema without loss, and the first job of the same dataset claims its row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bd-ident-mig-'));
    const file = join(dir, 'catalogue.sqlite');
    const old = openDatabase(file, LOCAL_CATALOGUE_MIGRATIONS.slice(0, 2));
    const t = Date.parse('2026-01-10T09:00:00Z');
    old.exec(`
      INSERT INTO instruments (id, code, facility, created_at) VALUES (1, 'BL1', 'TESTFAC', ${t});
      INSERT INTO samples (id, name, created_at) VALUES (1, 'lysozyme', ${t});
      INSERT INTO datasets (id, name, proposal, metadata, created_at, technique, experiment_date, operator_id, processing_status, description, idem_key, origin, crate_uri, dataset_type)
        VALUES (1, 'scan-7', 'P1', '{"sample":"lysozyme","energy":"12.4"}', ${t}, 'MX', '2026-01-10', 'ana', 'complete', 'first scan', NULL, 'upload', 'file:///nas/P1/scan-7-ro-crate-metadata.json', 'raw'),
               (2, 'remote-ds', 'P2', '{}', ${t}, NULL, '2026-01-10', 'ana', 'acquiring', NULL, 'bd-0123456789abcdef0123456789abcdef', 'upload', NULL, 'raw');
      INSERT INTO experiment_instruments VALUES (1, 1);
      INSERT INTO experiment_samples VALUES (1, 1);
    `);
    const file1 = old.prepare(
      `INSERT INTO data_files (dataset_id, relpath, destination, remote_key, storage_uri, size, sha256, mtime_ms, recorded_at, file_name, file_format, data_type, creation_date)
       VALUES (?, ?, 'nas', ?, ?, ?, ?, ?, ?, ?, 'cbf', 'raw_data', '2026-01-10T08:00:00.000Z')`,
    );
    file1.run(1, 'run/a.cbf', 'P1/scan-7/run/a.cbf', 'file:///nas/P1/scan-7/run/a.cbf', 10, 'a'.repeat(64), t, t, 'a.cbf');
    file1.run(1, 'run/b.cbf', 'P1/scan-7/run/b.cbf', 'file:///nas/P1/scan-7/run/b.cbf', 20, 'b'.repeat(64), t, t, 'b.cbf');
    file1.run(2, 'x.h5', 'P2/remote-ds/x.h5', 'file:///nas/P2/remote-ds/x.h5', 5, 'c'.repeat(64), t, t, 'x.h5');
    const before = {
      datasets: old.prepare('SELECT * FROM datasets ORDER BY id').all(),
      files: old.prepare('SELECT * FROM data_files ORDER BY id').all(),
    };
    old.close();

    const cat = new LocalCatalogue(file, () => t + 1000);
    try {
      // Every row and column is still there; the identity is filled as known then.
      expect(cat.db.prepare('SELECT * FROM data_files ORDER BY id').all()).toEqual(before.files);
      const after = cat.db.prepare('SELECT * FROM datasets ORDER BY id').all() as Record<string, unknown>[];
      expect(after).toEqual(
        (before.datasets as Record<string, unknown>[]).map((r) => ({
          ...r,
          catalogue: 'local',
          visit: null,
          identity_inferred: 1,
        })),
      );
      expect(cat.dataset('scan-7')).toMatchObject({
        id: 1,
        catalogue: 'local',
        proposal: 'P1',
        visit: null,
        instruments: ['BL1'],
        samples: ['lysozyme'],
        technique: 'MX',
        files: 2,
        bytes: 30,
        crateUri: 'file:///nas/P1/scan-7-ro-crate-metadata.json',
      });
      expect(cat.db.pragma('foreign_key_check')).toEqual([]);
      expect(cat.db.prepare('SELECT experiment_code, proposal, visit FROM experiment_runs WHERE id = 1').get()).toEqual({
        experiment_code: 'scan-7',
        proposal: 'P1',
        visit: null,
      });

      // A job with a visit (not recorded before) takes over the row of the same name and proposal...
      const id = cat.ensureDataset({ catalogue: 'local', proposal: 'P1', visit: 'v3', name: 'scan-7' }, { pH: '7' });
      expect(id).toBe(1);
      expect(cat.dataset(1)).toMatchObject({ visit: 'v3', files: 2, metadata: { sample: 'lysozyme', energy: '12.4', pH: '7' } });
      // ...a facility job finds its row by the registration key and sets its catalogue...
      const remote = cat.ensureDataset(
        { catalogue: 'scicat https://scicat.example', proposal: 'P2', visit: 'v1', name: 'remote-ds' },
        {},
        { key: 'bd-0123456789abcdef0123456789abcdef' },
      );
      expect(remote).toBe(2);
      expect(cat.dataset(2)).toMatchObject({ catalogue: 'scicat https://scicat.example', visit: 'v1', files: 1 });
      // ...and another proposal or visit is another dataset, the claimed rows untouched.
      const other = cat.ensureDataset(
        { catalogue: 'local', proposal: 'P9', visit: null, name: 'scan-7' },
        {},
        { sample: 'other' },
      );
      expect(other).not.toBe(1);
      expect(cat.dataset(1)!.samples).toEqual(['lysozyme']);
      expect(cat.ensureDataset({ catalogue: 'local', proposal: 'P1', visit: 'v4', name: 'scan-7' }, {})).not.toBe(1);
      expect(cat.matching({ name: 'scan-7' })).toHaveLength(3);
    } finally {
      cat.close();
    }
  });

  it('keeps the outbox key of a dataset without a visit exactly as before, so existing registrations are found again', () => {
    // Values computed by the three-argument key of earlier versions.
    expect(idempotencyKey('scicat https://scicat.facility.example', '20170251', 'ds1', null)).toBe(
      'bd-9de9f6e2c5ff7495b66af1ed64243053',
    );
    expect(idempotencyKey('local', null, 'ds1', null)).toBe('bd-543158fdfa631f12ce278e4ac8a47c07');
    const v1 = idempotencyKey('scicat https://scicat.facility.example', '20170251', 'ds1', 'v1');
    expect(v1).toMatch(/^bd-[0-9a-f]{32}$/);
    expect(v1).not.toBe('bd-9de9f6e2c5ff7495b66af1ed64243053');
    expect(idempotencyKey('scicat https://scicat.facility.example', '20170251', 'ds1', 'v2')).not.toBe(v1);
  });
});

describe('reconcile per dataset identity', () => {
  it('compares a dataset only with its own jobs: a same-named dataset of another proposal changes nothing', async () => {
    const s = localSetup();
    try {
      const files = (tag: string) =>
        Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`scan/f${i}.h5`, `${tag} frame ${i} `.repeat(i + 1)]));
      const a = makeTree(files('A'));
      const b = makeTree(files('proposal B, longer'));
      await s.engine.upload(s.profile, { sources: [a], dataset: 'ds1', proposal: '20170251', destination: 'nas' });
      await s.engine.upload(s.profile, { sources: [b], dataset: 'ds1', proposal: '99999', destination: 'nas' });

      await expect(reconcile(s.engine.operationDeps(), 'ds1')).rejects.toMatchObject({
        code: 'dataset-ambiguous',
        message: expect.stringMatching(/"ds1" \(proposal 20170251\)[\s\S]*"ds1" \(proposal 99999\)[\s\S]*--proposal/),
      });
      const report = await reconcile(s.engine.operationDeps(), 'ds1', { proposal: '20170251' });
      expect(report).toMatchObject({ dataset: 'ds1', proposal: '20170251', kind: 'batch', ok: 5, findings: [], fixPlan: [] });
      // By folder, too: the folder was uploaded as one dataset.
      expect(await reconcile(s.engine.operationDeps(), b)).toMatchObject({ proposal: '99999', ok: 5, findings: [] });
    } finally {
      await s.engine.close();
    }
  });

  it('knows a sync dataset: what the session stored is ok, a file written later is missing, --fix uploads it', async () => {
    const s = localSetup({ mode: 'poll', ignore: ['*.part'] });
    try {
      const src = mkdtempSync(join(tmpdir(), 'bd-ident-sync-'));
      for (let i = 0; i < 4; i++) writeFileSync(join(src, `img_${i}.cbf`), `image ${i}`);
      const events: JobEvent[] = [];
      const stop = new AbortController();
      const watching = s.engine.watch(s.profile, {
        folders: [src],
        dataset: 'live',
        proposal: 'P5',
        visit: 'v1',
        destination: 'nas',
        signal: stop.signal,
        onEvent: (e) => events.push(e),
      });
      await waitUntil(
        'four files verified',
        () => events.filter((e) => e.type === 'file-state' && e.state === 'verified').length === 4,
        30_000,
        100,
      );
      stop.abort();
      const result = await watching;
      expect(result.summary.job.state).toBe('done');
      // The stopped session finalised its dataset: complete, with its RO-Crate.
      const info = s.engine.services.catalogue.dataset('live')!;
      expect(info).toMatchObject({ proposal: 'P5', visit: 'v1', status: 'complete', files: 4 });
      expect(existsSync(join(s.home, 'crates', 'P5', 'v1', 'live-ro-crate-metadata.json'))).toBe(true);

      writeFileSync(join(src, 'img_4.cbf'), 'image 4, written after the session');
      writeFileSync(join(src, 'img_5.cbf.part'), 'still being written');
      rmSync(join(s.archive, 'P5', 'v1', 'live', 'img_1.cbf'));
      const report = await reconcile(s.engine.operationDeps(), 'live');
      expect(report).toMatchObject({ kind: 'sync', proposal: 'P5', visit: 'v1', ok: 3 });
      expect(report.findings).toEqual([
        expect.objectContaining({ relpath: 'img_1.cbf', problem: 'not-uploaded' }),
        expect.objectContaining({ relpath: 'img_4.cbf', problem: 'not-uploaded' }),
      ]);

      const fixed = await fixReconcile(s.engine.operationDeps(), s.profile, report);
      expect(fixed.failures).toEqual([]);
      expect(readFileSync(join(s.archive, 'P5', 'v1', 'live', 'img_4.cbf'), 'utf8')).toBe('image 4, written after the session');
      expect(existsSync(join(s.archive, 'P5', 'v1', 'live', 'img_5.cbf.part'))).toBe(false);
      expect(await reconcile(s.engine.operationDeps(), 'live', { visit: 'v1' })).toMatchObject({ ok: 5, findings: [] });
      expect(s.engine.services.catalogue.matching({ name: 'live' })).toHaveLength(1);
    } finally {
      await s.engine.close();
    }
  }, 60_000);
});

describe('commands name one dataset (CLI)', () => {
  const home = mkdtempSync(join(tmpdir(), 'bd-ident-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, BEAMDROP_HOME: home };
  delete env.BEAMDROP_PROFILE;
  const beamdrop = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 120_000 });

  it('`find` shows and filters by proposal and visit; verify, fetch and reconcile refuse a shared name with the candidates', () => {
    const a = makeTree({ 'a.h5': 'A1', 'b.h5': 'A2' });
    const b = makeTree({ 'a.h5': 'B1 differs', 'c.h5': 'B3' });
    expect(beamdrop('upload', a, '--dataset', 'ds1', '--proposal', '20170251').status).toBe(0);
    expect(beamdrop('upload', b, '--dataset', 'ds1', '--proposal', '99999', '--visit', 'v2').status).toBe(0);

    const all = JSON.parse(beamdrop('find', 'ds1', '--json').stdout) as {
      name: string;
      proposal: string;
      visit: string | null;
    }[];
    expect(all.map((d) => [d.name, d.proposal, d.visit]).sort()).toEqual([
      ['ds1', '20170251', null],
      ['ds1', '99999', 'v2'],
    ]);
    expect(
      (JSON.parse(beamdrop('find', '--proposal', '99999', '--json').stdout) as { visit: string }[]).map((d) => d.visit),
    ).toEqual(['v2']);
    expect((JSON.parse(beamdrop('find', '--visit', 'v2', '--json').stdout) as unknown[]).length).toBe(1);
    expect(beamdrop('find', 'ds1').stdout).toMatch(/^ds1 .*proposal 99999 · visit v2 · 2 files/m);

    for (const args of [
      ['verify', 'ds1'],
      ['fetch', 'ds1', mkdtempSync(join(tmpdir(), 'bd-f-'))],
      ['reconcile', 'ds1'],
    ]) {
      const r = beamdrop(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(
        /2 datasets are named "ds1":\n\s+"ds1" \(proposal 20170251\)\n\s+"ds1" \(proposal 99999, visit v2\)/,
      );
      expect(r.stderr).toMatch(/--proposal ID and\/or --visit ID/);
    }
    expect(JSON.parse(beamdrop('verify', 'ds1', '--json').stdout)).toMatchObject({
      type: 'error',
      error: { code: 'dataset-ambiguous' },
    });

    const v = beamdrop('verify', 'ds1', '--proposal', '99999');
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/All 2 file\(s\) verified/);
    const out = mkdtempSync(join(tmpdir(), 'bd-f-'));
    expect(beamdrop('fetch', 'ds1', out, '--proposal', '20170251').status).toBe(0);
    expect(readFileSync(join(out, 'a.h5'), 'utf8')).toBe('A1');
    const r = beamdrop('reconcile', 'ds1', '--visit', 'v2');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /Dataset "ds1" \(proposal 99999, visit v2, batch job \d+\)[\s\S]*2 file\(s\) are where they should be/,
    );

    const none = beamdrop('fetch', 'nosuch', out);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/`beamdrop find` lists datasets/);
    expect(beamdrop('verify', 'nosuch').stderr).toMatch(/`beamdrop find` lists datasets/);
  });
});
