// Remote keys and local paths: odd names survive unchanged, traversal and absolute paths are
// refused, and the Windows rules are tested with path.win32 even though CI runs on Linux.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { BeamdropError } from '../../src/shared/errors.js';
import { renderKey, templateVariables, type KeyVariables } from '../../src/main/engine/keys/key-template.js';
import { toRemoteRelpath } from '../../src/main/engine/keys/remote-key.js';
import {
  checkWindowsName,
  checkWindowsRelpath,
  findCaseCollisions,
  foldWindowsCase,
  pathApi,
  pathPlatform,
  relativeUnder,
  sameLocalPath,
} from '../../src/main/engine/keys/local-path.js';

function thrown(fn: () => unknown): BeamdropError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BeamdropError);
    return e as BeamdropError;
  }
  throw new Error('expected a BeamdropError');
}

const vars: KeyVariables = {
  facility: 'elettra',
  beamline: 'XRD1',
  proposal: '20240123',
  visit: 'v1',
  dataset: 'sample-A',
  date: '2025-03-14',
  relpath: 'scan_001/img_0001.tif',
};

describe('toRemoteRelpath', () => {
  it.each([
    'run #3 100%.h5',
    'a+b & c?.txt',
    'données/échantillon ü.tif',
    '日本語/データ.h5',
    'emoji 🧪🔬/file 😀.dat',
    ' leading and trailing space ',
    'name.with.many.dots.',
    '%20 is not decoded',
  ])('keeps %j exactly', (name) => {
    expect(toRemoteRelpath(name)).toBe(name);
  });

  it('keeps a colon inside a segment', () => {
    expect(toRemoteRelpath('run/12:30:00.h5')).toBe('run/12:30:00.h5');
  });

  it('turns NFD names (as macOS lists them) into NFC', () => {
    expect(toRemoteRelpath('caf' + 'e\u0301' + '/e\u0301.txt')).toBe('café/é.txt');
    expect(toRemoteRelpath('e\u0301')).toBe('\u00e9');
  });

  it('uses "/" for Windows separators and drops empty and "." segments', () => {
    expect(toRemoteRelpath('raw\\run1\\f.h5')).toBe('raw/run1/f.h5');
    expect(toRemoteRelpath('./a//b/./c/')).toBe('a/b/c');
    expect(toRemoteRelpath('a\\.\\b')).toBe('a/b');
  });

  it.each(['../x', 'a/../../x', 'a/..', '..\\x', 'a\\..\\b'])('refuses traversal in %j', (p) => {
    const e = thrown(() => toRemoteRelpath(p));
    expect(e.code).toBe('invalid-key');
    expect(e.retryable).toBe(false);
    expect(e.file).toBe(p);
    expect(e.message).toContain(p);
    expect(e.message).toContain('..');
  });

  it.each([
    '/etc/passwd',
    '\\x',
    'C:\\data\\x',
    'C:/data/x',
    'C:x',
    'c:',
    '\\\\server\\share\\x',
    '//server/share/x',
    '\\\\?\\C:\\x',
  ])('refuses the absolute or drive path %j', (p) => {
    const e = thrown(() => toRemoteRelpath(p));
    expect(e.code).toBe('invalid-key');
    expect(e.file).toBe(p);
    expect(e.message).toMatch(/absolute|drive letter/);
    expect(e.message).toContain('relative to the source folder');
  });

  it.each(['a\u0000b', 'line\nbreak.txt', 'tab\there', 'del\u007f', 'c1\u0085'])('refuses control characters in %j', (p) => {
    const e = thrown(() => toRemoteRelpath(p));
    expect(e.code).toBe('invalid-key');
    expect(e.message).toContain('control character');
    expect(e.message).not.toMatch(/\p{Cc}/u); // shown escaped, never raw
  });

  it.each(['', '.', './', './/.'])('refuses the empty path %j', (p) => {
    expect(thrown(() => toRemoteRelpath(p)).message).toContain('empty');
  });

  it('is idempotent', () => {
    const once = toRemoteRelpath('a\\b/e\u0301/ c #?');
    expect(toRemoteRelpath(once)).toBe(once);
  });
});

describe('renderKey', () => {
  const layout = '{beamline}/{proposal}/{visit}/raw/{dataset}/{relpath}';

  it('renders a beamline layout', () => {
    expect(renderKey(layout, vars)).toBe('XRD1/20240123/v1/raw/sample-A/scan_001/img_0001.tif');
    expect(renderKey('{facility}/{date}/{proposal}/{relpath}', vars)).toBe('elettra/2025-03-14/20240123/scan_001/img_0001.tif');
  });

  it('collapses the segments of unset optional variables instead of writing "//"', () => {
    expect(renderKey(layout, { ...vars, visit: '' })).toBe('XRD1/20240123/raw/sample-A/scan_001/img_0001.tif');
    expect(renderKey(layout, { ...vars, visit: null })).toBe('XRD1/20240123/raw/sample-A/scan_001/img_0001.tif');
    expect(renderKey(layout, { dataset: 'd', date: '2025-01-01', relpath: 'f' })).toBe('raw/d/f');
    expect(renderKey('{facility}/{beamline}/{relpath}', { ...vars, facility: '', beamline: undefined })).toBe(
      'scan_001/img_0001.tif',
    );
  });

  it('keeps a variable that shares its segment with text', () => {
    expect(renderKey('{proposal}-{visit}/{relpath}', vars)).toBe('20240123-v1/scan_001/img_0001.tif');
    expect(renderKey('p{proposal}/{relpath}', { ...vars, proposal: '' })).toBe('p/scan_001/img_0001.tif');
  });

  it('normalises relpath like toRemoteRelpath and keeps odd names', () => {
    expect(renderKey('{dataset}/{relpath}', { ...vars, relpath: 'sub\\run #1 50%+é.h5' })).toBe('sample-A/sub/run #1 50%+é.h5');
    expect(renderKey('{dataset}/{relpath}', { ...vars, dataset: 'e\u0301chantillon', relpath: 'x' })).toBe('échantillon/x');
  });

  it('refuses a slash in a variable and says what to write instead', () => {
    const e = thrown(() => renderKey(layout, { ...vars, proposal: 'a/b' }));
    expect(e.code).toBe('invalid-key');
    expect(e.retryable).toBe(false);
    expect(e.field).toBe('proposal');
    expect(e.message).toBe('the proposal "a/b" contains "/"; write the proposal id without slashes');
    expect(thrown(() => renderKey(layout, { ...vars, dataset: 'x\\y' })).field).toBe('dataset');
  });

  it.each(['..', '.'])('refuses %j as a variable value', (v) => {
    const e = thrown(() => renderKey(layout, { ...vars, visit: v }));
    expect(e.field).toBe('visit');
    expect(e.code).toBe('invalid-key');
  });

  it('refuses an empty required variable only when the template uses it', () => {
    const e = thrown(() => renderKey(layout, { ...vars, dataset: '' }));
    expect(e.field).toBe('dataset');
    expect(e.message).toContain('write the dataset name');
    expect(renderKey('{proposal}/{relpath}', { ...vars, dataset: '' })).toBe('20240123/scan_001/img_0001.tif');
    expect(thrown(() => renderKey(layout, { ...vars, relpath: '' })).file).toBe('');
  });

  it('checks that {date} is YYYY-MM-DD', () => {
    const e = thrown(() => renderKey('{date}/{relpath}', { ...vars, date: '14/03/2025' }));
    expect(e.field).toBe('date');
    expect(renderKey('{proposal}/{relpath}', { ...vars, date: 'ignored when unused' })).toContain('20240123');
    expect(thrown(() => renderKey('{date}/{relpath}', { ...vars, date: '2025-3-1' })).message).toContain('YYYY-MM-DD');
  });

  it('refuses traversal coming through relpath', () => {
    const e = thrown(() => renderKey(layout, { ...vars, relpath: '../../other-proposal/x' }));
    expect(e.code).toBe('invalid-key');
    expect(e.file).toBe('../../other-proposal/x');
  });

  it('refuses templates without {relpath}, with unknown variables or rendering ".."', () => {
    expect(thrown(() => renderKey('{proposal}/{dataset}', vars)).code).toBe('profile-invalid');
    const unknown = thrown(() => renderKey('{proposal}/{user}/{relpath}', vars));
    expect(unknown.message).toContain('{user}');
    expect(unknown.field).toBe('keyTemplate');
    expect(thrown(() => renderKey('{visit}../{relpath}', { ...vars, visit: '' })).message).toContain('..');
    expect(templateVariables(layout)).toEqual(['beamline', 'proposal', 'visit', 'dataset', 'relpath']);
  });
});

describe('local paths on Windows (path.win32)', () => {
  const w = 'win32' as const;

  it('picks the path rules of the platform', () => {
    expect(pathPlatform('win32')).toBe('win32');
    expect(pathPlatform('linux')).toBe('posix');
    expect(pathPlatform('darwin')).toBe('posix');
    expect(pathApi(w)).toBe(path.win32);
  });

  it('computes the relpath under a drive-letter root, case-insensitively', () => {
    expect(relativeUnder('C:\\data\\run1', 'C:\\data\\run1\\scan\\img 1.tif', w)).toBe('scan/img 1.tif');
    expect(relativeUnder('C:\\Data\\Run1\\', 'c:\\DATA\\run1\\Scan\\Img.TIF', w)).toBe('Scan/Img.TIF');
    expect(relativeUnder('C:/data', 'C:\\data\\a\\..\\b.h5', w)).toBe('b.h5');
    expect(relativeUnder('C:\\', 'C:\\x\\y', w)).toBe('x/y');
  });

  it('computes the relpath under a UNC share and a long-path spelling', () => {
    expect(relativeUnder('\\\\server\\share\\beamline', '\\\\SERVER\\Share\\beamline\\run1\\f.h5', w)).toBe('run1/f.h5');
    expect(relativeUnder('\\\\server\\share', '\\\\server\\share\\f.h5', w)).toBe('f.h5');
    expect(relativeUnder('C:\\data', '\\\\?\\C:\\data\\x.h5', w)).toBe('x.h5');
    expect(relativeUnder('\\\\server\\share\\bl', '\\\\?\\UNC\\server\\share\\bl\\x.h5', w)).toBe('x.h5');
  });

  it('says null for files outside the root', () => {
    expect(relativeUnder('C:\\data', 'D:\\data\\x', w)).toBeNull();
    expect(relativeUnder('C:\\data', 'C:\\database\\x', w)).toBeNull();
    expect(relativeUnder('C:\\data\\run1', 'C:\\data\\run1\\..\\run2\\x', w)).toBeNull();
    expect(relativeUnder('\\\\server\\share\\bl', '\\\\server\\other\\bl\\x', w)).toBeNull();
    expect(relativeUnder('C:\\data', 'C:\\data', w)).toBeNull();
  });

  it('refuses paths that depend on the current drive or folder', () => {
    for (const p of ['C:data', '\\data', 'data\\x']) {
      expect(thrown(() => relativeUnder(p, 'C:\\data\\x', w)).message).toContain('not a full Windows path');
    }
  });

  it('compares names case-insensitively like NTFS', () => {
    expect(sameLocalPath('C:\\Data\\RUN1', 'c:/data/run1/', w)).toBe(true);
    expect(sameLocalPath('\\\\Server\\Share\\X', '\\\\server\\share\\x', w)).toBe(true);
    expect(sameLocalPath('C:\\data\\ÉTÉ', 'C:\\data\\été', w)).toBe(true);
    expect(sameLocalPath('C:\\data\\a', 'D:\\data\\a', w)).toBe(false);
    // NTFS maps one unit to one unit: "ß" is not "SS" there.
    expect(sameLocalPath('C:\\straße', 'C:\\STRASSE', w)).toBe(false);
    expect(foldWindowsCase('straße')).toBe('STRAßE');
  });

  it('detects reserved device names, with any extension and any case', () => {
    for (const n of [
      'CON',
      'con',
      'PRN',
      'AUX',
      'NUL',
      'nul.txt',
      'Nul.tar.gz',
      'COM1',
      'com9.log',
      'LPT1',
      'lpt9',
      'NUL .txt',
      'CONIN$',
      'COM¹',
    ]) {
      expect(checkWindowsName(n), n).toContain('reserved device name');
    }
    for (const n of ['CONSOLE', 'nullable.txt', 'COM10', 'LPT', 'my_con.txt', 'aux-data.h5', 'com1x']) {
      expect(checkWindowsName(n), n).toBeNull();
    }
  });

  it('detects names ending in space or dot and forbidden characters', () => {
    expect(checkWindowsName('run1.')).toContain('ends with a dot');
    expect(checkWindowsName('run1 ')).toContain('ends with a space');
    expect(checkWindowsName('a?b')).toContain('"?"');
    expect(checkWindowsName('12:30.h5')).toContain('":"');
    expect(checkWindowsName('a\u0001')).toContain('U+0001');
    expect(checkWindowsName('x'.repeat(256))).toContain('longer');
    expect(checkWindowsName('run #3 100% + é 😀.h5')).toBeNull();
    expect(checkWindowsRelpath('ok/fine/nul.txt')).toContain('NUL');
    expect(checkWindowsRelpath('ok/aux/file.h5')).toContain('AUX');
    expect(checkWindowsRelpath('ok/fine/file.h5')).toBeNull();
  });

  it('finds keys that differ only by case', () => {
    expect(findCaseCollisions(['Run1/a.h5', 'run1/A.h5', 'run1/b.h5', 'RUN1/A.H5', 'c.h5', 'c.h5'])).toEqual([
      ['Run1/a.h5', 'run1/A.h5', 'RUN1/A.H5'],
    ]);
    expect(findCaseCollisions(['a', 'b', 'ß', 'SS'])).toEqual([]);
  });
});

describe('local paths on POSIX (path.posix)', () => {
  const p = 'posix' as const;

  it('is case-sensitive and exact', () => {
    expect(relativeUnder('/data/run1', '/data/run1/sub/f.h5', p)).toBe('sub/f.h5');
    expect(relativeUnder('/data/run1/', '/data/run1//sub/./f.h5', p)).toBe('sub/f.h5');
    expect(relativeUnder('/data/Run1', '/data/run1/f.h5', p)).toBeNull();
    expect(relativeUnder('/data/run1', '/data/run10/f.h5', p)).toBeNull();
    expect(sameLocalPath('/data/a', '/data/a/', p)).toBe(true);
    expect(sameLocalPath('/data/A', '/data/a', p)).toBe(false);
    // A backslash is an ordinary character in a POSIX name.
    expect(relativeUnder('/data', '/data/a\\b', p)).toBe('a\\b');
    expect(thrown(() => relativeUnder('data', '/data/x', p)).code).toBe('internal');
  });
});
