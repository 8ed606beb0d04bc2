// SciCat catalogue, batch: sign in at the SciCat contract server → search and pick a proposal →
// define a dataset with the SAXS template → upload to MinIO → every row turns verified → the
// dataset is in History with each file's SHA-256 and the PID SciCat gave it.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { profileSchema } from '../../src/shared/profile-schema.js';
import { harness, makeTree, type Harness } from '../support/engine-harness.js';
import { startScicatContractServer, type ScicatContractServer } from '../support/scicat-contract-server.js';
import { openApp, type AppPage } from './support/app-page.js';

describe('e2e: SciCat sign-in, batch upload, History with PID', () => {
  let h: Harness;
  let scicat: ScicatContractServer;
  let app: AppPage;
  const files = {
    'buffer_0001.edf': 'buffer frame',
    'sample_0001.edf': 'sample frame with protein',
    'sample_0002.edf': Buffer.alloc(40_000, 3),
  };

  beforeAll(async () => {
    h = await harness();
    scicat = await startScicatContractServer({
      users: [{ username: 'alice', password: 'pw-alice', email: 'alice@example.org', groups: ['p100'] }],
    });
    scicat.proposals.set('p100', {
      proposalId: 'p100',
      title: 'Protein folding under pressure',
      ownerGroup: 'p100',
      accessGroups: [],
      pi_email: 'pi@example.org',
      email: 'pi@example.org',
    });
    const profile = profileSchema.parse({ ...h.profile, catalogue: { kind: 'scicat', url: scicat.url, apiVersion: 'v3' } });
    app = await openApp({ engine: h.engine, profile });
  });
  afterAll(async () => {
    await app?.close();
    await h?.engine.close();
    await scicat?.close();
  });

  it('registers the dataset and shows its PID and checksums', async () => {
    const { page } = app;
    onTestFailed(async () => {
      await app.shot('FAILED-scicat-batch');
    });
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('User name').fill('alice');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/refused|401|password/i);
    await page.getByLabel('Password').fill('pw-alice');
    await app.shot('10-sign-in-scicat');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('heading', { name: 'Choose the investigation' }).waitFor();
    await expect.poll(() => page.locator('.topbar__session').textContent()).toMatch(/Signed in as alice/);
    await page.getByLabel('Search investigations').fill('p1');
    await page.getByRole('button', { name: /p100/ }).waitFor();
    await app.shot('11-investigation-scicat');
    await page.getByRole('button', { name: /p100/ }).click();

    await page.getByRole('heading', { name: 'New dataset' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('saxs_run_7');
    await page.getByLabel('Technique').selectOption('SAXS');
    await page.getByLabel('Sample', { exact: true }).fill('BSA 5 mg/ml');
    await page.getByLabel('Energy').fill('12');
    await page.getByLabel('Sample environment').selectOption('capillary');
    await page.getByLabel('Or type a path').fill(makeTree(files));
    await page.getByLabel('Or type a path').press('Enter');
    await expect.poll(() => page.getByTestId('preview-summary').textContent()).toMatch(/^3 files/);
    await page.getByLabel('Send to').selectOption('s3');
    await page.getByRole('button', { name: 'Start upload' }).click();

    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    // Verified at the destination, then registered once SciCat has the files.
    await expect
      .poll(
        async () =>
          (await page.locator('.file-row[data-state]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).join(
            ',',
          ),
        { timeout: 30_000 },
      )
      .toMatch(/^(verified|registered)(,(verified|registered)){2}$/);
    await expect.poll(() => page.locator('.job-card--selected').textContent(), { timeout: 60_000 }).toMatch(/done/);
    await app.shot('12-activity-scicat');

    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('button', { name: 'saxs_run_7' }).click();
    for (const [rel, content] of Object.entries(files)) {
      await expect
        .poll(() => page.locator(`tr[data-relpath="${rel}"] [data-testid="sha256"]`).textContent())
        .toBe(createHash('sha256').update(content).digest('hex'));
    }
    const pid = [...scicat.datasets.keys()][0];
    expect(pid).toMatch(/^20\.500\.12269\//);
    await expect.poll(() => page.getByTestId('pid').first().textContent(), { timeout: 30_000 }).toBe(pid);
    await app.shot('13-history-scicat');
    expect(app.problems).toEqual([]);
  });
});
