// Sync mode's completeness decision and its pieces, without a writer: quiet period on the local
// clock, markers, the exclusive-open verdicts (EBUSY/EPERM/EACCES mean "not yet"), version names,
// rule layering and what a folder takes.
import { describe, expect, it } from 'vitest';
import { constants } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decideCompleteness,
  exclusiveOpenApplies,
  openVerdict,
  type CompletenessInput,
} from '../../src/main/engine/sync/completeness.js';
import { exclusiveOpenFlags, probeOpen } from '../../src/main/engine/sync/open-probe.js';
import { versionedRelpath } from '../../src/main/engine/sync/versions.js';
import {
  compileMarkers,
  createSyncFilter,
  markersFor,
  resolveSyncFolders,
  rulesAt,
} from '../../src/main/engine/sync/sync-rules.js';
import { DEFAULT_FOLDER_RULES, parseDuration } from '../../src/shared/profile-sync-schema.js';
import { profileSchema } from '../../src/shared/profile-schema.js';
import { checkProfileText } from '../../src/main/engine/profile/load-profile.js';
import { jobFilters } from '../../src/main/engine/scan/filters.js';

const base: CompletenessInput = {
  now: 10_000,
  quietPeriodMs: 2000,
  recorded: { size: 100, mtimeMs: 5000, seenAt: 7000 },
  current: { size: 100, mtimeMs: 5000 },
  markers: [],
  open: 'not-checked',
};

describe('completeness decision', () => {
  it('is complete once size and mtime were unchanged for the quiet period', () => {
    expect(decideCompleteness(base)).toEqual({ complete: true });
  });

  it('waits out the rest of the quiet period, counted on the local clock from the first sighting', () => {
    // The file's mtime is far in the past (copied with cp -p, or a share's clock behind): irrelevant.
    const v = decideCompleteness({
      ...base,
      now: 8000,
      recorded: { size: 100, mtimeMs: 1, seenAt: 7000 },
      current: { size: 100, mtimeMs: 1 },
    });
    expect(v).toMatchObject({ complete: false, why: 'quiet', recheckInMs: 1000 });
  });

  it('restarts when the size or only the mtime moved (a writer that preallocated the full size)', () => {
    expect(decideCompleteness({ ...base, current: { size: 200, mtimeMs: 5000 } })).toMatchObject({
      complete: false,
      why: 'changed',
      recheckInMs: 500,
    });
    expect(decideCompleteness({ ...base, current: { size: 100, mtimeMs: 5001 } })).toMatchObject({
      complete: false,
      why: 'changed',
    });
  });

  it('waits for every missing marker, then for a writer that still holds the file', () => {
    const markers = [
      { name: '/d/x.done', present: false },
      { name: '/d/set_master.h5', present: true },
    ];
    expect(decideCompleteness({ ...base, markers })).toMatchObject({
      complete: false,
      why: 'marker',
      detail: expect.stringContaining('x.done'),
    });
    const all = markers.map((m) => ({ ...m, present: true }));
    expect(decideCompleteness({ ...base, markers: all, open: 'busy' })).toMatchObject({ complete: false, why: 'held-open' });
    expect(decideCompleteness({ ...base, markers: all, open: 'free' })).toEqual({ complete: true });
    // A change wins over everything else: the quiet period starts again.
    expect(decideCompleteness({ ...base, markers, open: 'busy', current: { size: 1, mtimeMs: 1 } })).toMatchObject({
      why: 'changed',
    });
  });

  it('treats a sharing violation or a denied open as "not yet", never as a failure', () => {
    for (const code of ['EBUSY', 'EPERM', 'EACCES', 'ETXTBSY', 'EAGAIN']) expect(openVerdict(code)).toBe('busy');
    expect(openVerdict(null)).toBe('free');
    expect(openVerdict('ENOENT')).toBe('gone');
    expect(decideCompleteness({ ...base, open: openVerdict('EBUSY') })).toMatchObject({ complete: false, why: 'held-open' });
  });

  it('checks the exclusive open on Windows by default, and opens with no sharing there', async () => {
    expect(exclusiveOpenApplies('auto', 'win32')).toBe(true);
    expect(exclusiveOpenApplies('auto', 'linux')).toBe(false);
    expect(exclusiveOpenApplies('always', 'linux')).toBe(true);
    expect(exclusiveOpenApplies('never', 'win32')).toBe(false);
    expect(exclusiveOpenFlags('win32') & 0x10000000).toBe(0x10000000);
    expect(exclusiveOpenFlags('linux')).toBe(constants.O_RDONLY);
    const dir = mkdtempSync(join(tmpdir(), 'bd-probe-'));
    writeFileSync(join(dir, 'f'), 'x');
    expect(await probeOpen(join(dir, 'f'), 'linux')).toEqual({ probe: 'free', code: null });
    expect(await probeOpen(join(dir, 'missing'), 'linux')).toEqual({ probe: 'gone', code: 'ENOENT' });
  });
});

describe('sync rules', () => {
  it('names versions NAME.vN.EXT (before the last extension)', () => {
    expect(versionedRelpath('run/scan_001.cbf', 2)).toBe('run/scan_001.v2.cbf');
    expect(versionedRelpath('a.tar.gz', 3)).toBe('a.tar.v3.gz');
    expect(versionedRelpath('notes', 2)).toBe('notes.v2');
    expect(versionedRelpath('d/.hidden', 2)).toBe('d/.hidden.v2');
    expect(versionedRelpath('x.h5', 1)).toBe('x.h5');
  });

  it('finds the markers a file needs, in its own folder', () => {
    const m = compileMarkers([
      { match: '(.*)\\.h5', marker: '$1.done' },
      { match: '(?<set>.*)_data_\\d+\\.h5', marker: '$<set>_master.h5' },
    ]);
    expect(markersFor('/d/x.h5', m)).toEqual(['/d/x.done']);
    expect(markersFor('/d/s1_data_000002.h5', m)).toEqual(['/d/s1_data_000002.done', '/d/s1_master.h5']);
    expect(markersFor('/d/s1_master.h5', m)).toEqual(['/d/s1_master.done']);
    expect(markersFor('/d/x.cbf', m)).toEqual([]);
    // A file is never its own marker.
    expect(markersFor('/d/a', compileMarkers([{ match: '(.*)', marker: '$1' }]))).toEqual([]);
  });

  it("takes what a batch upload takes, plus each folder's ignore patterns, and prunes dot folders", () => {
    const profile = profileSchema.parse({ exclude: ['**/scratch/**'] });
    const f = createSyncFilter(
      { rules: DEFAULT_FOLDER_RULES, inner: [{ rel: 'cbf', rules: { ...DEFAULT_FOLDER_RULES, ignore: ['*.cbf'] } }] },
      jobFilters(profile, {}),
    );
    for (const n of ['a.tmp', 'run/b.part', 'run/~lock', '.x', 'run/.DS_Store', 'scratch/y.cbf', 'cbf/z.cbf'])
      expect(f.takesFile(n), n).toBe(false);
    for (const n of ['a.cbf', 'run/b.h5', 'run/c.TMP2', 'cbf/x.h5']) expect(f.takesFile(n), n).toBe(true);
    expect(f.skipsDir('.snapshot')).toBe(true);
    expect(f.skipsDir('run/.git', '.git')).toBe(true);
    expect(f.skipsDir('run')).toBe(false);
    // A bare name matches at any depth, as in a batch upload.
    const h5 = createSyncFilter({ rules: DEFAULT_FOLDER_RULES, inner: [] }, jobFilters(profile, { include: ['*.h5'] }));
    expect(['top.h5', 'a/b/deep.h5', 'a/notes.txt'].filter((n) => h5.takesFile(n))).toEqual(['top.h5', 'a/b/deep.h5']);
  });

  it('layers defaults, technique and the deepest folder entry, field by field', () => {
    const profile = profileSchema.parse({
      sync: {
        quietPeriod: '3s',
        onChange: 'flag',
        techniques: { EIGER: { markers: [{ match: '(.*)_data_\\d+\\.h5', marker: '$1_master.h5' }] } },
        folders: [
          { path: '/mnt', mode: 'poll', pollInterval: 10 },
          { path: '/mnt/share/fast', quietPeriod: '500ms' },
        ],
      },
    });
    const [share, fast, local] = resolveSyncFolders(profile, ['/mnt/share', '/mnt/share/fast/run1', '/data'], 'EIGER', 'linux');
    expect(share!.rules).toMatchObject({
      mode: 'poll',
      pollIntervalMs: 10_000,
      quietPeriodMs: 3000,
      markers: [expect.objectContaining({ marker: '$1_master.h5' })],
    });
    // A configured folder inside a watched one brings its own rules for the files below it.
    expect(share!.inner).toEqual([{ rel: 'fast', rules: expect.objectContaining({ quietPeriodMs: 500, mode: 'poll' }) }]);
    expect(rulesAt(share!, 'fast/run1/x.cbf').quietPeriodMs).toBe(500);
    expect(rulesAt(share!, 'slow/x.cbf').quietPeriodMs).toBe(3000);
    expect(fast!.rules).toMatchObject({ mode: 'poll', quietPeriodMs: 500, markers: [expect.anything()] });
    expect(local!.rules).toMatchObject({ mode: 'watch', quietPeriodMs: 3000, ignore: [] });
    expect(() => resolveSyncFolders(profile, ['/data'], 'SAXS', 'linux')).toThrow(
      /no sync rules for technique "SAXS"; use one of: EIGER/,
    );
  });

  it('reports bad durations, regular expressions and markers with the field and what to write', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration(3)).toBe(3000);
    expect(parseDuration('soon')).toBeNull();
    const r = checkProfileText(
      'sync:\n  quietPeriod: soon\n  markers:\n    - { match: "(.*", marker: "../x" }\n  mode: inotify\n',
    );
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sync\.quietPeriod: "soon" is not a duration; write quietPeriod such as 5s/),
        expect.stringMatching(/^sync\.markers\.0\.match: "\(\.\*" is not a valid regular expression/),
        expect.stringMatching(/^sync\.markers\.0\.marker: the marker is a name in the same folder/),
        expect.stringMatching(/^sync\.mode: write mode: watch \(local disks\) or poll \(network shares\)/),
      ]),
    );
  });
});
