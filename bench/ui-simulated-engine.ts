// The engine of the UI benchmark: the real Engine (journal, services), whose upload() creates a
// job of N files in the journal and then changes the state of `rate` files per second, writing
// each change to the journal and emitting the same events as the job runner (file-state, and a
// progress event every 250 ms with the journal's totals). The app backend runs it like any job,
// so the job manager, the batching, the IPC contract and the renderer are all the real ones;
// only the bytes are not sent (the benchmark measures the UI, not the network).
import type { JobSummary, FileState } from '../src/shared/model.js';
import { uploadPolicySchema, type FacilityProfile } from '../src/shared/profile-schema.js';
import { Engine, type UploadRequest } from '../src/main/engine/engine.js';
import { summarise } from '../src/main/engine/jobs/job-runner.js';

export interface SimulationOptions {
  files: number;
  /** State changes per second. */
  rate: number;
  /** Stop changing states after this long (ms). */
  durationMs: number;
}

export class SimulatedEngine extends Engine {
  constructor(
    engine: Engine,
    private readonly sim: SimulationOptions,
  ) {
    super(engine.services);
  }

  override async upload(_profile: FacilityProfile, req: UploadRequest): Promise<JobSummary> {
    const { journal } = this.services;
    const started = Date.now();
    const job = journal.createJob({
      kind: 'batch',
      dataset: req.dataset,
      proposal: req.proposal ?? null,
      visit: null,
      catalogue: 'local',
      destination: req.destination ?? 'local',
      sources: req.sources,
      metadata: req.metadata ?? {},
      options: {
        include: [],
        exclude: [],
        followSymlinks: false,
        keyTemplate: '{dataset}/{relpath}',
        vars: { dataset: req.dataset, date: new Date(started).toISOString().slice(0, 10) },
        destinationConfig: { kind: 'filesystem', root: '/nowhere', keyTemplate: '{dataset}/{relpath}' },
        adhoc: false,
        policy: uploadPolicySchema.parse({}),
      },
    });
    const emit = req.onEvent ?? (() => undefined);
    emit({ type: 'job-started', jobId: job.id, dataset: job.dataset, destination: job.destination, resumed: false });
    const batch: { path: string; relpath: string; size: number; mtimeMs: number }[] = [];
    for (let i = 0; i < this.sim.files; i++) {
      const relpath = `run-${String(Math.floor(i / 1000)).padStart(3, '0')}/frame_${String(i).padStart(6, '0')}.cbf`;
      batch.push({ path: `/data/${relpath}`, relpath, size: 6_291_456 + (i % 97) * 1024, mtimeMs: started });
      if (batch.length === 5000) {
        journal.addScannedFiles(job.id, batch);
        batch.length = 0;
      }
    }
    journal.addScannedFiles(job.id, batch);
    emit({ type: 'scan-done', jobId: job.id, files: this.sim.files, bytes: 0, notes: [] });
    journal.setJobState(job.id, 'running');

    const ids = journal.files(job.id).map((f) => ({ id: f.id, relpath: f.relpath }));
    // Each step moves the next file one state along: discovered → transferring → verified.
    const next: Record<string, FileState> = { discovered: 'transferring', transferring: 'verified' };
    const states = new Map<number, FileState>();
    let cursor = 0;
    let lastProgress = 0;
    const tickMs = 10;
    const perTick = Math.max(1, Math.round((this.sim.rate * tickMs) / 1000));
    const until = Date.now() + this.sim.durationMs;
    let due = Date.now();
    while (Date.now() < until && !req.signal?.aborted) {
      journal.batch(() => {
        for (let k = 0; k < perTick; k++) {
          // Half the changes start files, half finish the ones started 1,000 changes ago.
          const f = ids[k % 2 === 0 ? cursor % ids.length : Math.max(0, cursor - 500) % ids.length]!;
          const state = next[states.get(f.id) ?? 'discovered'] ?? 'verified';
          states.set(f.id, state);
          journal.setFileState(f.id, state, state === 'verified' ? { sha256: 'ab'.repeat(32) } : {});
          emit({ type: 'file-state', jobId: job.id, relpath: f.relpath, state });
          if (k % 2 === 0) cursor++;
        }
      });
      if (Date.now() - lastProgress >= 250) {
        lastProgress = Date.now();
        const t = journal.totals(job.id);
        emit({
          type: 'progress',
          progress: {
            jobId: job.id,
            filesTotal: t.files,
            filesDone: t.doneFiles,
            bytesTotal: t.bytes,
            bytesDone: t.doneBytes,
            rate: 1.2e9,
            eta: 600,
            counts: journal.counts(job.id),
          },
        });
      }
      due += tickMs;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
    journal.setJobState(job.id, 'paused', 'stopped by the operator; benchmark finished.');
    const summary = summarise(journal, job.id, 0, Date.now() - started);
    emit({ type: 'job-finished', summary });
    return summary;
  }
}
