// The one glob rule (engine/scan/filters.ts) that batch uploads and sync sessions share: where a
// pattern matches, what the default excludes leave out, and when an include wins over an exclude.
import { describe, expect, it } from 'vitest';
import { createFilter, jobFilters, type FilterOptions } from '../../src/main/engine/scan/filters.js';
import { DEFAULT_EXCLUDE } from '../../src/shared/profile-globs.js';
import { profileSchema } from '../../src/shared/profile-schema.js';
import { checkProfileText } from '../../src/main/engine/profile/load-profile.js';

/** The relpaths of `paths` a filter takes, walking as the scanners do: folders first, then the file. */
function taken(options: Partial<FilterOptions>, paths: string[]): string[] {
  const f = createFilter({ include: options.include ?? [], exclude: options.exclude ?? [] });
  return paths.filter((p) => {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) if (f.excludes(parts.slice(0, i).join('/'))) return false;
    return !f.excludes(p) && f.takesFile(p);
  });
}

const TREE = [
  'top.h5',
  'raw/a.h5',
  'raw/b.H5',
  'raw/sub/c.h5',
  'x/raw/d.h5',
  'notes.txt',
  'x/notes.txt',
  '.hidden',
  'a/.DS_Store',
  '.cache/blob.h5',
  '.config/app.json',
  'x.tmp',
  'run/y.part',
  'sub/~lock',
  'run/c.TMP2',
  'run/a.tmp.h5',
];

describe('the glob rule', () => {
  it('matches a pattern without "/" against the name, at any depth', () => {
    expect(taken({ include: ['*.h5'] }, TREE)).toEqual([
      'top.h5',
      'raw/a.h5',
      'raw/sub/c.h5',
      'x/raw/d.h5',
      '.cache/blob.h5',
      'run/a.tmp.h5',
    ]);
    expect(taken({ include: ['notes.txt'] }, TREE)).toEqual(['notes.txt', 'x/notes.txt']);
  });

  it('matches a pattern with "/" against the path from the root; a leading "/" anchors a name', () => {
    expect(taken({ include: ['raw/*.h5'] }, TREE)).toEqual(['raw/a.h5']);
    expect(taken({ include: ['raw/**'] }, TREE)).toEqual(['raw/a.h5', 'raw/b.H5', 'raw/sub/c.h5']);
    expect(taken({ include: ['**/raw/*.h5'] }, TREE)).toEqual(['raw/a.h5', 'x/raw/d.h5']);
    expect(taken({ include: ['/notes.txt'] }, TREE)).toEqual(['notes.txt']);
    expect(taken({ include: ['./notes.txt'] }, TREE)).toEqual(['notes.txt']);
  });

  it('is case-sensitive, and "*" and "?" stay within one name', () => {
    expect(taken({ include: ['*.H5'] }, TREE)).toEqual(['raw/b.H5']);
    expect(taken({ include: ['raw/*'] }, TREE)).toEqual(['raw/a.h5', 'raw/b.H5']);
    expect(taken({ include: ['?.tmp'] }, TREE)).toEqual(['x.tmp']);
  });

  it('excludes everything inside a folder an exclude matches, without entering it', () => {
    const f = createFilter({ include: [], exclude: ['tmp', '/scratch/'] });
    expect(f.excludes('work/tmp')).toBe(true);
    expect(f.excludes('tmp')).toBe(true);
    expect(f.excludes('scratch')).toBe(true);
    expect(f.excludes('a/scratch')).toBe(false);
    expect(taken({ exclude: ['raw'] }, ['raw/a.h5', 'x/raw/d.h5', 'rawer/e.h5'])).toEqual(['rawer/e.h5']);
  });

  it('leaves out dot files and folders, *.tmp, *.part and ~* by default', () => {
    expect(DEFAULT_EXCLUDE).toEqual(['.*', '*.tmp', '*.part', '~*']);
    expect(taken({ exclude: [...DEFAULT_EXCLUDE] }, TREE)).toEqual([
      'top.h5',
      'raw/a.h5',
      'raw/b.H5',
      'raw/sub/c.h5',
      'x/raw/d.h5',
      'notes.txt',
      'x/notes.txt',
      'run/c.TMP2',
      'run/a.tmp.h5',
    ]);
    const f = createFilter({ include: [], exclude: [...DEFAULT_EXCLUDE] });
    expect(f.excludes('.snapshot')).toBe(true);
    expect(f.excludes('a/.git')).toBe(true);
  });

  it('lets an include win over an exclude only when it spells out what the exclude leaves out', () => {
    const defaults = [...DEFAULT_EXCLUDE];
    // "*" spells out nothing: the defaults still apply.
    expect(taken({ include: ['*'], exclude: defaults }, TREE)).toEqual(taken({ exclude: defaults }, TREE));
    // A dot file by name, anywhere, in addition to everything else; other dot files stay out.
    expect(taken({ include: ['*', '.hidden'], exclude: defaults }, [...TREE, '.cache/.hidden'])).toEqual([
      ...taken({ exclude: defaults }, TREE).slice(0, 7),
      '.hidden',
      ...taken({ exclude: defaults }, TREE).slice(7),
      '.cache/.hidden',
    ]);
    // Anchored: only the top-level one, and no dot folder is entered for it.
    const anchored = createFilter({ include: ['/.hidden'], exclude: defaults });
    expect(anchored.excludes('.cache')).toBe(true);
    expect(taken({ include: ['/.hidden'], exclude: defaults }, [...TREE, '.cache/.hidden'])).toEqual(['.hidden']);
    // A dot folder by path is entered; the others are not.
    const config = createFilter({ include: ['.config/**'], exclude: defaults });
    expect(config.excludes('.config')).toBe(false);
    expect(config.excludes('.cache')).toBe(true);
    expect(taken({ include: ['.config/**'], exclude: defaults }, TREE)).toEqual(['.config/app.json']);
    expect(createFilter({ include: ['**/.keep'], exclude: defaults }).excludes('.cache')).toBe(false);
    expect(createFilter({ include: ['raw/.keep'], exclude: defaults }).excludes('raw/.git')).toBe(true);
    // Temporary files on purpose, but not those inside dot folders.
    expect(taken({ include: ['**/*.tmp'], exclude: defaults }, [...TREE, '.d/z.tmp'])).toEqual(['x.tmp']);
    // The operator's own excludes follow the same rule.
    expect(taken({ include: ['*.log'], exclude: ['*.log'] }, ['a.log'])).toEqual(['a.log']);
    expect(taken({ include: ['*', 'keep.log'], exclude: ['*.log'] }, ['a.log', 'keep.log', 'b.txt'])).toEqual([
      'keep.log',
      'b.txt',
    ]);
    expect(taken({ include: ['*.h5'], exclude: ['scratch/**'] }, ['scratch/x.h5', 'y.h5'])).toEqual(['y.h5']);
  });

  it('makes a job filter from the profile defaults, the profile and the operator, and checks the operator', () => {
    const profile = profileSchema.parse({ include: ['*.h5'], exclude: ['scratch'] });
    expect(profile.defaultExclude).toEqual([...DEFAULT_EXCLUDE]);
    expect(jobFilters(profile, { include: ['*.cbf'], exclude: ['old'] })).toEqual({
      include: ['*.h5', '*.cbf'],
      exclude: [...DEFAULT_EXCLUDE, 'scratch', 'old'],
    });
    expect(jobFilters(profileSchema.parse({ defaultExclude: [] }), {})).toEqual({ include: [], exclude: [] });
    expect(() => jobFilters(profile, { include: ['x'.repeat(70_000)] })).toThrow(
      expect.objectContaining({ code: 'usage', field: 'include', message: expect.stringMatching(/is not a valid glob/) }),
    );
  });

  it('refuses empty and oversized patterns in the profile with the field', () => {
    const r = checkProfileText(`exclude: [""]\ndefaultExclude: ["${'*'.repeat(5000)}"]\nsync:\n  ignore: ["/"]\n`);
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'exclude.0: an empty pattern matches nothing; remove it',
        'defaultExclude.0: a pattern is at most 4096 characters; write a shorter glob',
        'sync.ignore.0: an empty pattern matches nothing; remove it',
      ]),
    );
  });
});
