// The catalogues of the journeys and independent readers of what they hold: the SciCat contract
// server's store (v3 and v4 routes of one server), the ICAT contract server's entities, the
// ICAT+ messages on the ActiveMQ queue (consumed with a STOMP client), and the local catalogue
// and journal of a BEAMDROP_HOME, opened read-only with better-sqlite3 and queried with SQL
// here (none of Beamdrop's own classes are used to read them back).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { inject } from 'vitest';
import { readQueue } from './activemq.js';
import type { Doc, ScicatContractServer, ScicatUser } from './scicat-contract-server.js';
import type { IcatContractServer } from './icat-contract-server.js';

export type CatalogueKind = 'local' | 'scicat-v3' | 'scicat-v4' | 'icat' | 'icat-plus';

export interface JourneyCatalogue {
  kind: CatalogueKind;
  /** The profile's `catalogue:` section; null for the local catalogue (the default). */
  config: Record<string, unknown> | null;
  /** Who signs in with `beamdrop login`; null when nobody needs to. */
  login: { username: string; password: string } | null;
  /** Makes a proposal (and visit) known to the catalogue, as the facility's user office would. */
  addProposal(id: string, visit?: string): void;
}

export const localCatalogue = (): JourneyCatalogue => ({
  kind: 'local',
  config: null,
  login: null,
  addProposal: () => undefined,
});

export const SCICAT_USER: ScicatUser = {
  username: 'ingestor',
  password: 'pw-journeys',
  email: 'ingestor@facility.example',
  groups: ['beamline-bl1'],
};

export function scicatCatalogue(server: ScicatContractServer, apiVersion: 'v3' | 'v4'): JourneyCatalogue {
  return {
    kind: apiVersion === 'v3' ? 'scicat-v3' : 'scicat-v4',
    config: { kind: 'scicat', url: server.url, apiVersion, contactEmail: 'bl1@facility.example' },
    login: { username: SCICAT_USER.username, password: SCICAT_USER.password },
    addProposal: (id) => {
      const ownerGroup = `p-${id.toLowerCase()}`;
      if (!SCICAT_USER.groups.includes(ownerGroup)) SCICAT_USER.groups.push(ownerGroup);
      if (server.proposals.has(id)) return;
      const now = new Date().toISOString();
      server.proposals.set(id, {
        proposalId: id,
        title: `Proposal ${id}`,
        ownerGroup,
        email: 'pi@university.example',
        accessGroups: ['beamline-bl1'],
        isPublished: false,
        createdAt: now,
        updatedAt: now,
      });
    },
  };
}

export const ICAT_USER = { username: 'alice', password: 'pw-icat-journeys' };

export function icatCatalogue(server: IcatContractServer): JourneyCatalogue {
  const seeded = new Set<string>();
  return {
    kind: 'icat',
    config: {
      kind: 'icat',
      url: server.url,
      facility: server.facility,
      blockFiles: 3,
      contactEmail: 'bl1@facility.example',
      ownerGroup: 'bl1',
    },
    login: ICAT_USER,
    addProposal: (id, visit = '1') => {
      if (seeded.has(`${id}/${visit}`)) return;
      seeded.add(`${id}/${visit}`);
      server.seedInvestigation({ name: id, visitId: visit, members: [`db/${ICAT_USER.username}`] });
    },
  };
}

/** ICAT+ over the journeys' ActiveMQ, on a queue of its own. */
export function icatPlusCatalogue(): JourneyCatalogue & { queue: string } {
  const broker = inject('broker');
  const queue = `/queue/icatIngest.j${randomBytes(4).toString('hex')}`;
  return {
    kind: 'icat-plus',
    queue,
    // No owner group or contact: an ICAT+ message carries neither (the investigation, named in
    // it, decides who sees the data), so a profile need not invent them.
    config: {
      kind: 'icat-plus',
      url: broker.url,
      queue,
      username: broker.username,
    },
    login: { username: broker.username, password: broker.password },
    addProposal: () => undefined,
  };
}

// ---- SciCat (the contract server's store)

export function scicatDatasets(server: ScicatContractServer, name: string): Doc[] {
  return [...server.datasets.values()].filter((d) => d.datasetName === name);
}

export function scicatProposalOf(d: Doc): string | null {
  if (typeof d.proposalId === 'string') return d.proposalId;
  const ids = d.proposalIds as string[] | undefined;
  return ids?.[0] ?? null;
}

export interface ScicatFile {
  path: string;
  size: number;
  chk: string | undefined;
}

export function scicatBlocks(server: ScicatContractServer, pid: string): Doc[] {
  return server.origDatablocks.filter((b) => b.datasetId === pid);
}

export function scicatFiles(server: ScicatContractServer, pid: string): ScicatFile[] {
  return scicatBlocks(server, pid).flatMap((b) =>
    (b.dataFileList as { path: string; size: number; chk?: string }[]).map((f) => ({ path: f.path, size: f.size, chk: f.chk })),
  );
}

// ---- ICAT (the contract server's entities)

const refId = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'object' && v !== null ? (v as { id?: number }).id : undefined;

export interface IcatDatasetView {
  id: number;
  name: string;
  complete: unknown;
  location: unknown;
  investigation: { name: unknown; visitId: unknown };
  files: { name: string; fileSize: unknown; checksum: unknown; location: unknown }[];
}

export function icatDatasets(server: IcatContractServer, name: string): IcatDatasetView[] {
  return server
    .entities('Dataset')
    .filter((d) => d.name === name)
    .map((d) => {
      const inv = server.store.get('Investigation', refId(d.investigation) ?? -1);
      return {
        id: d.id,
        name: String(d.name),
        complete: d.complete,
        location: d.location,
        investigation: { name: inv?.name, visitId: inv?.visitId },
        files: server
          .entities('Datafile')
          .filter((f) => refId(f.dataset) === d.id)
          .map((f) => ({ name: String(f.name), fileSize: f.fileSize, checksum: f.checksum, location: f.location })),
      };
    });
}

// ---- ICAT+ (the messages on the queue)

export interface IcatPlusMessage {
  complete: string | null;
  investigation: string | null;
  instrument: string | null;
  name: string | null;
  location: string | null;
  sample: string | null;
  parameters: Record<string, string>;
  xml: string;
}

const unescape = (s: string) =>
  s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&amp;', '&');

export function parseIcatPlusMessage(xml: string): IcatPlusMessage {
  const tag = (name: string, within = xml) => {
    const m = new RegExp(`<tns:${name}>([^<]*)</tns:${name}>`).exec(within);
    return m ? unescape(m[1]!) : null;
  };
  const parameters: Record<string, string> = {};
  for (const m of xml.matchAll(/<tns:parameter>([\s\S]*?)<\/tns:parameter>/g)) {
    const n = tag('name', m[1]);
    if (n !== null) parameters[n] = tag('value', m[1]) ?? '';
  }
  const sample = /<tns:sample>([\s\S]*?)<\/tns:sample>/.exec(xml)?.[1];
  const withoutNested = xml.replace(/<tns:(sample|parameter)>[\s\S]*?<\/tns:\1>/g, '');
  return {
    complete: /<tns:dataset\b[^>]*\bcomplete="([^"]*)"/.exec(xml)?.[1] ?? null,
    investigation: tag('investigation', withoutNested),
    instrument: tag('instrument', withoutNested),
    name: tag('name', withoutNested),
    location: tag('location', withoutNested),
    sample: sample === undefined ? null : tag('name', sample),
    parameters,
    xml,
  };
}

/**
 * Consumes the queue as the ingester would: waits for `count` messages, then listens `idleMs`
 * more so that a duplicate would be seen too. Consumed messages are gone from the queue.
 */
export async function takeIcatPlusMessages(
  queue: string,
  count: number,
  idleMs = 1_500,
  timeoutMs = 5_000,
): Promise<IcatPlusMessage[]> {
  const got = await readQueue(inject('broker'), queue, { count, timeoutMs, idleMs });
  return got.map((m) => parseIcatPlusMessage(m.body));
}

// ---- the local catalogue and the journal of a BEAMDROP_HOME (read-only SQL)

function query<T>(file: string, sql: string, ...params: unknown[]): T[] {
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export interface LocalDataset {
  row: Record<string, unknown> & { id: number; name: string; proposal: string | null; processing_status: string };
  metadata: Record<string, unknown>;
  samples: string[];
  instruments: string[];
  files: { relpath: string; size: number; sha256: string; storage_uri: string; remote_key: string }[];
}

/** Every local dataset of this name (one per proposal and visit once identity is (catalogue, proposal, visit, name)). */
export function localDatasets(home: string, name: string): LocalDataset[] {
  const file = join(home, 'catalogue.sqlite');
  return query<LocalDataset['row'] & { metadata: string }>(file, 'SELECT * FROM datasets WHERE name = ? ORDER BY id', name).map(
    (row) => ({
      row,
      metadata: JSON.parse(row.metadata) as Record<string, unknown>,
      samples: query<{ name: string }>(
        file,
        'SELECT s.name FROM experiment_samples es JOIN samples s ON s.id = es.sample_id WHERE es.experiment_id = ? ORDER BY s.name',
        row.id,
      ).map((r) => r.name),
      instruments: query<{ code: string }>(
        file,
        'SELECT i.code FROM experiment_instruments ei JOIN instruments i ON i.id = ei.instrument_id WHERE ei.experiment_id = ?',
        row.id,
      ).map((r) => r.code),
      files: query<LocalDataset['files'][number]>(
        file,
        'SELECT relpath, size, sha256, storage_uri, remote_key FROM data_files WHERE dataset_id = ? ORDER BY relpath',
        row.id,
      ),
    }),
  );
}

export interface JobRow {
  id: number;
  kind: string;
  state: string;
  dataset: string;
  proposal: string | null;
  visit?: string | null;
  catalogue?: string;
  metadata: string;
  options: string;
  reason: string | null;
}

export function journalJobs(home: string): JobRow[] {
  return query<JobRow>(join(home, 'journal.sqlite'), 'SELECT * FROM jobs ORDER BY id');
}

export function journalFiles(
  home: string,
  jobId: number,
): { relpath: string; state: string; sha256: string | null; size: number }[] {
  return query(
    join(home, 'journal.sqlite'),
    'SELECT relpath, state, sha256, size FROM files WHERE job_id = ? ORDER BY relpath',
    jobId,
  );
}

/** Files of any job that were uploaded (completed) more than once. */
export function uploadedTwice(home: string): { file_id: number; n: number }[] {
  return query(
    join(home, 'journal.sqlite'),
    `SELECT file_id, COUNT(*) AS n FROM events WHERE type = 'upload-result' GROUP BY file_id HAVING n > 1`,
  );
}

export function journalRegistrations(
  home: string,
  dataset: string,
): {
  id: number;
  state: string;
  idem_key: string;
  remote_id: string | null;
  proposal: string | null;
  finished_at: number | null;
}[] {
  return query(join(home, 'journal.sqlite'), 'SELECT * FROM registrations WHERE dataset = ? ORDER BY id', dataset);
}
