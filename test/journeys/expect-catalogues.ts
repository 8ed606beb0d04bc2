// What a finished dataset looks like in each facility catalogue, read from the contract servers'
// stores and the broker's queue (journey-catalogues.ts), for the journeys' last checks.
import { expect } from 'vitest';
import type { IcatContractServer } from '../support/icat-contract-server.js';
import type { ScicatContractServer, Doc } from '../support/scicat-contract-server.js';
import {
  SCICAT_USER,
  icatDatasets,
  journalRegistrations,
  scicatDatasets,
  scicatFiles,
  scicatProposalOf,
  takeIcatPlusMessages,
  type IcatDatasetView,
  type IcatPlusMessage,
} from '../support/journey-catalogues.js';
import type { Journey, StoredDataset } from '../support/journey-world.js';

const sum = (d: StoredDataset) => [...d.files.values()].reduce((n, h) => n + h.size, 0);

/** SciCat's `datasetlifecycle.archivable`: an archive job may take the dataset only when true. */
export const archivable = (d: Doc): unknown => (d.datasetlifecycle as { archivable?: unknown } | undefined)?.archivable;

/**
 * What an archive system sends to SciCat to archive one dataset (POST /api/v4/jobs, type
 * "archive"), signed in as a member of the dataset's owner group; the answer's HTTP status.
 */
export async function archiveJob(server: ScicatContractServer, pid: string, ownerGroup: string): Promise<number> {
  const login = await fetch(`${server.url}/api/v3/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: SCICAT_USER.username, password: SCICAT_USER.password }),
  });
  const { access_token } = (await login.json()) as { access_token: string };
  const res = await fetch(`${server.url}/api/v4/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
    body: JSON.stringify({ type: 'archive', ownerGroup, jobParams: { datasetList: [{ pid, files: [] }] } }),
  });
  await res.text();
  return res.status;
}

/** The one SciCat dataset of this proposal and name (none other of the name in the proposal). */
export function scicatDatasetOf(server: ScicatContractServer, d: StoredDataset): Doc | undefined {
  const mine = scicatDatasets(server, d.id.dataset).filter((x) => scicatProposalOf(x) === d.id.proposal);
  expect(mine.length, `SciCat datasets "${d.id.dataset}" of proposal ${d.id.proposal}`).toBeLessThanOrEqual(1);
  return mine[0];
}

/** Registered once, with exactly the files (path, size, SHA-256) in its OrigDatablocks, and finished (archivable). */
export async function expectScicatFinished(
  j: Journey,
  server: ScicatContractServer,
  d: StoredDataset,
  want: { version: 'v3' | 'v4'; sample: string },
): Promise<Doc> {
  const ds = scicatDatasetOf(server, d);
  expect(ds, `SciCat dataset "${d.id.dataset}"`).toBeDefined();
  expect(ds).toMatchObject({
    type: 'raw',
    ownerGroup: `p-${d.id.proposal.toLowerCase()}`,
    owner: 'ingestor',
    numberOfFiles: d.files.size,
    size: sum(d),
    ...(want.version === 'v3' ? { sampleId: want.sample } : { sampleIds: [want.sample] }),
  });
  expect(j.dest.reader.keyOfUri(String(ds!.sourceFolder))?.replace(/\/$/, ''), 'sourceFolder').toBe(j.prefix(d.id).slice(0, -1));
  const files = scicatFiles(server, String(ds!.pid)).sort((a, b) => (a.path < b.path ? -1 : 1));
  expect(files, `files in the OrigDatablocks of ${String(ds!.pid)}`).toEqual(
    [...d.files].map(([path, h]) => ({ path, size: h.size, chk: h.sha256 })).sort((a, b) => (a.path < b.path ? -1 : 1)),
  );
  expect(archivable(ds!), 'datasetlifecycle.archivable once the last file is registered').toBe(true);
  expect(await archiveJob(server, String(ds!.pid), String(ds!.ownerGroup)), 'an archive job for the finished dataset').toBe(201);
  const regs = journalRegistrations(j.home, d.id.dataset);
  expect(regs.map((r) => ({ state: r.state, remote_id: r.remote_id }))).toEqual([{ state: 'registered', remote_id: ds!.pid }]);
  return ds!;
}

/** The ICAT Dataset in its investigation (and visit): once, complete, with exactly the Datafiles. */
export function expectIcatFinished(j: Journey, server: IcatContractServer, d: StoredDataset): IcatDatasetView {
  const all = icatDatasets(server, d.id.dataset);
  const mine = all.filter((x) => x.investigation.name === d.id.proposal);
  expect(mine, `ICAT datasets "${d.id.dataset}" in ${d.id.proposal}`).toHaveLength(1);
  const ds = mine[0]!;
  if (d.id.visit) expect(ds.investigation.visitId).toBe(d.id.visit);
  expect(ds.complete, 'Dataset.complete at the end').toBe(true);
  expect(j.dest.reader.keyOfUri(String(ds.location))?.replace(/\/$/, ''), 'Dataset.location').toBe(j.prefix(d.id).slice(0, -1));
  expect(
    ds.files
      .map((f) => ({ name: f.name, fileSize: f.fileSize, checksum: f.checksum, key: j.dest.reader.keyOfUri(String(f.location)) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    'Datafiles',
  ).toEqual(
    [...d.files]
      .map(([name, h]) => ({ name, fileSize: h.size, checksum: `sha256:${h.sha256}`, key: j.prefix(d.id) + name }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
  );
  return ds;
}

/** Exactly one dataset message on the journey's queue, complete, naming proposal, beamline, dataset, sample and folder. */
export async function expectIcatPlusMessage(
  j: Journey,
  queue: string,
  d: StoredDataset,
  want: { sample: string; parameters?: Record<string, string> },
): Promise<IcatPlusMessage> {
  const got = await takeIcatPlusMessages(queue, 1);
  expect(
    got.map((m) => m.name),
    `messages on ${queue}`,
  ).toEqual([d.id.dataset]);
  const m = got[0]!;
  // pyicat-plus writes proposal and beamline in lower case (mx2345, id23), and so does Beamdrop.
  expect(m).toMatchObject({
    complete: 'true',
    investigation: d.id.proposal.toLowerCase(),
    instrument: 'bl1',
    sample: want.sample,
  });
  // The location is the folder path (pyicat-plus's absolute path) of the dataset's storage URI.
  expect(m.location, 'tns:location').toMatch(/^\//);
  expect(
    m.location?.replace(/\/$/, '').endsWith(`/${j.prefix(d.id).slice(0, -1)}`),
    `tns:location ${m.location} is the dataset's folder`,
  ).toBe(true);
  if (want.parameters) expect(m.parameters).toMatchObject(want.parameters);
  return m;
}
