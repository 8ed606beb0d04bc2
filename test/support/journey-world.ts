// One journey's world: a temp folder with the operator's BEAMDROP_HOME, a facility profile YAML
// written for one destination and one catalogue, the operator (journey-operator.ts), and the
// expectations every journey ends with — each read independently of Beamdrop: the objects at the
// destination re-hashed, the RO-Crate beside them validated, the local catalogue and the journal
// queried with SQL.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { expect } from 'vitest';
import { Operator, told } from './journey-operator.js';
import { freshDestination, sha256Of, type DestinationKind, type Hashed, type JourneyDestination } from './journey-storage.js';
import {
  localDatasets,
  journalFiles,
  journalJobs,
  uploadedTwice,
  type JourneyCatalogue,
  type LocalDataset,
} from './journey-catalogues.js';
import { isCrate, readStoredCrate, CRATE_SUFFIX, type CrateView } from './journey-crate.js';

/** Keys carry the visit when there is one: "{proposal}/{visit}/{dataset}/{relpath}". */
export const KEY_TEMPLATE = '{proposal}/{visit}/{dataset}/{relpath}';

export interface Identity {
  dataset: string;
  proposal: string;
  visit?: string;
}

export interface Journey {
  base: string;
  home: string;
  profile: string;
  dest: JourneyDestination;
  catalogue: JourneyCatalogue;
  op: Operator;
  /** `beamdrop login` when the catalogue needs a signed-in user. */
  login(): Promise<void>;
  /** A folder of files (relpath → content, or a size for random bytes) and their hashes. */
  tree(files: Record<string, string | Buffer | number>, name?: string): { dir: string; files: Map<string, Hashed> };
  /** The folder of a dataset at the destination, with a trailing "/". */
  prefix(id: Identity): string;
  /** The crate beside that folder. */
  crateKey(id: Identity): string;
  close(): void;
}

export interface JourneyOptions {
  destination: DestinationKind;
  catalogue: JourneyCatalogue;
  /** Extra top-level profile sections (merged over the defaults below). */
  profile?: Record<string, unknown>;
  sync?: Record<string, unknown>;
}

const journeys: Journey[] = [];

export async function newJourney(o: JourneyOptions): Promise<Journey> {
  const base = mkdtempSync(join(tmpdir(), `bd-journey-${o.destination}-${o.catalogue.kind}-`));
  const home = join(base, 'home');
  const dest = await freshDestination(o.destination, base);
  const profile = join(base, 'facility.yaml');
  const doc = {
    facility: 'TESTFAC',
    beamline: 'BL1',
    destinations: { [dest.name]: { ...dest.config, keyTemplate: KEY_TEMPLATE } },
    defaultDestination: dest.name,
    upload: {
      multipartThreshold: '5MiB',
      partSize: { min: '5MiB', max: '5MiB' },
      retries: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    },
    sync: { quietPeriod: '1s', reconcileInterval: '1s', pollInterval: '300ms', stopGrace: '5s', ...(o.sync ?? {}) },
    ...(o.catalogue.config ? { catalogue: o.catalogue.config } : {}),
    ...(o.profile ?? {}),
  };
  writeFileSync(profile, `# written by test/support/journey-world.ts\n${stringify(doc)}`);
  const op = new Operator(home, {
    profile,
    env: { ...dest.env, ...(o.catalogue.login ? { BEAMDROP_CATALOGUE_PASSWORD: o.catalogue.login.password } : {}) },
  });
  let trees = 0;
  const j: Journey = {
    base,
    home,
    profile,
    dest,
    catalogue: o.catalogue,
    op,
    login: async () => {
      if (!o.catalogue.login) return;
      const r = await op.run(['login', '--username', o.catalogue.login.username]);
      expect(r.code, told(r)).toBe(0);
      expect(r.stdout).toMatch(/Signed in to /);
    },
    tree: (files, name) => {
      const dir = join(base, name ?? `data${++trees}`);
      mkdirSync(dir, { recursive: true });
      const hashes = new Map<string, Hashed>();
      for (const [rel, content] of Object.entries(files)) {
        const bytes = typeof content === 'number' ? randomBytes(content) : Buffer.from(content);
        const p = join(dir, ...rel.split('/'));
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, bytes);
        hashes.set(rel, { size: bytes.length, sha256: sha256Of(bytes) });
      }
      return { dir, files: hashes };
    },
    prefix: (id) => `${[id.proposal, id.visit, id.dataset].filter(Boolean).join('/')}/`,
    crateKey: (id) => `${[id.proposal, id.visit, id.dataset].filter(Boolean).join('/')}${CRATE_SUFFIX}`,
    close: () => {
      dest.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
  journeys.push(j);
  return j;
}

/** afterAll: removes every journey's folders. */
export function closeJourneys(): void {
  while (journeys.length) journeys.pop()!.close();
}

export interface StoredDataset {
  id: Identity;
  files: Map<string, Hashed>;
}

/**
 * The destination holds exactly the files of these datasets, byte for byte, and one RO-Crate
 * beside each (none twice, none time-stamped), and nothing an interrupted upload leaves behind.
 */
export async function expectStorageHolds(j: Journey, datasets: StoredDataset[]): Promise<void> {
  const r = j.dest.reader;
  const want = datasets.flatMap((d) => [...d.files.keys()].map((rel) => j.prefix(d.id) + rel));
  const crates = datasets.map((d) => j.crateKey(d.id));
  expect(await r.keys(), `objects at the ${j.dest.kind} destination`).toEqual([...want, ...crates].sort());
  for (const d of datasets)
    for (const [rel, h] of d.files) expect(await r.hash(j.prefix(d.id) + rel), `${j.prefix(d.id)}${rel} read back`).toEqual(h);
  expect(await r.leftovers(), 'unfinished uploads or temporary names left').toEqual([]);
}

/** Only the crates at the destination (e.g. to count finalisations). */
export async function storedCrates(j: Journey): Promise<string[]> {
  return (await j.dest.reader.keys()).filter(isCrate);
}

/**
 * The RO-Crate beside the data is valid, names the dataset, its proposal, visit and sample (and
 * none of `absent`), and lists exactly the dataset's files with their size and SHA-256.
 */
export async function expectCrate(
  j: Journey,
  d: StoredDataset,
  want: {
    sample?: string;
    absent?: string[];
    technique?: string;
    properties?: Record<string, { value: unknown; unit?: string }>;
  } = {},
): Promise<CrateView> {
  const crate = await readStoredCrate(j.dest.reader, j.crateKey(d.id));
  expect(crate.errors, `ro-crate validation of ${crate.key}`).toEqual([]);
  expect(crate.missingRequired, `required root properties of ${crate.key}`).toEqual([]);
  expect(crate.root.name).toBe(d.id.dataset);
  expect(j.dest.reader.keyOfUri(crate.root['@id'])?.replace(/\/$/, ''), 'the root dataset is the data folder').toBe(
    j.prefix(d.id).replace(/\/$/, ''),
  );
  expect(crate.linked, 'proposal named by the crate').toContain(d.id.proposal);
  if (d.id.visit) expect(crate.linked, 'visit named by the crate').toContain(d.id.visit);
  if (want.sample) expect(crate.linked, 'sample named by the crate').toContain(want.sample);
  for (const x of want.absent ?? []) expect(crate.linked, `the crate must not name ${x}`).not.toContain(x);
  if (want.technique) expect(crate.root.measurementTechnique).toBe(want.technique);
  for (const [name, p] of Object.entries(want.properties ?? {}))
    expect(crate.json['@graph'], `PropertyValue ${name} in ${crate.key}`).toContainEqual(
      expect.objectContaining({ '@type': 'PropertyValue', name, value: p.value, ...(p.unit ? { unitText: p.unit } : {}) }),
    );
  const files = crate.files.map((f) => ({ key: f.key, size: f.size, sha256: f.sha256 }));
  const expected = [...d.files].map(([rel, h]) => ({ key: j.prefix(d.id) + rel, size: h.size, sha256: h.sha256 }));
  const byKey = (a: { key: string | null }, b: { key: string | null }) => String(a.key).localeCompare(String(b.key));
  expect(files.sort(byKey), `files listed by ${crate.key}`).toEqual(expected.sort(byKey));
  return crate;
}

const byRelpath = (a: { relpath: string }, b: { relpath: string }) =>
  a.relpath < b.relpath ? -1 : a.relpath > b.relpath ? 1 : 0;

/** The local catalogue has this dataset once (its proposal and visit), complete, with exactly its files. */
export function expectLocalDataset(
  j: Journey,
  d: StoredDataset,
  want: { sample?: string; technique?: string; status?: string; metadata?: Record<string, unknown> } = {},
): LocalDataset {
  const all = localDatasets(j.home, d.id.dataset);
  const mine = all.filter((x) => x.row.proposal === d.id.proposal);
  expect(
    mine,
    `local datasets "${d.id.dataset}" of proposal ${d.id.proposal}: ${JSON.stringify(all.map((x) => x.row))}`,
  ).toHaveLength(1);
  const ds = mine[0]!;
  expect(ds.row.processing_status, 'local catalogue status').toBe(want.status ?? 'complete');
  if (d.id.visit) expect(ds.row.visit, 'visit in the local catalogue').toBe(d.id.visit);
  if (want.sample) expect(ds.samples).toEqual([want.sample]);
  if (want.technique) expect(ds.row.technique).toBe(want.technique);
  if (want.metadata) expect(ds.metadata).toMatchObject(want.metadata);
  expect(ds.instruments).toEqual(['BL1']);
  expect(
    ds.files
      .map((f) => ({ relpath: f.relpath, size: f.size, sha256: f.sha256, key: j.dest.reader.keyOfUri(f.storage_uri) }))
      .sort(byRelpath),
    `files of "${d.id.dataset}" in the local catalogue`,
  ).toEqual(
    [...d.files]
      .map(([relpath, h]) => ({ relpath, size: h.size, sha256: h.sha256, key: j.prefix(d.id) + relpath }))
      .sort(byRelpath),
  );
  return ds;
}

/** The journal: the job is done, every file ended `state` with the SHA-256 of its bytes, none uploaded twice. */
export function expectJournalDone(j: Journey, jobId: number, d: StoredDataset, state: 'verified' | 'registered'): void {
  const job = journalJobs(j.home).find((x) => x.id === jobId);
  expect(job?.state, `job ${jobId}: ${JSON.stringify(job)}`).toBe('done');
  expect(journalFiles(j.home, jobId).sort(byRelpath), `files of job ${jobId} in the journal`).toEqual(
    [...d.files].map(([relpath, h]) => ({ relpath, state, sha256: h.sha256, size: h.size })).sort(byRelpath),
  );
  expect(uploadedTwice(j.home), 'files uploaded twice').toEqual([]);
}

/** The final state a catalogue kind gives verified files in the journal. */
export const registeredState = (c: JourneyCatalogue): 'verified' | 'registered' =>
  c.kind === 'local' ? 'verified' : 'registered';
