// What goes wrong is shown where it belongs: a metadata value the technique template refuses
// appears under its field before anything starts (and nothing starts), and a file that fails
// shows its reason in the Activity table and in its detail panel.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { harness, makeTree, type Harness } from '../support/engine-harness.js';
import { openApp, type AppPage } from './support/app-page.js';

describe('e2e: errors at the right place', () => {
  let h: Harness;
  let app: AppPage;

  beforeAll(async () => {
    h = await harness();
    app = await openApp({ engine: h.engine, profile: h.profile });
    await app.page.getByRole('button', { name: 'Continue with the local catalogue' }).click();
    await app.page.getByLabel('Proposal / investigation id').fill('CRYO-7');
    await app.page.getByRole('button', { name: 'Create and use' }).click();
    await app.page.getByRole('heading', { name: 'New dataset' }).waitFor();
  });
  afterAll(async () => {
    await app?.close();
    await h?.engine.close();
  });

  it('shows a metadata error at its field and starts nothing', async () => {
    const { page } = app;
    onTestFailed(async () => {
      await app.shot('FAILED-metadata-error');
    });
    await page.getByLabel('Name', { exact: true }).fill('grid_3_tomo');
    await page.getByLabel('Technique').selectOption('cryo-EM');
    await page.getByLabel('Sample', { exact: true }).fill('apoferritin grid 3');
    await page.getByLabel('Voltage').selectOption('300');
    await page.getByLabel('Magnification').fill('81000');
    await page.getByLabel('Pixel size').fill('0,83');
    await page.getByLabel('Dose', { exact: true }).fill('120');
    await page.getByLabel('Or type a path').fill(makeTree({ 'TS_01.mrc': 'tilt series' }));
    await page.getByRole('button', { name: 'Add path' }).click();
    await page.getByLabel('Send to').selectOption('filesystem');
    await page.getByRole('button', { name: 'Start upload' }).click();

    const field = page.locator('[data-field="metadata.pixel_size"]');
    await expect.poll(() => field.locator('.field__error').textContent()).toBe('Pixel size must be a number (in Å), e.g. 12.4.');
    await expect.poll(() => field.locator('input').getAttribute('aria-invalid')).toBe('true');
    // Focus went to the first wrong field, and the summary says how many problems remain.
    await expect
      .poll(() =>
        page.evaluate(() =>
          (
            globalThis as unknown as {
              document: { activeElement: { closest(s: string): { getAttribute(n: string): string | null } | null } | null };
            }
          ).document.activeElement
            ?.closest('[data-field]')
            ?.getAttribute('data-field'),
        ),
      )
      .toBe('metadata.pixel_size');
    await expect.poll(() => page.locator('.form__actions').textContent()).toMatch(/1 problem to fix/);
    await field.scrollIntoViewIfNeeded();
    await app.shot('20-metadata-error-at-field');
    expect(((await app.backend.dispatch('jobs.list', { limit: 10 })) as { ok: true; value: unknown[] }).value).toEqual([]);

    await page.getByLabel('Pixel size').fill('0.83');
    await expect.poll(() => field.locator('.field__error').count()).toBe(0);
    expect(app.problems).toEqual([]);
  });

  it('shows the reason of a failed file', async () => {
    const { page } = app;
    onTestFailed(async () => {
      await app.shot('FAILED-failed-file');
    });
    // Different bytes already at the key of one file: Beamdrop never overwrites, the file fails.
    const source = makeTree({ 'a.dat': 'alpha', 'b.dat': 'bravo', 'c.dat': 'charlie' });
    mkdirSync(join(h.archive, 'CRYO-7', 'conflicting'), { recursive: true });
    writeFileSync(join(h.archive, 'CRYO-7', 'conflicting', 'b.dat'), 'something else entirely');

    await page.getByRole('button', { name: 'New dataset' }).click();
    await page.getByLabel('Name', { exact: true }).fill('conflicting');
    await page.getByLabel('Technique').selectOption('');
    await page.getByRole('button', { name: /^Remove / }).click();
    await page.getByLabel('Or type a path').fill(source);
    await page.getByRole('button', { name: 'Add path' }).click();
    await expect.poll(() => page.getByTestId('preview-summary').textContent()).toMatch(/^3 files/);
    await page.getByRole('button', { name: 'Start upload' }).click();

    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    const failedRow = page.locator('.file-row[data-relpath="b.dat"]');
    await expect.poll(() => failedRow.getAttribute('data-state'), { timeout: 30_000 }).toBe('failed');
    await expect
      .poll(() => failedRow.locator('.file-row__detail').textContent())
      .toMatch(/^conflict: CRYO-7\/conflicting\/b\.dat already exists on "filesystem" with different content/);
    await expect
      .poll(() => page.locator('.job-card--selected').textContent(), { timeout: 30_000 })
      .toMatch(/done.*needs attention/);
    await page.getByLabel('Show').selectOption('failed');
    await expect.poll(() => page.locator('.file-row[data-state]').count()).toBe(1);
    await failedRow.getByRole('button', { name: 'b.dat' }).click();
    await expect
      .poll(() => page.getByTestId('failure-reason').textContent())
      .toMatch(/left untouched\. Rename the dataset or file, or remove the remote copy deliberately\./);
    await app.shot('21-failed-file-reason');
    expect(app.problems).toEqual([]);
  });
});
