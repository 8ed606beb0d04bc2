// vitest globalSetup of the e2e project: builds the renderer (when a source is newer than the
// build) and bundles bridge-entry.ts into one script for the page. The tests load exactly what
// `npm run build` ships.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

export const RENDERER_DIR = 'dist/renderer';
export const BRIDGE_FILE = '.test-artifacts/e2e/bridge.js';

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default async function setup(): Promise<void> {
  const index = join(RENDERER_DIR, 'index.html');
  const stale = !existsSync(index) || Math.max(newest('src/renderer'), newest('src/shared')) > statSync(index).mtimeMs;
  if (stale) await build({ configFile: 'vite.config.ts', logLevel: 'warn' });
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir: '.test-artifacts/e2e',
      emptyOutDir: false,
      minify: false,
      target: 'chrome140',
      lib: { entry: 'test/e2e/support/bridge-entry.ts', formats: ['iife'], name: 'beamdropBridge', fileName: () => 'bridge.js' },
    },
  });
}
