// One glob rule for both modes (issue 8, finding 8): a batch upload and a sync session of the same
// folder tree, with the same profile and the same flags, store exactly the same files. The tree
// has what the two modes used to disagree on: *.h5 at several depths, dot files and a dot folder,
// temporary, partial and lock files. What each stored is read back from the destination folder.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { JobEvent } from '../../src/shared/model.js';
import { syncSchema } from '../../src/shared/profile-sync-schema.js';
import { harness, makeTree, type Harness } from '../support/engine-harness.js';
import { waitUntil } from '../fault/helpers.js';

const TREE: Record<string, string> = {
  'top.h5': 'top',
  'scan1/a.h5': 'a',
  'scan1/deep/b.h5': 'b',
  'scan1/notes.txt': 'notes',
  '.hidden': 'dot file',
  'scan1/.DS_Store': 'dot file below',
  '.cache/c.h5': 'inside a dot folder',
  'x.tmp': 'temporary',
  'scan1/y.part': 'partial',
  'sub/~lock': 'lock',
  'sub/data.h5': 'data',
};

/** Relpaths stored under the dataset's folder of the filesystem destination, each checked against the source. */
function stored(h: Harness, dataset: string, src: string): string[] {
  const root = join(h.archive, dataset);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else {
        const rel = relative(root, p).split('\\').join('/');
        expect(readFileSync(p, 'utf8'), rel).toBe(readFileSync(join(src, rel), 'utf8'));
        out.push(rel);
      }
    }
  };
  walk(root);
  return out.sort();
}

describe('batch and sync take the same files', () => {
  let h: Harness;
  let src: string;
  beforeAll(async () => {
    h = await harness();
    src = makeTree(TREE);
  });
  afterAll(async () => {
    await h.engine.close();
    rmSync(src, { recursive: true, force: true });
  });

  const profile = () => ({
    ...h.profile,
    sync: syncSchema.parse({ quietPeriod: '300ms', reconcileInterval: '1s', stopGrace: '5s' }),
  });

  async function batch(dataset: string, flags: { include?: string[]; exclude?: string[] }): Promise<string[]> {
    const summary = await h.engine.upload(profile(), { sources: [src], dataset, destination: 'filesystem', ...flags });
    expect(summary.failures).toEqual([]);
    expect(summary.job.state).toBe('done');
    return stored(h, dataset, src);
  }

  async function sync(dataset: string, flags: { include?: string[]; exclude?: string[] }): Promise<string[]> {
    const events: JobEvent[] = [];
    const stop = new AbortController();
    const watching = h.engine.watch(profile(), {
      folders: [src],
      dataset,
      destination: 'filesystem',
      signal: stop.signal,
      onEvent: (e) => events.push(e),
      ...flags,
    });
    await waitUntil('the first scan', () => events.some((e) => e.type === 'scan-done'), 30_000);
    // Stopping takes everything written so far (one last scan) and sends what is complete.
    stop.abort();
    const result = await watching;
    expect(result.summary.failures).toEqual([]);
    expect(result.summary.job.state).toBe('done');
    return stored(h, dataset, src);
  }

  it.each([
    {
      what: 'no flags: the default excludes leave out dot files and folders, *.tmp, *.part and ~*',
      flags: {},
      files: ['scan1/a.h5', 'scan1/deep/b.h5', 'scan1/notes.txt', 'sub/data.h5', 'top.h5'],
    },
    {
      what: '--include "*.h5": a bare name at any depth, still not inside a dot folder',
      flags: { include: ['*.h5'] },
      files: ['scan1/a.h5', 'scan1/deep/b.h5', 'sub/data.h5', 'top.h5'],
    },
    {
      what: '--include "*" --include .hidden: a dot file uploaded on purpose',
      flags: { include: ['*', '.hidden'] },
      files: ['.hidden', 'scan1/a.h5', 'scan1/deep/b.h5', 'scan1/notes.txt', 'sub/data.h5', 'top.h5'],
    },
    {
      what: '--exclude scan1/deep --include "/*.h5": paths anchored at the root',
      flags: { include: ['/*.h5', 'scan1/**'], exclude: ['scan1/deep'] },
      files: ['scan1/a.h5', 'scan1/notes.txt', 'top.h5'],
    },
  ])(
    '$what',
    async ({ flags, files }) => {
      const name = `globs-${files.length}-${Object.keys(flags).length}`;
      const fromBatch = await batch(`${name}-batch`, flags);
      const fromSync = await sync(`${name}-sync`, flags);
      expect(fromBatch).toEqual(files);
      expect(fromSync).toEqual(fromBatch);
    },
    60_000,
  );
});
