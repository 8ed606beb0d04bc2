// Local catalogue, batch: continue without sign-in → create an investigation → define a dataset
// with the MX technique template → upload to MinIO → every row turns verified → the dataset is in
// History with the SHA-256 of each file, and "verify now" confirms it.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { harness, makeTree, type Harness } from '../support/engine-harness.js';
import { openApp, type AppPage } from './support/app-page.js';

describe('e2e: local catalogue, batch upload', () => {
  let h: Harness;
  let app: AppPage;
  const files = {
    'run-042/frame_0001.cbf': 'frame one',
    'run-042/frame_0002.cbf': 'frame two, a little longer',
    'run-042/master.h5': Buffer.alloc(70_000, 7),
  };
  let source: string;

  beforeAll(async () => {
    h = await harness();
    source = makeTree(files);
    app = await openApp({ engine: h.engine, profile: h.profile });
  });
  afterAll(async () => {
    await app?.close();
    await h?.engine.close();
  });

  it('goes from sign-in to a verified dataset in History', async () => {
    const { page } = app;
    onTestFailed(async () => {
      await app.shot('FAILED-local-batch');
    });
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await app.shot('01-sign-in-local');
    await page.getByRole('button', { name: 'Continue with the local catalogue' }).click();

    await page.getByRole('heading', { name: 'Choose the investigation' }).waitFor();
    await page.getByLabel('Proposal / investigation id').fill('MX-2026-0142');
    await page.getByLabel('Title').fill('Lysozyme soaks');
    await app.shot('02-investigation-picker');
    await page.getByRole('button', { name: 'Create and use' }).click();

    await page.getByRole('heading', { name: 'New dataset' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('lyso_042');
    await page.getByLabel('Sample', { exact: true }).fill('lysozyme crystal 7');
    await page.getByLabel('Technique').selectOption('MX');
    await page.getByLabel('Energy').fill('12.4');
    await page.getByLabel('Detector distance').fill('250');
    await page.getByLabel('Or type a path').fill(source);
    await page.getByRole('button', { name: 'Add path' }).click();
    await expect.poll(() => page.getByTestId('preview-summary').textContent()).toMatch(/^3 files, 68\.\d KiB$/);
    await page.getByLabel('Send to').selectOption('s3');
    await app.shot('03-dataset-definition');
    await page.getByRole('button', { name: 'Start upload' }).click();

    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    const rows = page.locator('.file-row[data-state]');
    await expect
      .poll(async () => (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).join(','), {
        timeout: 30_000,
      })
      .toBe('verified,verified,verified');
    await expect.poll(() => page.locator('.job-card--selected').textContent()).toMatch(/done/);
    await app.shot('04-activity-verified');

    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('button', { name: 'lyso_042' }).click();
    await page.getByRole('heading', { name: 'lyso_042' }).waitFor();
    for (const [rel, content] of Object.entries(files)) {
      const sha = createHash('sha256').update(content).digest('hex');
      await expect.poll(() => page.locator(`tr[data-relpath="${rel}"] [data-testid="sha256"]`).textContent()).toBe(sha);
    }
    await expect.poll(() => page.getByTestId('scientific-metadata').textContent()).toMatch(/energy12\.4 keV/);
    await page.getByRole('button', { name: 'Verify now' }).click();
    await expect.poll(() => page.getByTestId('verify-result').textContent(), { timeout: 30_000 }).toBe('All 3 files verified.');
    await app.shot('05-history-detail');
    expect(app.problems).toEqual([]);
  });
});
