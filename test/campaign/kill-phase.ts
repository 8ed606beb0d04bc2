// Which phase a SIGKILL hit, decided after the fact from three records the killed process cannot
// change any more: what it printed (--json events), its journal (read after its death, so as it
// was at the moment of the kill) and the requests that the taps saw in flight at that moment.
// Several things run at once (four files, two parts each), so a kill hits a set of phases; its
// primary phase is the one latest in the pipeline (the rarest window), and both are counted.
// "hash" is primary only when no request is in flight: a file is being read and hashed (a whole
// small file before its single PUT, a part before its UploadPart) or waits for the hash worker.
import type { CliEvent } from './beamdrop-process.js';
import type { DestinationKind } from './campaign-world.js';
import type { DatasetJournal } from './journal-view.js';
import type { TapRecord } from './request-tap.js';

/** In pipeline order; the primary phase of a kill is the last of its set in this order. */
export const PHASES = [
  'start-up',
  'waiting',
  'scan',
  'hash',
  'upload',
  'part upload',
  'complete',
  'verify',
  'registration',
  'finalisation',
  'exit',
] as const;
export type Phase = (typeof PHASES)[number];

/** Phases a full campaign must hit (the list); the others are reported too. */
export const REQUIRED_PHASES: readonly Phase[] = [
  'scan',
  'hash',
  'part upload',
  'complete',
  'verify',
  'registration',
  'finalisation',
];

export interface KillContext {
  destination: DestinationKind;
  kind: 'batch' | 'sync';
  dataset: string;
  killAt: number;
  /** What the killed process printed before it died. */
  events: CliEvent[];
  /** Its journal after the kill. */
  journal: DatasetJournal;
  storage: TapRecord[];
  catalogue: TapRecord[];
}

export interface KillVerdict {
  primary: Phase;
  phases: Phase[];
  /** The requests in flight, for the defect notes. */
  inFlight: string[];
}

const CRATE = '-ro-crate-metadata.json';

function storagePhase(destination: DestinationKind, line: string): Phase {
  const [method = '', target = ''] = line.split(' ');
  const [path = '', query = ''] = target.split('?');
  const q = new URLSearchParams(query);
  if (path.includes(CRATE)) return 'finalisation';
  if (destination === 's3') {
    if (method === 'GET' && q.has('list-type')) return 'scan';
    if (q.has('uploads') || q.has('partNumber') || method === 'DELETE' || q.get('x-id') === 'ListParts') return 'part upload';
    if (method === 'POST' && q.has('uploadId')) return 'complete';
    if (method === 'PUT' && q.has('tagging')) return 'complete';
    if (method === 'PUT') return 'upload';
    return 'verify'; // HEAD, GetObjectAttributes, GetObject
  }
  if (method === 'PUT' || method === 'MKCOL' || method === 'DELETE') return 'upload';
  if (method === 'MOVE') return 'complete';
  if (method === 'PROPFIND' && path.endsWith('/')) return 'scan';
  return 'verify'; // PROPFIND of a file, GET
}

const basename = (relpath: string) => relpath.split('/').at(-1) ?? relpath;
const named = (line: string, name: string) => line.includes(encodeURIComponent(name)) || line.includes(name);

export function classifyKill(k: KillContext): KillVerdict {
  const phases = new Set<Phase>();
  const mine = k.storage.filter((r) => named(r.line, k.dataset));
  const inFlight = [...mine, ...k.catalogue].map((r) => r.line.slice(0, 160));
  const job = k.journal.job;
  const started = k.events.some((e) => e.type === 'job-started');
  const scanned = k.events.some((e) => e.type === 'scan-done');
  const registration = k.journal.registrations.at(-1);
  const registered = registration !== undefined && registration.state === 'registered' && registration.finished_at !== null;
  if (!started || !job) phases.add('start-up');
  else if (job.state === 'finishing') phases.add('finalisation');
  else if (job.state === 'done') phases.add(registered ? 'exit' : 'registration');
  else {
    if (!scanned) phases.add('scan');
    for (const r of mine) phases.add(storagePhase(k.destination, r.line));
    if (k.catalogue.length || k.journal.sendingBlocks > 0) phases.add('registration');
    if (k.journal.files.some((f) => f.state === 'uploaded')) phases.add('verify');
    // A file being sent with no request of it in flight is being read and hashed (a single PUT
    // hashes the whole file before its header goes out; parts are hashed between requests).
    const reading = k.journal.files.filter(
      (f) => f.state === 'transferring' && !mine.some((r) => named(r.line, basename(f.relpath))),
    );
    if (reading.length) phases.add('hash');
    if (phases.size === 0) phases.add(k.kind === 'sync' ? 'waiting' : scanned ? 'hash' : 'scan');
  }
  const sorted = PHASES.filter((p) => phases.has(p));
  return { primary: sorted.at(-1)!, phases: sorted, inFlight };
}
