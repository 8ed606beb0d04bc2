// The desktop app and the command line on the same dataset, on one workstation: the app backend
// (src/main/app-backend, bound in-process the way the e2e tests bind it, with its own Engine on
// the operator's BEAMDROP_HOME) runs a sync session while the operator, in a terminal, tries to
// start the same dataset again (refused: no second run) and then ends the acquisition with
// `beamdrop stop JOB`. The app's session finishes it — the dataset is finalised once: one crate,
// one SciCat dataset with each file once, one job in the journal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/shared/app-model.js';
import { emptyDefinition, type DatasetDefinition } from '../../src/shared/dataset-definition.js';
import type { Result } from '../../src/shared/ipc-contract.js';
import { createBackend, type AppBackend } from '../../src/main/app-backend/create-backend.js';
import { Engine } from '../../src/main/engine/engine.js';
import { loadProfile } from '../../src/main/engine/profile/load-profile.js';
import { SCICAT_USER, journalFiles, journalJobs, scicatCatalogue } from '../support/journey-catalogues.js';
import { killLeftovers, told, until } from '../support/journey-operator.js';
import { startScicatContractServer, type ScicatContractServer } from '../support/scicat-contract-server.js';
import type { Hashed } from '../support/journey-storage.js';
import {
  closeJourneys,
  expectCrate,
  expectJournalDone,
  expectLocalDataset,
  expectStorageHolds,
  newJourney,
} from '../support/journey-world.js';
import { expectScicatFinished } from './expect-catalogues.js';
import { SMALL_ACQUISITION, idArgs, startWriter } from './steps.js';

let server: ScicatContractServer;
const cleanup: (() => Promise<void>)[] = [];
beforeAll(async () => {
  server = await startScicatContractServer({ users: [SCICAT_USER] });
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await killLeftovers();
  closeJourneys();
  await server.close();
});

describe('journeys · the desktop app and the CLI on one dataset', () => {
  it('a sync session started in the app is not started twice, is stopped from the CLI and finalised once', async () => {
    const catalogue = scicatCatalogue(server, 'v3');
    const id = { dataset: 'app-and-cli', proposal: 'P5001' };
    catalogue.addProposal(id.proposal);
    const j = await newJourney({ destination: 's3', catalogue });
    await j.login(); // the app shares the CLI's session (the OS keychain)

    const engine = Engine.open({ home: j.home, env: { ...process.env, ...j.dest.env } });
    const backend: AppBackend = createBackend({
      engine,
      profile: await loadProfile(j.profile),
      profileSource: j.profile,
      version: 'journey',
      shell: { pickPaths: async () => [], setStartAtLogin: () => undefined },
    });
    cleanup.push(async () => {
      await backend.shutdown();
      await engine.close();
    });
    const call = async <T>(command: string, request: unknown): Promise<T> => {
      const r = (await backend.dispatch(command, request)) as Result<T>;
      if (!r.ok) throw new Error(`${command}: ${r.error.code}: ${r.error.message}`);
      return r.value;
    };
    const view = async (jobId: number) => (await call<JobView[]>('jobs.list', { limit: 50 })).find((x) => x.id === jobId);

    const { dir } = j.tree({});
    const definition: DatasetDefinition = {
      ...emptyDefinition(),
      investigation: id.proposal,
      name: id.dataset,
      sample: 'ferritin',
      sources: [dir],
      mode: 'sync',
      completeness: { quietSeconds: 1, markerMatch: '', marker: '' },
      destination: j.dest.name,
    };
    const { jobId } = await call<{ jobId: number }>('jobs.start', { definition });
    await expect.poll(async () => (await view(jobId))?.running, { timeout: 20_000 }).toBe(true);
    const writer = startWriter({ out: dir, steps: SMALL_ACQUISITION(10) });

    // A second start of the running sync dataset, in the app itself: refused, naming the field.
    expect(await backend.dispatch('jobs.start', { definition })).toMatchObject({ ok: false, error: { field: 'name' } });
    // The same dataset from a terminal, by watch and by upload: refused, naming the running job.
    const watchAgain = await j.op.run(['watch', dir, ...idArgs(id), '-p', 'sample=ferritin']);
    expect(watchAgain.code, told(watchAgain)).toBe(2);
    expect(watchAgain.stderr).toMatch(new RegExp(`job ${jobId}`));
    const uploadAgain = await j.op.run(['upload', dir, ...idArgs(id), '-p', 'sample=ferritin']);
    expect(uploadAgain.code, told(uploadAgain)).toBe(2);
    expect(uploadAgain.stderr).toMatch(new RegExp(`job ${jobId}`));

    await writer.done;
    const files = new Map(writer.files.map((f): [string, Hashed] => [f.relpath, { size: f.size, sha256: f.sha256 }]));
    await until(
      'every written file verified in the app',
      () => {
        const done = new Set(
          journalFiles(j.home, jobId)
            .filter((f) => f.state === 'verified' || f.state === 'registered')
            .map((f) => f.relpath),
        );
        return [...files.keys()].every((r) => done.has(r));
      },
      90_000,
    );

    // The operator ends the acquisition from the terminal; the app's session finishes it.
    const stop = await j.op.run(['stop', String(jobId)]);
    expect(stop.code, told(stop)).toBe(0);
    expect(stop.stdout).toMatch(new RegExp(`Job ${jobId} is done`));
    await expect.poll(async () => (await view(jobId))?.running, { timeout: 30_000 }).toBe(false);
    expect(await view(jobId)).toMatchObject({ state: 'done' });

    const out = { jobId, id, files };
    expect(
      journalJobs(j.home).map((x) => [x.id, x.dataset]),
      'one job for the dataset: no second run',
    ).toEqual([[jobId, id.dataset]]);
    await expectStorageHolds(j, [out]);
    await expectScicatFinished(j, server, out, { version: 'v3', sample: 'ferritin' });
    await expectCrate(j, out, { sample: 'ferritin' });
    expectLocalDataset(j, out, { sample: 'ferritin' });
    expectJournalDone(j, jobId, out, 'registered');
  });
});
