// The ICAT+ message buffer: while the broker is unreachable each dataset message waits here as
// an XML file (as BLISS keeps them in __icat__), one per dataset key, and is sent unchanged later.
// A small marker in sent/ remembers each key the broker confirmed, so a repeated finishDataset
// (after a crash) neither sends nor buffers the same dataset twice. Files are written to a
// temporary name, synced and renamed, so a crash never leaves half a message to be resent.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IcatPlusCatalogueConfig } from '../../../../shared/profile-catalogue-schema.js';
import type { AdapterDeps } from '../catalogue-adapter.js';

export interface BufferedMessage {
  /** File name inside the buffer folder: "<dataset>__<key>.xml". */
  file: string;
  path: string;
  key: string;
  dataset: string;
  bytes: number;
  mtimeMs: number;
}

/** "<dataset>__<key>.xml" as we write them; any other *.xml someone put here is sent too. */
const OURS = /^(.+)__([A-Za-z0-9-]+)\.xml$/;

export function bufferFolder(config: Pick<IcatPlusCatalogueConfig, 'bufferFolder'>, deps: Pick<AdapterDeps, 'dataDir'>): string {
  return config.bufferFolder ?? join(deps.dataDir, 'icat-plus-buffer');
}

/** A name that is safe on every filesystem and still tells a person which dataset it is. */
function safe(name: string): string {
  return (
    name
      .normalize('NFC')
      .replace(/[^\p{L}\p{N}._-]+/gu, '_')
      .slice(0, 80) || 'dataset'
  );
}

function writeDurably(path: string, data: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class MessageBuffer {
  constructor(readonly folder: string) {}

  private get sentFolder(): string {
    return join(this.folder, 'sent');
  }

  async list(): Promise<BufferedMessage[]> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: BufferedMessage[] = [];
    for (const file of names.sort()) {
      if (!file.endsWith('.xml') || file.startsWith('.')) continue;
      const m = OURS.exec(file);
      const path = join(this.folder, file);
      const st = await stat(path);
      if (!st.isFile()) continue;
      const bare = file.slice(0, -'.xml'.length);
      out.push({ file, path, key: m?.[2] ?? bare, dataset: m?.[1] ?? bare, bytes: st.size, mtimeMs: st.mtimeMs });
    }
    return out.sort((a, b) => a.mtimeMs - b.mtimeMs || a.file.localeCompare(b.file));
  }

  async find(key: string): Promise<BufferedMessage | undefined> {
    return (await this.list()).find((m) => m.key === key);
  }

  /** Keeps a message for later; a second call for the same key keeps the first one. */
  async put(key: string, dataset: string, xml: string): Promise<BufferedMessage> {
    const existing = await this.find(key);
    if (existing !== undefined) return existing;
    await mkdir(this.folder, { recursive: true });
    const file = `${safe(dataset)}__${key}.xml`;
    const path = join(this.folder, file);
    const tmp = join(this.folder, `.${file}.${process.pid}.tmp`);
    writeDurably(tmp, xml);
    await rename(tmp, path);
    const st = await stat(path);
    return { file, path, key, dataset: safe(dataset), bytes: st.size, mtimeMs: st.mtimeMs };
  }

  read(m: BufferedMessage): Promise<string> {
    return readFile(m.path, 'utf8');
  }

  async wasSent(key: string): Promise<boolean> {
    try {
      await stat(join(this.sentFolder, key));
      return true;
    } catch {
      return false;
    }
  }

  /** The broker confirmed the message: remember the key, then drop the buffered file if any. */
  async markSent(key: string, m?: BufferedMessage): Promise<void> {
    await mkdir(this.sentFolder, { recursive: true });
    writeDurably(join(this.sentFolder, key), `${new Date().toISOString()}\n`);
    if (m !== undefined) await rm(m.path, { force: true });
  }
}

/** What waits in the buffer, for `beamdrop status` and the app. */
export function bufferedIcatPlusMessages(
  config: Pick<IcatPlusCatalogueConfig, 'bufferFolder'>,
  deps: Pick<AdapterDeps, 'dataDir'>,
): Promise<BufferedMessage[]> {
  return new MessageBuffer(bufferFolder(config, deps)).list();
}
