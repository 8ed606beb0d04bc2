// The batch scanner on real temporary trees (no mocks): order, filters, dot files, symlinks,
// loops, special files, unreadable folders, single-file and missing sources.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScanNote } from '../../src/shared/model.js';
import { BeamdropError } from '../../src/shared/errors.js';
import { scan, type ScanOptions, type ScannedFile } from '../../src/main/engine/scan/scanner.js';

const none: ScanOptions = { include: [], exclude: [] };
let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'bd-scan-'));
  // Readable by everyone: the unreadable-folder test runs a child process as "nobody".
  await chmod(base, 0o755);
});
afterAll(() => rm(base, { recursive: true, force: true }));

let n = 0;
/** A fresh tree from { 'a/b.txt': 'content' }; names ending in "/" are empty folders. */
async function tree(files: Record<string, string>): Promise<string> {
  const root = join(base, `t${n++}`);
  await mkdir(root, { mode: 0o755 });
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(root, rel);
    if (rel.endsWith('/')) {
      await mkdir(abs, { recursive: true });
    } else {
      await mkdir(join(abs, '..'), { recursive: true });
      await writeFile(abs, content);
    }
  }
  return root;
}

async function collect(sources: string[], options: ScanOptions = none): Promise<{ files: ScannedFile[]; notes: ScanNote[] }> {
  const files: ScannedFile[] = [];
  const notes: ScanNote[] = [];
  for await (const item of scan(sources, options)) {
    if ('file' in item) files.push(item.file);
    else notes.push(item.note);
  }
  return { files, notes };
}

const rels = (files: ScannedFile[]) => files.map((f) => f.relpath);

describe('scan', () => {
  it('walks nested folders depth-first in name order, with sizes and roots', async () => {
    const root = await tree({
      'b/z.dat': '1',
      'b/a.dat': '22',
      'a.txt': '333',
      'B.txt': '',
      'c/d/e/deep.h5': '4444',
      'empty/': '',
      'é ü #%+ 😀.h5': 'x',
    });
    const { files, notes } = await collect([root]);
    expect(notes).toEqual([]);
    expect(rels(files)).toEqual(['B.txt', 'a.txt', 'b/a.dat', 'b/z.dat', 'c/d/e/deep.h5', 'é ü #%+ 😀.h5']);
    const deep = files.find((f) => f.relpath === 'c/d/e/deep.h5');
    expect(deep).toMatchObject({ path: join(root, 'c/d/e/deep.h5'), size: 4, root });
    expect(deep?.mtimeMs).toBeGreaterThan(0);
    // Repeatable: a second run lists the same files in the same order.
    expect(rels((await collect([root])).files)).toEqual(rels(files));
  });

  it('applies include and exclude globs to the relpath, case-sensitively', async () => {
    const root = await tree({
      'raw/a.h5': '',
      'raw/b.H5': '',
      'raw/c.txt': '',
      'tmp/x.h5': '',
      'proc/tmp/y.h5': '',
      'top.h5': '',
    });
    expect(rels((await collect([root], { include: ['**/*.h5'], exclude: [] })).files)).toEqual([
      'proc/tmp/y.h5',
      'raw/a.h5',
      'tmp/x.h5',
      'top.h5',
    ]);
    expect(rels((await collect([root], { include: ['**/*.h5'], exclude: ['tmp/**'] })).files)).toEqual([
      'proc/tmp/y.h5',
      'raw/a.h5',
      'top.h5',
    ]);
    // A bare name matches at any depth; a pattern with "/" (or a leading "/") is anchored to the root.
    expect(rels((await collect([root], { include: ['*.h5'], exclude: [] })).files)).toEqual([
      'proc/tmp/y.h5',
      'raw/a.h5',
      'tmp/x.h5',
      'top.h5',
    ]);
    expect(rels((await collect([root], { include: ['/*.h5'], exclude: [] })).files)).toEqual(['top.h5']);
    expect(rels((await collect([root], { include: ['raw/*.H5'], exclude: [] })).files)).toEqual(['raw/b.H5']);
    expect(rels((await collect([root], { include: [], exclude: ['**/*.txt', '**/*.h5'] })).files)).toEqual(['raw/b.H5']);
  });

  it('treats an excluded folder as excluding everything inside it', async () => {
    const root = await tree({ 'keep/a': '', 'work/tmp/a': '', 'tmp/b': '', 'tmp.txt': '' });
    expect(rels((await collect([root], { include: [], exclude: ['**/tmp'] })).files)).toEqual(['keep/a', 'tmp.txt']);
    expect(rels((await collect([root], { include: [], exclude: ['tmp'] })).files)).toEqual(['keep/a', 'tmp.txt']);
    expect(rels((await collect([root], { include: [], exclude: ['/tmp'] })).files)).toEqual(['keep/a', 'tmp.txt', 'work/tmp/a']);
  });

  it('sees dot files and lets ".*" exclude them and hidden folders, unless an include names them', async () => {
    const root = await tree({ '.hidden': '', 'a/.DS_Store': '', '.cache/blob': '', 'a/data.h5': '' });
    expect(rels((await collect([root])).files)).toEqual(['.cache/blob', '.hidden', 'a/.DS_Store', 'a/data.h5']);
    expect(rels((await collect([root], { include: [], exclude: ['.*'] })).files)).toEqual(['a/data.h5']);
    expect(rels((await collect([root], { include: [], exclude: ['**/.*'] })).files)).toEqual(['a/data.h5']);
    expect(rels((await collect([root], { include: ['**/.*'], exclude: [] })).files)).toEqual(['.hidden', 'a/.DS_Store']);
    expect(rels((await collect([root], { include: ['*', '.hidden'], exclude: ['.*'] })).files)).toEqual(['.hidden', 'a/data.h5']);
  });

  it('reports symlinks to files and folders without following them', async () => {
    const root = await tree({ 'real/f.h5': 'data', 'other/g.h5': 'x' });
    await symlink(join(root, 'real/f.h5'), join(root, 'link-file'));
    await symlink(join(root, 'other'), join(root, 'link-dir'));
    await symlink(join(root, 'nowhere'), join(root, 'link-broken'));
    const { files, notes } = await collect([root]);
    expect(rels(files)).toEqual(['other/g.h5', 'real/f.h5']);
    expect(notes).toEqual(
      ['link-broken', 'link-dir', 'link-file'].map((l) => ({
        path: join(root, l),
        kind: 'symlink',
        detail: 'not followed (symlinks are skipped by default)',
      })),
    );
    // An excluded symlink is not worth a note.
    expect((await collect([root], { include: [], exclude: ['link-*'] })).notes).toEqual([]);
  });

  it('follows symlinks when asked, under the link name', async () => {
    const target = await tree({ 'sub/t.h5': 'abc' });
    const root = await tree({ 'f.h5': '12' });
    await symlink(join(root, 'f.h5'), join(root, 'alias.h5'));
    await symlink(target, join(root, 'ext'));
    await symlink(join(root, 'nowhere'), join(root, 'broken'));
    const { files, notes } = await collect([root], { ...none, followSymlinks: true });
    expect(files.map((f) => [f.relpath, f.path, f.size])).toEqual([
      ['alias.h5', join(root, 'alias.h5'), 2],
      ['ext/sub/t.h5', join(root, 'ext/sub/t.h5'), 3],
      ['f.h5', join(root, 'f.h5'), 2],
    ]);
    expect(notes).toEqual([{ path: join(root, 'broken'), kind: 'symlink', detail: expect.stringContaining('does not exist') }]);
  });

  it('stops at a symlink loop when following symlinks, and reports it', async () => {
    const root = await tree({ 'a/f': '', 'a/b/g': '' });
    await symlink('..', join(root, 'a/b/up')); // a/b/up → a: a cycle
    await symlink(root, join(root, 'a/root')); // back to the source root
    await symlink('self', join(root, 'self')); // a link to itself
    const { files, notes } = await collect([root], { ...none, followSymlinks: true });
    expect(rels(files)).toEqual(['a/b/g', 'a/f']);
    expect(notes.map((x) => [x.kind, x.path])).toEqual([
      ['loop', join(root, 'a/b/up')],
      ['loop', join(root, 'a/root')],
      ['loop', join(root, 'self')],
    ]);
    expect(notes[0]?.detail).toContain(`leads back to ${join(root, 'a')}`);
  }, 10_000);

  it('reports a FIFO as a special file and never opens it', async () => {
    const root = await tree({ 'a.h5': '' });
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const { files, notes } = await collect([root]);
    expect(rels(files)).toEqual(['a.h5']);
    expect(notes).toEqual([
      {
        path: join(root, 'pipe'),
        kind: 'excluded-special',
        detail: 'not a regular file but a FIFO (named pipe); only regular files are uploaded',
      },
    ]);
    // A FIFO given directly as a source is reported the same way.
    expect((await collect([join(root, 'pipe')])).notes.map((x) => x.kind)).toEqual(['excluded-special']);
  });

  it('takes a single-file source under its basename', async () => {
    const root = await tree({ 'run 1/image #1.tif': 'abcd', 'other.txt': '' });
    const { files } = await collect([join(root, 'run 1/image #1.tif'), join(root, 'other.txt')]);
    expect(files).toEqual([
      expect.objectContaining({
        path: join(root, 'run 1/image #1.tif'),
        relpath: 'image #1.tif',
        size: 4,
        root: join(root, 'run 1'),
      }),
      expect.objectContaining({ relpath: 'other.txt', root }),
    ]);
    expect((await collect([join(root, 'other.txt')], { include: [], exclude: ['*.txt'] })).files).toEqual([]);
  });

  it('scans several sources in order and a repeated source once', async () => {
    const a = await tree({ x: '' });
    const b = await tree({ y: '' });
    const { files } = await collect([b, a, `${b}/`]);
    expect(files.map((f) => [f.root, f.relpath])).toEqual([
      [b, 'y'],
      [a, 'x'],
    ]);
  });

  it('fails at once, before yielding anything, when a source does not exist', async () => {
    const root = await tree({ a: '' });
    const missing = join(root, 'no-such-run');
    const seen: unknown[] = [];
    let error: unknown;
    try {
      for await (const item of scan([root, missing], none)) seen.push(item);
    } catch (e) {
      error = e;
    }
    expect(seen).toEqual([]);
    expect(error).toBeInstanceOf(BeamdropError);
    expect(error).toMatchObject({
      code: 'not-found',
      file: missing,
      retryable: false,
      message: `${missing}: no such file or folder; check the path`,
    });
  });

  it('stops when the signal is aborted', async () => {
    const root = await tree({ a: '', b: '', c: '' });
    const controller = new AbortController();
    const seen: string[] = [];
    await expect(async () => {
      for await (const item of scan([root], { ...none, signal: controller.signal })) {
        if ('file' in item) seen.push(item.file.relpath);
        controller.abort();
      }
    }).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen).toEqual(['a']);
  });

  it('streams a large tree in name order', async () => {
    // 2,000 files by default because creating files is the slow part on a busy CI disk (100,000
    // took a minute of kernel time there); BEAMDROP_SCAN_FILES=100000 runs the full-size check.
    const total = Number(process.env.BEAMDROP_SCAN_FILES ?? 2000);
    const perFolder = 1000;
    const root = await tree({});
    execFileSync(
      'sh',
      [
        '-c',
        'for d in $(seq -w 1 "$1"); do mkdir "$d" && (cd "$d" && seq -w 1 "$2" | sed "s/$/.tif/" | xargs touch); done',
        'sh',
        String(Math.ceil(total / perFolder)).padStart(4, '0'),
        String(perFolder).padStart(4, '0'),
      ],
      { cwd: root },
    );
    let count = 0;
    let previous = '';
    let ordered = true;
    for await (const item of scan([root], { include: ['**/*.tif'], exclude: [] })) {
      if (!('file' in item)) throw new Error(`unexpected note ${JSON.stringify(item.note)}`);
      count++;
      ordered &&= item.file.relpath > previous; // zero-padded names: name order is string order
      previous = item.file.relpath;
    }
    expect(count).toBe(Math.ceil(total / perFolder) * perFolder);
    expect(ordered).toBe(true);
  }, 600_000);

  it('rejects an invalid glob as a usage error naming the option', async () => {
    const root = await tree({ a: '' });
    await expect(collect([root], { include: [], exclude: [''.padEnd(70_000, '*')] })).rejects.toMatchObject({
      code: 'usage',
      field: 'exclude',
    });
  });
});

describe('scan of an unreadable folder', () => {
  // chmod 000 does not stop root (CAP_DAC_OVERRIDE), and these tests run as root in CI. So as
  // root the same scan runs in a child Node process that setpriv switches to the unprivileged
  // "nobody" user: the kernel then really refuses opendir with EACCES, the same failure an
  // operator's account meets. Node strips the TypeScript types itself; a small resolve hook maps
  // the ".js" import specifiers of the sources to their ".ts" files.
  const isRoot = process.getuid?.() === 0;
  const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;

  it('reports it with the reason and what to do, and goes on', async () => {
    if (isRoot && !hasSetpriv)
      throw new Error('running as root, this test needs setpriv (Debian util-linux) to scan as "nobody"');
    const root = await tree({ 'a/f.h5': '', 'locked/secret.h5': '', 'z.h5': '' });
    await chmod(join(root, 'locked'), 0o000);
    try {
      const { files, notes } = isRoot ? scanAsNobody(root) : await collect([root]);
      expect(rels(files)).toEqual(['a/f.h5', 'z.h5']);
      expect(notes).toEqual([
        {
          path: join(root, 'locked'),
          kind: 'unreadable',
          detail: 'permission denied (EACCES); give the account running Beamdrop read access to it, or exclude it',
        },
      ]);
    } finally {
      await chmod(join(root, 'locked'), 0o755);
    }
  });
});

const HOOK = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
registerHooks({ resolve(spec, ctx, next) {
  if (/^\\.\\.?\\//.test(spec) && spec.endsWith('.js') && ctx.parentURL?.endsWith('.ts')) {
    const ts = new URL(spec.slice(0, -3) + '.ts', ctx.parentURL);
    if (existsSync(fileURLToPath(ts))) return next(ts.href, ctx);
  }
  return next(spec, ctx);
} });`)}`;

function scanAsNobody(root: string): { files: ScannedFile[]; notes: ScanNote[] } {
  const scanner = fileURLToPath(new URL('../../src/main/engine/scan/scanner.ts', import.meta.url));
  const script = `
    const { scan } = await import(${JSON.stringify(scanner)});
    const out = { files: [], notes: [] };
    for await (const item of scan([${JSON.stringify(root)}], { include: [], exclude: [] })) {
      if ('file' in item) out.files.push(item.file); else out.notes.push(item.note);
    }
    process.stdout.write(JSON.stringify(out));`;
  const child = spawnSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', HOOK, '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(`scan as nobody failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout) as { files: ScannedFile[]; notes: ScanNote[] };
}
