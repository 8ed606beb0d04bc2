// The operator's settings file and the profile jobs run with: the facility profile plus the
// operator's destinations and overrides, never replacing what the profile defines.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileSchema } from '../../src/shared/profile-schema.js';
import { AppSettingsStore, effectiveProfile } from '../../src/main/app-backend/app-settings.js';

const base = profileSchema.parse({
  destinations: { archive: { kind: 'filesystem', root: '/mnt/archive' } },
  defaultDestination: 'archive',
  upload: { concurrency: 8, bandwidth: 'off' },
});

describe('AppSettingsStore', () => {
  it('starts from defaults, writes atomically and reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bd-settings-'));
    const store = new AppSettingsStore(dir);
    expect(store.get()).toMatchObject({ startAtLogin: false, destinations: {}, session: null });
    store.update((s) => ({ ...s, concurrency: 3, session: 'local' }));
    expect(JSON.parse(readFileSync(join(dir, 'app-settings.json'), 'utf8'))).toMatchObject({ concurrency: 3, session: 'local' });
    expect(new AppSettingsStore(dir).get()).toMatchObject({ concurrency: 3, session: 'local' });
    expect(() => store.update((s) => ({ ...s, concurrency: 0 }))).toThrow();
    expect(store.get().concurrency).toBe(3);
  });

  it('falls back to defaults, and says why, when the file is damaged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bd-settings-'));
    writeFileSync(join(dir, 'app-settings.json'), '{ not json');
    const problems: string[] = [];
    expect(new AppSettingsStore(dir, (m) => problems.push(m)).get().startAtLogin).toBe(false);
    expect(problems).toEqual([expect.stringMatching(/is not JSON .*using defaults/)]);
  });
});

describe('effectiveProfile', () => {
  it("adds the operator's destinations and overrides, keeping the profile's", () => {
    const p = effectiveProfile(base, {
      startAtLogin: false,
      session: null,
      concurrency: 2,
      bandwidth: '10M',
      defaultDestination: 'nas',
      destinations: {
        nas: { kind: 'filesystem', root: '/mnt/nas' },
        archive: { kind: 'filesystem', root: '/tmp/hijack' },
        broken: { kind: 'ftp' },
      },
    });
    expect(Object.keys(p.destinations).sort()).toEqual(['archive', 'nas']);
    expect(p.destinations.archive).toMatchObject({ root: '/mnt/archive' });
    expect(p.upload).toMatchObject({ concurrency: 2, bandwidth: '10M', partConcurrency: base.upload.partConcurrency });
    expect(p.defaultDestination).toBe('nas');
  });

  it('ignores a default destination that no longer exists', () => {
    expect(
      effectiveProfile(base, { startAtLogin: false, session: null, destinations: {}, defaultDestination: 'gone' })
        .defaultDestination,
    ).toBe('archive');
  });
});
