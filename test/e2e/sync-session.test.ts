// Sync mode: start a session on an acquisition folder, write files into it while the page is
// open, watch the rows appear and turn verified live, then stop the acquisition: the backlog is
// sent and the dataset finalised.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { harness, makeTree, type Harness } from '../support/engine-harness.js';
import { openApp, type AppPage } from './support/app-page.js';

const states = (app: AppPage) =>
  app.page
    .locator('.file-row[data-state]')
    .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-relpath')}=${e.getAttribute('data-state')}`).join(' '));

describe('e2e: sync session with files appearing live', () => {
  let h: Harness;
  let app: AppPage;

  beforeAll(async () => {
    h = await harness();
    app = await openApp({ engine: h.engine, profile: h.profile });
  });
  afterAll(async () => {
    await app?.close();
    await h?.engine.close();
  });

  it('uploads files as they are written and finishes on stop', async () => {
    const { page } = app;
    onTestFailed(async () => {
      await app.shot('FAILED-sync-session');
    });
    const folder = makeTree({ 'scan_0001.h5': 'first frame, written before the session' });
    await page.getByRole('button', { name: 'Continue with the local catalogue' }).click();
    await page.getByLabel('Proposal / investigation id').fill('SAXS-2026-11');
    await page.getByRole('button', { name: 'Create and use' }).click();
    await page.getByLabel('Name', { exact: true }).fill('live_acq');
    await page.getByLabel('Or type a path').fill(folder);
    await page.getByRole('button', { name: 'Add path' }).click();
    await page.getByRole('radio', { name: /Sync/ }).check();
    await page.getByLabel('Complete after').fill('0.5');
    await page.getByLabel('Send to').selectOption('s3');
    await app.shot('30-sync-definition');
    await page.getByRole('button', { name: 'Start sync session' }).click();

    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    await expect.poll(() => states(app), { timeout: 30_000 }).toBe('scan_0001.h5=verified');
    const card = page.locator('.job-card--selected');
    await expect.poll(() => card.textContent()).toMatch(/sync.*running.*Backlog/s);

    // The detector writes while the operator watches.
    for (let i = 2; i <= 4; i++) writeFileSync(join(folder, `scan_000${i}.h5`), `frame ${i} `.repeat(1000 * i));
    await expect
      .poll(() => states(app), { timeout: 30_000 })
      .toBe('scan_0001.h5=verified scan_0002.h5=verified scan_0003.h5=verified scan_0004.h5=verified');
    // The session's status (every second) catches up: nothing waits any more.
    await expect.poll(() => card.textContent(), { timeout: 10_000 }).toMatch(/Backlog0 files/);
    await app.shot('31-sync-live');

    writeFileSync(join(folder, 'scan_0005.h5'), 'the last frame');
    await page.getByRole('button', { name: 'Stop acquisition' }).click();
    await expect.poll(() => card.textContent(), { timeout: 60_000 }).toMatch(/done/);
    await expect.poll(() => states(app)).toMatch(/scan_0005\.h5=verified$/);
    await app.shot('32-sync-stopped');
    expect(app.problems).toEqual([]);
  });
});
