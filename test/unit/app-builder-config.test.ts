// electron-builder.yml is checked against electron-builder's own configuration schema
// (app-builder-lib/scheme.json, JSON Schema draft-07) and for what the installers must do.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  directories: { buildResources: string };
  win: { target: string[]; icon: string };
  linux: { target: string[]; icon: string };
  nsis: Record<string, unknown>;
}
const config = parse(readFileSync('electron-builder.yml', 'utf8')) as BuilderConfig;
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { main?: string; scripts: Record<string, string> };

describe('electron-builder.yml', () => {
  it("is valid against electron-builder's configuration schema", () => {
    const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, schemaId: 'auto' });
    const validate = ajv.compile(schema);
    const ok = validate(config);
    expect(ok ? [] : validate.errors).toEqual([]);
  });

  it('a config with a typo is refused by the same schema', () => {
    const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, schemaId: 'auto' }).compile(schema);
    expect(validate({ ...config, nsis: { ...config.nsis, perMachin: true } })).toBe(false);
  });

  it('builds NSIS (per-user or per-machine), AppImage and deb, with the icons in assets/', () => {
    expect(config.win.target).toEqual(['nsis']);
    expect(config.nsis).toMatchObject({ oneClick: false, perMachine: false, allowElevation: true });
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.directories.buildResources).toBe('assets');
    expect(config.win.icon).toMatch(/^assets\//);
    expect(config.linux.icon).toMatch(/^assets\//);
  });

  it('ships the built main, preload and renderer, with native modules outside the asar', () => {
    expect(pkg.main).toBe('dist/main/app/main.js');
    expect(config.files).toContain('dist/**');
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining(['**/node_modules/better-sqlite3/**', '**/node_modules/@napi-rs/keyring*/**']),
    );
    expect(pkg.scripts.build).toMatch(/build:renderer/);
    expect(pkg.scripts.build).toMatch(/build:preload/);
    expect(pkg.scripts.start).toMatch(/electron \./);
  });
});
