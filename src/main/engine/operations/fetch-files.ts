// `beamdrop fetch DATASET|FILE DEST`: streams stored files back, hashing while writing, and
// fails loudly on any SHA-256 mismatch. A file is written under a temporary name and only
// renamed once its SHA-256 matched; an existing local file is never replaced.
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BeamdropError } from '../../../shared/errors.js';
import type { CatalogueFile } from '../catalogue/local-catalogue.js';
import type { OperationDeps } from '../engine.js';
import { checkWindowsRelpath, findCaseCollisions } from '../keys/local-path.js';
import type { Destination } from '../storage/destination.js';
import { sha256OfStream } from '../hash/hash-readable.js';
import { localDataset, selectorOf, type DatasetQuery } from './dataset-lookup.js';
import { StoredDestinations, type StoredDestinationsDeps } from './stored-destinations.js';

export interface FetchOutcome {
  file: CatalogueFile;
  target: string;
  status: 'fetched' | 'present';
}

/** The local catalogue's records, the destinations they were stored on, and hashing of what is written. */
export type FetchDeps = Pick<OperationDeps, 'local' | 'hashes'> & StoredDestinationsDeps;

/**
 * DATASET, DATASET:relpath, or a storage URI recorded in the catalogue. --proposal/--visit/--catalogue
 * (in `which`) narrow the dataset name; a name several datasets share is refused with them listed.
 */
export function selectFiles(
  d: Pick<OperationDeps, 'local'>,
  what: string,
  which: Omit<DatasetQuery, 'name'> = {},
): CatalogueFile[] {
  const cat = d.local;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(what)) {
    const hit = cat.filesByUri(what);
    if (hit.length) return hit;
  }
  const whole = cat.matching(selectorOf({ ...which, name: what }));
  if (whole.length) return cat.files(localDataset(cat, { ...which, name: what }).id);
  const colon = what.indexOf(':');
  if (colon > 0 && !/^[a-z][a-z0-9+.-]*:\/\//i.test(what)) {
    const name = what.slice(0, colon);
    const relpath = what.slice(colon + 1);
    if (cat.matching(selectorOf({ ...which, name })).length) {
      const one = cat.files(localDataset(cat, { ...which, name }).id).filter((f) => f.relpath === relpath);
      if (one.length) return one;
      throw new BeamdropError({
        code: 'not-found',
        retryable: false,
        dataset: name,
        file: relpath,
        message: `dataset "${name}" has no recorded file "${relpath}"; \`beamdrop verify ${name}\` lists its files.`,
      });
    }
  }
  throw new BeamdropError({
    code: 'dataset-not-found',
    retryable: false,
    message: `"${what}" is neither a dataset${which.proposal || which.visit || which.catalogue ? ` of ${[which.proposal && `proposal ${which.proposal}`, which.visit && `visit ${which.visit}`, which.catalogue && `catalogue ${which.catalogue}`].filter(Boolean).join(', ')}` : ''}, DATASET:path, nor a recorded storage URI; \`beamdrop find\` lists datasets.`,
  });
}

export async function fetchFiles(
  d: FetchDeps,
  what: string,
  destDir: string,
  opts: {
    proposal?: string | undefined;
    visit?: string | undefined;
    catalogue?: string | undefined;
    platform?: NodeJS.Platform;
    onFile?: (o: FetchOutcome) => void;
  } = {},
): Promise<FetchOutcome[]> {
  const files = selectFiles(d, what, { proposal: opts.proposal, visit: opts.visit, catalogue: opts.catalogue });
  const platform = opts.platform ?? process.platform;
  if (platform === 'win32') {
    for (const f of files) {
      const problem = checkWindowsRelpath(f.relpath);
      if (problem)
        throw new BeamdropError({
          code: 'invalid-key',
          retryable: false,
          file: f.relpath,
          message: `${f.relpath} cannot be written on Windows: ${problem}. Fetch it on another system or rename it at the source.`,
        });
    }
    const clash = findCaseCollisions(files.map((f) => f.relpath))[0];
    if (clash)
      throw new BeamdropError({
        code: 'invalid-key',
        retryable: false,
        file: clash[0],
        message: `${clash.join(' and ')} differ only by upper/lower case and would overwrite each other on Windows; fetch them one at a time into different folders.`,
      });
  }
  await checkFetchFolder(destDir);
  const destinations = new StoredDestinations(d);
  const outcomes: FetchOutcome[] = [];
  try {
    for (const file of files) {
      const dest = await destinations.of(file);
      const target = join(destDir, ...file.relpath.split('/'));
      const o = await fetchOne(d, dest, file, target);
      outcomes.push(o);
      opts.onFile?.(o);
    }
  } finally {
    await destinations.close();
  }
  return outcomes;
}

/** DEST must be a folder or not exist yet (it is created); a file there is refused before anything is read. */
async function checkFetchFolder(destDir: string): Promise<void> {
  const st = await stat(destDir).catch((e: NodeJS.ErrnoException) => e);
  const refuse = (what: string) =>
    new BeamdropError({
      code: 'destination-invalid',
      retryable: false,
      field: 'dest',
      file: destDir,
      message: `${destDir} ${what}`,
    });
  if (st instanceof Error) {
    if (st.code === 'ENOENT') return;
    if (st.code === 'ENOTDIR') throw refuse('is inside a file, not a folder; give a folder to fetch into.');
    throw refuse(`cannot be used (${st.code ?? st.message}); give a folder you may write to.`);
  }
  if (!st.isDirectory()) throw refuse('is a file, not a folder; give a folder to fetch into (it is created if missing).');
}

async function fetchOne(
  d: Pick<OperationDeps, 'hashes'>,
  dest: Destination,
  file: CatalogueFile,
  target: string,
): Promise<FetchOutcome> {
  const existing = await stat(target).catch(() => null);
  if (existing) {
    if (existing.size === file.size && (await hashFile(d, target)) === file.sha256) return { file, target, status: 'present' };
    throw new BeamdropError({
      code: 'conflict',
      retryable: false,
      file: file.relpath,
      message: `${target} already exists with different content; it was left untouched. Fetch into an empty folder.`,
    });
  }
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.beamdrop-fetch`;
  const sha = d.hashes.sha256Stream();
  const fh = await open(temp, 'w');
  let size = 0;
  try {
    for await (const chunk of await dest.read(file.remoteKey)) {
      const buf = chunk as Buffer;
      size += buf.length;
      await sha.update(buf);
      let off = 0;
      while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
    }
    await fh.sync();
  } catch (e) {
    sha.drop();
    await fh.close();
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  const got = await sha.digest();
  if (got !== file.sha256 || size !== file.size) {
    await unlink(temp).catch(() => undefined);
    throw new BeamdropError({
      code: 'checksum-mismatch',
      retryable: false,
      file: file.relpath,
      message: `SHA-256 MISMATCH for ${file.relpath} from ${file.storageUri}: expected ${file.sha256} (${file.size} bytes), got ${got} (${size} bytes). The stored copy is damaged or was replaced; nothing was written to ${target}.`,
    });
  }
  await rename(temp, target);
  return { file, target, status: 'fetched' };
}

async function hashFile(d: Pick<OperationDeps, 'hashes'>, path: string): Promise<string> {
  return (await sha256OfStream(d.hashes, createReadStream(path, { highWaterMark: 1024 * 1024 }))).sha256;
}
