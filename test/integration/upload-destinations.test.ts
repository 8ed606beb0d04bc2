// The batch engine end to end on every destination kind, against the real servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchFiles } from '../../src/main/engine/operations/fetch-files.js';
import { verifyDataset } from '../../src/main/engine/operations/verify-dataset.js';
import { collect, harness, KINDS, makeTree, randomBytesOf, type Harness } from '../support/engine-harness.js';

const ODD_NAMES = [
  'plain.txt',
  'with space.dat',
  'hash#1.h5',
  'percent%20.txt',
  'plus+sign.cbf',
  'what?.log',
  'and&more.tif',
  'café/naïve ü.txt',
  '日本/データ.bin',
  'emoji 🔬.json',
  'sub/deeper/e\u0301.txt',
];

describe.each(KINDS)('batch upload to %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h.engine.close();
  });

  const content = (name: string) => Buffer.concat([Buffer.from(`${kind}:${name}\n`), randomBytesOf(name.length * 1000)]);

  it('stores every file under its exact name, reading each byte once, and verifies it', async () => {
    const files: Record<string, Buffer> = Object.fromEntries(ODD_NAMES.map((n) => [n, content(n)]));
    files['big/multipart.raw'] = randomBytesOf(12 * 1024 * 1024 + 17, 7);
    files['empty.dat'] = Buffer.alloc(0);
    const src = makeTree(files);
    let bytesRead = 0;
    const summary = await h.engine.upload(h.profile, {
      sources: [src],
      dataset: 'odd-names',
      proposal: 'MX-1234',
      destination: kind,
      onEvent: (e) => h.events.push(e),
      onRead: (n) => (bytesRead += n),
    });
    const total = Object.values(files).reduce((a, b) => a + b.length, 0);
    expect(summary.failures).toEqual([]);
    expect(summary.counts).toEqual({ verified: Object.keys(files).length });
    expect(summary.job.state).toBe('done');
    expect(bytesRead).toBe(total);

    const dest = await h.engine.openDestination(
      { name: kind, config: h.profile.destinations[kind]!, adhoc: false },
      h.profile.upload,
    );
    try {
      const listed = (await collect(dest.list('MX-1234/odd-names/'))).map((o) => o.key).sort();
      const expected = Object.keys(files)
        .map((n) => `MX-1234/odd-names/${n.normalize('NFC')}`)
        .sort();
      expect(listed).toEqual(expected);
    } finally {
      await dest.close();
    }

    const catalogued = h.engine.services.catalogue.files('odd-names');
    expect(catalogued).toHaveLength(Object.keys(files).length);
    for (const f of catalogued) {
      const local = files[f.relpath] ?? files[Object.keys(files).find((k) => k.normalize('NFC') === f.relpath)!]!;
      expect(f.sha256).toBe(createHash('sha256').update(local).digest('hex'));
      expect(f.size).toBe(local.length);
    }

    const verdicts = await verifyDataset(h.engine.operationDeps(), 'odd-names', { deep: true });
    expect(verdicts.filter((v) => !v.result.ok)).toEqual([]);
    expect(verdicts.every((v) => v.result.checked.some((c) => c.includes('read back')))).toBe(true);

    const out = mkdtempSync(join(tmpdir(), 'bd-fetch-'));
    await fetchFiles(h.engine.operationDeps(), 'odd-names', out);
    for (const [name, data] of Object.entries(files))
      expect(readFileSync(join(out, ...name.normalize('NFC').split('/'))).equals(data)).toBe(true);
  });

  it('skips files already there with the same SHA-256, and never overwrites different content', async () => {
    const src = makeTree({ 'a.txt': 'first version', 'b.txt': 'unchanged' });
    const first = await h.engine.upload(h.profile, { sources: [src], dataset: 'reup', destination: kind });
    expect(first.counts).toEqual({ verified: 2 });

    const again = await h.engine.upload(h.profile, { sources: [src], dataset: 'reup', destination: kind });
    expect(again.counts).toEqual({ skipped: 2 });
    expect(again.bytesSent).toBe(0);

    writeFileSync(join(src, 'a.txt'), 'second version, longer');
    const third = await h.engine.upload(h.profile, { sources: [src], dataset: 'reup', destination: kind });
    expect(third.counts).toEqual({ failed: 1, skipped: 1 });
    expect(third.failures[0]).toMatchObject({
      relpath: 'a.txt',
      error: { code: 'conflict', message: expect.stringMatching(/already exists .* left untouched/) },
    });

    const dest = await h.engine.openDestination(
      { name: kind, config: h.profile.destinations[kind]!, adhoc: false },
      h.profile.upload,
    );
    try {
      const chunks: Buffer[] = [];
      for await (const c of await dest.read('reup/a.txt')) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('first version');
    } finally {
      await dest.close();
    }
  });

  it('reports a dry run without sending anything', async () => {
    const src = makeTree({ 'x.txt': 'x', 'y.txt': 'y' });
    const summary = await h.engine.upload(h.profile, { sources: [src], dataset: 'dry', destination: kind, dryRun: true });
    expect(summary.bytesSent).toBe(0);
    expect(summary.counts).toEqual({ discovered: 2 });
    const dest = await h.engine.openDestination(
      { name: kind, config: h.profile.destinations[kind]!, adhoc: false },
      h.profile.upload,
    );
    try {
      expect(await collect(dest.list('dry/'))).toEqual([]);
    } finally {
      await dest.close();
    }
  });
});
