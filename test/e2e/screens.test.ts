// Every screen by keyboard, with a screenshot of each, in light and dark: Settings (field errors,
// connection test), Logs (level filter), History list, and the window following the OS theme.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { emptyDefinition } from '../../src/shared/dataset-definition.js';
import { harness, makeTree, type Harness } from '../support/engine-harness.js';
import { openApp, type AppPage } from './support/app-page.js';

const active = (app: AppPage) =>
  app.page.evaluate(() => {
    const el = (globalThis as unknown as { document: { activeElement: { tagName: string; textContent: string | null } | null } })
      .document.activeElement;
    return el ? `${el.tagName}:${(el.textContent ?? '').trim()}` : '';
  });

describe('e2e: screens, keyboard, light and dark', () => {
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

  it('works by keyboard from the sign-in screen', async () => {
    const { page } = app;
    onTestFailed(async () => {
      await app.shot('FAILED-keyboard');
    });
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // Tab through the page until the local-catalogue button has focus, then press Enter.
    for (let i = 0; i < 15 && (await active(app)) !== 'BUTTON:Continue with the local catalogue'; i++)
      await page.keyboard.press('Tab');
    expect(await active(app)).toBe('BUTTON:Continue with the local catalogue');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Choose the investigation' }).waitFor();
    // The new screen's heading takes focus, for screen readers and the next Tab.
    await expect.poll(() => active(app)).toBe('H1:Choose the investigation');
    expect(app.problems).toEqual([]);
  });

  it('shows Settings with errors at their fields and a connection test', async () => {
    const { page } = app;
    onTestFailed(async () => {
      await app.shot('FAILED-settings');
    });
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await expect.poll(() => page.locator('tr[data-destination="s3"]').textContent()).toMatch(/secret stored/);
    await page.locator('tr[data-destination="s3"]').getByRole('button', { name: 'Test' }).click();
    await expect
      .poll(() => page.locator('tr[data-destination="s3"] [role="status"]').textContent(), { timeout: 20_000 })
      .toMatch(/^Reachable, credentials accepted/);

    await page.getByLabel('Bandwidth schedule').fill('Mon-08:00,20Q');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('[data-field="bandwidth"] .field__error').textContent()).toBeTruthy();
    await page.getByLabel('Bandwidth schedule').fill('Mon-08:00,20M Mon-20:00,off');
    await page.getByLabel('Files at once').fill('4');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByText('Saved.').count()).toBe(1);

    await page.getByLabel('Name', { exact: true }).fill('nas');
    await page.getByLabel('Folder').fill('/mnt/nas/archive');
    await page.getByLabel('Key template').fill('{dataset}/{proposal}');
    await page.getByRole('button', { name: 'Add destination' }).click();
    await expect.poll(() => page.locator('[data-field="keyTemplate"] .field__error').textContent()).toMatch(/\{relpath\}/);
    await page.getByLabel('Key template').fill('{proposal}/{dataset}/{relpath}');
    await page.getByRole('button', { name: 'Add destination' }).click();
    await expect.poll(() => page.locator('tr[data-destination="nas"]').count()).toBe(1);
    await page.getByRole('heading', { name: 'Settings' }).scrollIntoViewIfNeeded();
    await app.shot('40-settings');
    expect(app.problems).toEqual([]);
  });

  it('shows History and Logs', async () => {
    const { page } = app;
    onTestFailed(async () => {
      await app.shot('FAILED-history-logs');
    });
    const definition = {
      ...emptyDefinition(),
      investigation: 'P-42',
      name: 'quick_one',
      sources: [makeTree({ 'x.bin': 'x', 'y.bin': 'yy' })],
      destination: 'filesystem',
    };
    const started = await app.backend.dispatch('jobs.start', { definition });
    expect(started.ok).toBe(true);
    await page.getByRole('button', { name: 'History' }).click();
    await expect.poll(() => page.locator('tr[data-dataset="quick_one"]').textContent(), { timeout: 20_000 }).toMatch(/P-42.*2/);
    await app.shot('41-history');

    await page.getByRole('button', { name: 'Logs' }).click();
    await expect.poll(() => page.locator('.log-line').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.log-list').textContent()).toMatch(/job ended/);
    await app.shot('42-logs');
    await page.getByLabel('Level at least').selectOption('error');
    await expect.poll(() => page.locator('.log-line:not([data-level="error"])').count()).toBe(0);
    expect(app.problems).toEqual([]);
  });

  it('catches a CSP violation (proof that the checks of every test can fail)', async () => {
    const before = app.problems.length;
    // An inline script added to the page, as an injection would: the CSP blocks it, the check sees it.
    const ran = await app.page.evaluate(() => {
      const g = globalThis as unknown as {
        document: { createElement(t: string): { textContent: string }; body: { append(n: unknown): void } };
        injected?: boolean;
      };
      const script = g.document.createElement('script');
      script.textContent = 'globalThis.injected = true';
      g.document.body.append(script);
      return g.injected === true;
    });
    expect(ran).toBe(false);
    await expect.poll(() => app.problems.slice(before).join('\n')).toMatch(/CSP violation: script-src/);
    app.problems.splice(before);
  });

  it('follows the OS dark setting', async () => {
    const { page } = app;
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('button', { name: 'Activity' }).click();
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    const bg = await page.evaluate(() => {
      const g = globalThis as unknown as {
        getComputedStyle(e: unknown): { backgroundColor: string };
        document: { body: unknown };
      };
      return g.getComputedStyle(g.document.body).backgroundColor;
    });
    expect(bg).toBe('rgb(15, 18, 23)');
    await app.shot('43-activity-dark');
    await page.getByRole('button', { name: 'New dataset' }).click();
    await app.shot('44-dataset-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(app.problems).toEqual([]);
  });

  it('picks the input datasets of a derived dataset', async () => {
    const { page } = app;
    onTestFailed(async () => {
      await app.shot('FAILED-derived');
    });
    await page.getByRole('button', { name: 'New dataset' }).click();
    // The investigation of the dataset recorded above is offered by the local catalogue.
    await page.getByRole('button', { name: /^P-42/ }).click();
    await page.getByLabel('Name', { exact: true }).fill('quick_one_reduced');
    await page.getByRole('radio', { name: /Derived/ }).check();
    await page.getByLabel('Or type a path').fill(makeTree({ 'reduced.h5': 'reduced' }));
    await page.getByRole('button', { name: 'Add path' }).click();
    await page.getByLabel('Send to').selectOption('filesystem');
    await page.getByRole('button', { name: 'Start upload' }).click();
    await expect
      .poll(() => page.locator('[data-field="inputDatasets"] .field__error').textContent())
      .toMatch(/names the datasets it was made from/);
    await page.getByLabel('Input datasets').fill('quick_one');
    await page.getByLabel('Input datasets').press('Enter');
    await expect.poll(() => page.getByRole('list', { name: 'Input datasets' }).textContent()).toMatch(/quick_one/);
    await expect.poll(() => page.locator('[data-field="inputDatasets"] .field__error').count()).toBe(0);
    await app.shot('45-derived-dataset');
    await page.getByRole('button', { name: 'Start upload' }).click();
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    await expect
      .poll(() => page.locator('.job-card--selected').textContent(), { timeout: 20_000 })
      .toMatch(/quick_one_reduced.*done/s);
    expect(app.problems).toEqual([]);
  });
});
