// Opens the built renderer in Debian's Chromium (playwright-core) with the REAL app backend bound
// behind window.beamdrop: the preload's own API object over a Playwright binding that checks its
// caller like main checks its IPC sender. Collects console errors, page errors and CSP
// violations (a test fails on any), and saves screenshots to .test-artifacts/screenshots/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { COMMAND_NAMES, commandChannel, eventChannel } from '../../../src/shared/ipc-contract.js';
import type { FacilityProfile } from '../../../src/shared/profile-schema.js';
import { createBackend, type AppBackend } from '../../../src/main/app-backend/create-backend.js';
import type { SyncGateway } from '../../../src/main/app-backend/sync-gateway.js';
import type { Engine } from '../../../src/main/engine/engine.js';
import { BRIDGE_FILE, RENDERER_DIR } from './build-assets.js';
import { startRendererServer, type RendererServer } from './renderer-server.js';

export const SCREENSHOTS = '.test-artifacts/screenshots';
export const CHROMIUM = process.env.BEAMDROP_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

export interface AppPage {
  page: Page;
  backend: AppBackend;
  origin: string;
  /** Console errors, uncaught page errors and CSP violations seen so far. */
  problems: string[];
  /** Paths the next "Add files/folders…" dialogs answer with (the native dialog is Electron's). */
  picks: string[][];
  /** Events delivered to the page, by name. */
  delivered: Map<string, number>;
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface OpenOptions {
  engine: Engine;
  profile: FacilityProfile;
  colorScheme?: 'light' | 'dark';
  viewport?: { width: number; height: number };
  sync?: SyncGateway;
  /** Scripts to run in the page before the app (benchmarks install probes this way). */
  initScripts?: string[];
}

export async function openApp(o: OpenOptions): Promise<AppPage> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const server: RendererServer = await startRendererServer(RENDERER_DIR);
  const userDataDir = mkdtempSync(join(tmpdir(), 'bd-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: o.viewport ?? { width: 1360, height: 860 },
    colorScheme: o.colorScheme ?? 'light',
    offline: false,
    serviceWorkers: 'block',
  });
  const picks: string[][] = [];
  const backend = createBackend({
    engine: o.engine,
    profile: o.profile,
    profileSource: 'e2e test profile',
    version: '0.0.0-e2e',
    shell: { pickPaths: async () => picks.shift() ?? [], setStartAtLogin: () => undefined },
    ...(o.sync ? { sync: o.sync } : {}),
  });
  const problems: string[] = [];
  const delivered = new Map<string, number>();

  // The binding is main's IPC: only our page's top frame may call, only contract channels pass.
  await context.exposeBinding('__beamdropInvoke', async (source, channel: unknown, request: unknown) => {
    if (source.frame !== source.page.mainFrame() || !source.frame.url().startsWith(`${server.origin}/`)) {
      return {
        ok: false,
        error: { code: 'permission-denied', retryable: false, message: 'This page may not talk to Beamdrop.' },
      };
    }
    const command = COMMAND_NAMES.find((c) => commandChannel(c) === channel);
    return backend.dispatch(command ?? channel, request);
  });
  // Chromium does not always log a blocked eval (e.g. a library probing with new Function in a
  // try/catch): every violation the page sees is reported here and fails the test.
  await context.exposeBinding('__beamdropCspViolation', (_source, text: unknown) => {
    problems.push(`CSP violation: ${String(text)}`);
  });
  await context.addInitScript(() => {
    const g = globalThis as unknown as {
      __beamdropCspViolation?: (t: string) => void;
      addEventListener(
        t: string,
        l: (e: { violatedDirective: string; blockedURI: string; sourceFile: string; lineNumber: number }) => void,
      ): void;
    };
    const report = g.__beamdropCspViolation;
    delete g.__beamdropCspViolation;
    g.addEventListener('securitypolicyviolation', (e) =>
      report?.(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`),
    );
  });
  await context.addInitScript({ path: BRIDGE_FILE });
  for (const content of o.initScripts ?? []) await context.addInitScript({ content });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });

  // Events in order, one evaluate at a time, as IPC messages arrive in order.
  let chain: Promise<unknown> = Promise.resolve();
  const off = backend.events.on((event, payload) => {
    delivered.set(event, (delivered.get(event) ?? 0) + 1);
    chain = chain
      .then(() =>
        page.evaluate(
          ([ch, p]) => {
            (globalThis as unknown as Record<symbol, (c: string, x: unknown) => void>)[Symbol.for('beamdrop.e2e.deliver')]!(
              ch,
              p,
            );
          },
          [eventChannel(event), payload] as const,
        ),
      )
      .catch(() => undefined);
  });

  await page.goto(`${server.origin}/index.html`);
  return {
    page,
    backend,
    origin: server.origin,
    problems,
    picks,
    delivered,
    async shot(name) {
      const file = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false, animations: 'disabled' });
      return file;
    },
    async close() {
      off();
      await backend.shutdown();
      await chain;
      await context.close();
      await server.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
