// UI benchmark (not a test): the Activity screen of a 100,000-file job, in Debian's Chromium with
// the real app backend (bench/ui-simulated-engine.ts changes file states in the journal).
//   1. first paint: from the click on "Activity" (and from a cold page load) until the first
//      rows of the 100,000-file table are painted — target ≤ 1 s;
//   2. while 1,000 files per second change state: updates delivered to the page per second,
//      frames in which the Activity DOM changed per second (≤ 10 wanted), the longest gap between
//      animation frames (jank), and that the visible rows really change;
//   3. the backend side: time of one 100-row page of the file table at offsets 0, 50,000, 99,900.
// Run: npm run bench:ui [-- --files 100000 --rate 1000 --seconds 10]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../src/main/engine/engine.js';
import { silentLogger } from '../src/main/engine/log/logger.js';
import { defaultProfile } from '../src/main/engine/profile/default-profile.js';
import { emptyDefinition } from '../src/shared/dataset-definition.js';
import buildAssets from '../test/e2e/support/build-assets.js';
import { openApp } from '../test/e2e/support/app-page.js';
import { SimulatedEngine } from './ui-simulated-engine.js';

const { values: a } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
  },
});
const FILES = Number(a.files);
const RATE = Number(a.rate);
const SECONDS = Number(a.seconds);

type PageGlobal = {
  document: { querySelector(s: string): unknown };
  requestAnimationFrame(cb: (t: number) => void): void;
  performance: { now(): number; timeOrigin: number };
};

/**
 * Counts React commits in the production build: React reports every commit to a DevTools hook
 * when one is installed before it loads (this is how the DevTools profiler sees it).
 */
const REACT_COMMIT_PROBE = `
  globalThis.__beamdropCommits = 0;
  globalThis.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true, renderers: new Map(), inject() { return 1; }, checkDCE() {},
    onCommitFiberRoot() { globalThis.__beamdropCommits++; }, onCommitFiberUnmount() {}, onPostCommitFiberRoot() {},
  };`;

interface Measure {
  reactCommitsPerSecond: number;
  domFramesPerSecond: number;
  rowChangesPerSecond: number;
  framesPerSecond: number;
  longestFrameGapMs: number;
}

/** Counts, over `seconds`, React commits, animation frames that changed the Activity DOM, changes of the visible rows, and jank. */
async function measure(page: import('playwright-core').Page, seconds: number): Promise<Measure> {
  const m = await page.evaluate(
    (s) =>
      new Promise<{ commits: number; frames: number; domFrames: number; maxGap: number; rowChanges: number }>((resolve) => {
        const g = globalThis as unknown as PageGlobal & {
          __beamdropCommits: number;
          MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void; disconnect(): void };
          document: { querySelectorAll(s: string): Iterable<{ getAttribute(n: string): string | null }> };
        };
        const rows = () =>
          [...g.document.querySelectorAll('.file-row[data-state]')]
            .slice(0, 25)
            .map((r) => `${r.getAttribute('data-relpath')}=${r.getAttribute('data-state')}`)
            .join(',');
        let mutated = false;
        let domFrames = 0;
        let frames = 0;
        let maxGap = 0;
        let rowChanges = 0;
        let seen = rows();
        const commits0 = g.__beamdropCommits;
        const obs = new g.MutationObserver(() => {
          mutated = true;
        });
        obs.observe(g.document.querySelector('.activity'), {
          subtree: true,
          childList: true,
          attributes: true,
          characterData: true,
        });
        let last = g.performance.now();
        const end = last + s * 1000;
        const frame = (t: number) => {
          frames++;
          maxGap = Math.max(maxGap, t - last);
          last = t;
          if (mutated) {
            domFrames++;
            mutated = false;
            const r = rows();
            if (r !== seen) {
              rowChanges++;
              seen = r;
            }
          }
          if (t < end) g.requestAnimationFrame(frame);
          else {
            obs.disconnect();
            resolve({ commits: g.__beamdropCommits - commits0, frames, domFrames, maxGap, rowChanges });
          }
        };
        g.requestAnimationFrame(frame);
      }),
    seconds,
  );
  const per = (n: number) => +(n / seconds).toFixed(1);
  return {
    reactCommitsPerSecond: per(m.commits),
    domFramesPerSecond: per(m.domFrames),
    rowChangesPerSecond: per(m.rowChanges),
    framesPerSecond: per(m.frames),
    longestFrameGapMs: Math.round(m.maxGap),
  };
}

async function main(): Promise<void> {
  await buildAssets();
  const home = mkdtempSync(join(tmpdir(), 'bd-bench-ui-'));
  const base = Engine.open({ home, log: silentLogger() });
  const engine = new SimulatedEngine(base, { files: FILES, rate: RATE, durationMs: (2 * SECONDS + 60) * 1000 });
  const profile = defaultProfile(join(home, 'archive'));
  const app = await openApp({ engine, profile, viewport: { width: 1360, height: 860 }, initScripts: [REACT_COMMIT_PROBE] });
  const { page } = app;
  try {
    await page.getByRole('button', { name: 'Continue with the local catalogue' }).click();
    const definition = {
      ...emptyDefinition(),
      investigation: 'BENCH',
      name: 'hundred_k',
      sources: [home],
      destination: 'local-archive',
    };
    const t0 = Date.now();
    const started = await app.backend.dispatch('jobs.start', { definition });
    if (!started.ok) throw new Error(started.error.message);
    console.log(`job of ${FILES.toLocaleString()} files created in the journal in ${Date.now() - t0} ms`);
    await new Promise((r) => setTimeout(r, 1500));
    const measureStart = Date.now();
    app.delivered.set('jobs.update', 0);

    // 1a. first paint after the click on Activity.
    const clickPaint = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const g = globalThis as unknown as PageGlobal & { document: { querySelector(s: string): { click(): void } | null } };
          const start = g.performance.now();
          const nav = [
            ...(
              g.document as unknown as { querySelectorAll(s: string): Iterable<{ textContent: string; click(): void }> }
            ).querySelectorAll('.nav__item'),
          ].find((b) => b.textContent.startsWith('Activity'))!;
          nav.click();
          const poll = () => {
            if (g.document.querySelector('.file-row[data-state]'))
              g.requestAnimationFrame(() => resolve(g.performance.now() - start));
            else g.requestAnimationFrame(poll);
          };
          poll();
        }),
    );

    // 2. renders while RATE files per second change state: the top of "All states", then the
    // "transferring" filter, whose rows are the files in flight and change all the time.
    const all = await measure(page, SECONDS);
    await page.getByLabel('Show').selectOption('transferring');
    await page.locator('.file-row[data-state="transferring"]').first().waitFor();
    const inFlight = await measure(page, SECONDS);
    const updates = app.delivered.get('jobs.update') ?? 0;
    const updatesWindowS = (Date.now() - measureStart) / 1000;

    // Scrolling: jump to the middle and to the end of the 100,000 rows; time until rows show.
    await page.getByLabel('Show').selectOption('');
    await page.locator('.file-row[data-state]').first().waitFor();
    const scrollTo = (fraction: number) =>
      page.evaluate(
        (f) =>
          new Promise<number>((resolve) => {
            type Scroller = {
              scrollTop: number;
              scrollHeight: number;
              clientHeight: number;
              querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null }>;
            };
            const g = globalThis as unknown as PageGlobal;
            const el = g.document.querySelector('.file-table__scroll') as Scroller;
            const start = g.performance.now();
            el.scrollTop = (el.scrollHeight - el.clientHeight) * f;
            const want = Math.floor(el.scrollTop / 32);
            const poll = () => {
              const rows = el.querySelectorAll('.file-row[data-state]');
              const idx = Array.from(rows, (r) => Number(r.getAttribute('aria-rowindex')) - 2);
              if (idx.some((i) => i >= want && i <= want + 5))
                g.requestAnimationFrame(() => resolve(g.performance.now() - start));
              else g.requestAnimationFrame(poll);
            };
            poll();
          }),
        fraction,
      );
    const scrollMiddleMs = Math.round(await scrollTo(0.5));
    const scrollEndMs = Math.round(await scrollTo(1));

    // 1b. cold: reload the page and open Activity.
    const beforeReload = Date.now();
    await page.reload();
    await page.getByRole('button', { name: 'Activity' }).click();
    await page.locator('.file-row[data-state]').first().waitFor();
    const coldPaint = Date.now() - beforeReload;

    // 3. backend page times, with the job quiet (paused).
    const jobId = (started.value as { jobId: number }).jobId;
    await app.backend.dispatch('jobs.pause', { jobId });
    const pageTimes: Record<string, number> = {};
    for (const offset of [0, 50_000, FILES - 100]) {
      const t = performance.now();
      for (let i = 0; i < 5; i++) await app.backend.dispatch('jobs.files', { jobId, states: [], offset, limit: 100 });
      pageTimes[offset] = (performance.now() - t) / 5;
    }
    const tf = performance.now();
    for (let i = 0; i < 5; i++) await app.backend.dispatch('jobs.files', { jobId, states: ['verified'], offset: 0, limit: 100 });
    const filteredMs = (performance.now() - tf) / 5;

    const result = {
      files: FILES,
      stateChangesPerSecond: RATE,
      seconds: SECONDS,
      firstPaintAfterClickMs: Math.round(clickPaint),
      coldLoadToRowsMs: coldPaint,
      updatesDeliveredPerSecond: +(updates / updatesWindowS).toFixed(1),
      allStates: all,
      transferringFilter: inFlight,
      scrollMiddleMs,
      scrollEndMs,
      pageQueryMs: Object.fromEntries(Object.entries(pageTimes).map(([k, v]) => [k, +v.toFixed(1)])),
      filteredPageQueryMs: +filteredMs.toFixed(1),
      problems: app.problems,
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      [
        '',
        `Activity table, ${FILES.toLocaleString()} files:`,
        `  first paint after clicking Activity   ${result.firstPaintAfterClickMs} ms   (target ≤ 1000 ms)`,
        `  cold page load → rows painted         ${result.coldLoadToRowsMs} ms`,
        `While ${RATE.toLocaleString()} files/s change state (${SECONDS} s):`,
        `  jobs.update events delivered          ${result.updatesDeliveredPerSecond} /s   (backend batching, target ≤ 10)`,
        ...(
          [
            ['"All states", top of the table', all],
            ['"transferring" filter (rows in flight)', inFlight],
          ] as const
        ).map(([label, m]) =>
          [
            `  ${label}:`,
            `    React commits                       ${m.reactCommitsPerSecond} /s   (UI updates, target ≤ 10)`,
            `    frames with Activity DOM changes    ${m.domFramesPerSecond} /s; visible rows changed ${m.rowChangesPerSecond} /s`,
            `    animation frames                    ${m.framesPerSecond} /s; longest gap ${m.longestFrameGapMs} ms`,
          ].join('\n'),
        ),
        `  jump to the middle / the end of the table → rows shown: ${scrollMiddleMs} / ${scrollEndMs} ms`,
        `Backend, job paused: one 100-row page at offset 0 / 50,000 / ${(FILES - 100).toLocaleString()}: ${Object.values(result.pageQueryMs).join(' / ')} ms; filtered by state: ${result.filteredPageQueryMs} ms`,
      ].join('\n'),
    );
  } finally {
    await app.close();
    await base.close();
  }
}

await main();
