// The catalogue side of one job. Before anything is sent: the metadata is checked against the
// technique template and, for a facility catalogue, a signed-in user is required (owner of the
// dataset). While it runs: each verified file goes to the local catalogue and to the outbox.
// When the dataset is finished (a batch job done, a sync session whose acquisition ended): it is
// marked complete, the registration asked to finish, its RO-Crate written and uploaded (a crate
// that cannot be written is a job-note), and its state reported. Everything is per dataset identity (catalogue, proposal, visit, name).
import { existsSync } from 'node:fs';
import { toErrorInfo } from '../../../shared/errors.js';
import { datasetLabel, jobIdentity, type JobEvent, type JobSummary, type RegistrationStatus } from '../../../shared/model.js';
import type { CatalogueConfig } from '../../../shared/profile-catalogue-schema.js';
import type { FacilityProfile, UploadPolicy } from '../../../shared/profile-schema.js';
import type { HashPool } from '../hash/hash-pool.js';
import type { StoredJob } from '../journal/journal.js';
import type { Logger } from '../log/logger.js';
import type { Destination } from '../storage/destination.js';
import type { Clock } from '../transfer/throttle.js';
import type { CatalogueUser, MetadataValue } from './catalogue-adapter.js';
import type { CatalogueService } from './catalogue-service.js';
import { localCratePath, writeDatasetCrate } from './crate-writer.js';
import { localUser } from './local/local-adapter.js';
import type { LocalCatalogue } from './local-catalogue.js';
import { describedBy, withDescriptionOf, type RegistrationRequest } from './outbox/registration-request.js';
import { typedMetadata } from './techniques/technique-templates.js';
import { LocalCatalogueSink, TeeSink, type VerifiedFileSink } from './verified-sink.js';

/** Kept in the job's options, so a resumed job registers exactly as it was started. */
export interface JobCatalogue {
  config: CatalogueConfig;
  /** Outbox idempotency key; null for the local catalogue. */
  key: string | null;
  owner: CatalogueUser | null;
  technique: string | null;
  scientific: Record<string, MetadataValue>;
  license: string;
  facility: string | null;
  beamline: string | null;
}

export interface JobCatalogueDeps {
  catalogues: CatalogueService;
  local: LocalCatalogue;
  hashes: HashPool;
  clock: Clock;
  log: Logger;
  dataDir: string;
}

/** How long a finished upload waits for its registration before leaving it to the outbox. */
const SETTLE_MS = 60_000;

/** Checks what must hold before anything is sent; throws errors naming the field. */
export async function prepareJobCatalogue(
  d: Pick<JobCatalogueDeps, 'catalogues'>,
  profile: FacilityProfile,
  req: {
    dataset: string;
    proposal?: string | undefined;
    visit?: string | undefined;
    metadata?: Record<string, string> | undefined;
  },
  opts: { requireLogin: boolean } = { requireLogin: true },
): Promise<JobCatalogue> {
  const typed = typedMetadata(profile, req.dataset, req.metadata ?? {});
  const base = {
    config: profile.catalogue,
    technique: typed.technique,
    scientific: typed.scientific,
    license: profile.license,
    facility: profile.facility || null,
    beamline: profile.beamline || null,
  };
  if (profile.catalogue.kind === 'local') return { ...base, key: null, owner: null };
  const link = await d.catalogues.link(profile.catalogue, { retries: profile.upload.retries });
  const session = opts.requireLogin ? await link.sessions.require() : null;
  return {
    ...base,
    // A dataset registered before visits were part of the key keeps its key; no other takes it over.
    key: link.store.keyFor(link.identity, { proposal: req.proposal || null, visit: req.visit || null, name: req.dataset }),
    owner: session?.user ?? null,
  };
}

export interface JobCatalogueRun {
  sink: VerifiedFileSink;
  /** What the operator is told when the job starts (the facility catalogue and changed metadata). */
  notes: JobEvent[];
  /**
   * After the job: when `finished` (a batch job that ended done, a sync session whose acquisition
   * ended and whose backlog drained), finish what a finished dataset gets; then report the registration.
   */
  afterJob(
    summary: JobSummary,
    ctx: {
      finished: boolean;
      destination: Destination;
      keyOf: (relpath: string) => string;
      onEvent?: (e: JobEvent) => void;
      signal?: AbortSignal;
      /** Called once a finished dataset is finalised (complete, the catalogue told, the crate tried), before waiting for the catalogue. */
      onFinalised?: () => void;
    },
  ): Promise<RegistrationStatus | null>;
}

export async function openJobCatalogue(
  d: JobCatalogueDeps,
  job: StoredJob,
  jc: JobCatalogue | undefined,
  ctx: {
    rootUri: string;
    policy: UploadPolicy;
    dryRun: boolean;
    /** The job continues with -p values other than it was started with (a rerun): its registration takes them. */
    metadataChanged?: boolean;
  },
): Promise<JobCatalogueRun> {
  const m = job.metadata;
  const dryRun = ctx.dryRun || job.kind === 'dry-run';
  const identity = jobIdentity(job);
  const inputs = list(m.inputDatasets);
  const details = {
    type: m.datasetType === 'derived' ? ('derived' as const) : ('raw' as const),
    technique: jc?.technique ?? m.technique ?? null,
    operator: jc?.owner?.username ?? localUser().username,
    description: m.description ?? null,
    instrument: jc?.beamline ?? null,
    facility: jc?.facility ?? null,
    sample: m.sample ?? null,
    key: jc?.key ?? null,
    ...(inputs.length ? { inputDatasets: inputs } : {}),
  };
  // A dry run records nothing: no dataset appears in the local catalogue, no registration is made.
  const datasetId = dryRun ? null : d.local.ensureDataset(identity, job.metadata, details);
  const localSink: VerifiedFileSink =
    datasetId === null ? { fileVerified: () => undefined } : new LocalCatalogueSink(d.local, datasetId);
  const remote = jc && jc.config.kind !== 'local' && jc.key && !dryRun;
  const link = remote ? await d.catalogues.link(jc.config, { retries: ctx.policy.retries }) : null;
  const request = link && jc?.key ? requestOf(job, jc, ctx.rootUri, d.clock.now()) : null;
  let registration = link && jc?.key && request ? link.register(jc.key, request) : null;
  const notes: JobEvent[] = [];
  if (link && registration && request && ctx.metadataChanged && describedBy(registration.request) !== describedBy(request)) {
    // A rerun that continues with other -p values: the registration takes them too (a plain
    // resume keeps the stored request, which `catalogue retry -p` may have fixed).
    const said = link.revise(registration, withDescriptionOf(registration.request, request));
    registration = link.store.get(registration.id) ?? registration;
    notes.push({ type: 'job-note', jobId: job.id, kind: 'registration-updated', message: said });
  }
  if (link) link.start();
  const sink = link && registration ? new TeeSink(localSink, link.sink(registration)) : localSink;

  return {
    sink,
    notes,
    async afterJob(summary, a) {
      if (a.finished && datasetId !== null) {
        d.local.setDetails(datasetId, { status: 'complete' });
        // The catalogue is told first: the RO-Crate upload may fail or be cut short, and a
        // finished dataset must never miss its catalogue finish (the job stays `finishing` until
        // the lifecycle has done both, so an interrupted finalisation is redone, not lost).
        if (link && registration) link.finish(registration);
        try {
          const crate = await writeDatasetCrate({
            local: d.local,
            hashes: d.hashes,
            dataDir: d.dataDir,
            destination: a.destination,
            keyOf: a.keyOf,
            rootUri: ctx.rootUri,
            datasetId,
            license: jc?.license ?? 'The data policy of the facility applies.',
            identifier: registration?.remote?.id ?? jc?.key ?? null,
            metadata: jc?.scientific ?? {},
            now: d.clock.now(),
          });
          d.log.info({ jobId: job.id, dataset: job.dataset, crate: crate.uri }, 'RO-Crate written');
        } catch (e) {
          // The data is safe and recorded; only the manifest is missing. Tell the operator, do not fail the job.
          const error = toErrorInfo(e);
          d.log.warn({ jobId: job.id, dataset: job.dataset, error }, 'RO-Crate not written');
          const copy = localCratePath(d.dataDir, identity);
          a.onEvent?.({
            type: 'job-note',
            jobId: job.id,
            kind: 'crate-not-written',
            message: `the RO-Crate of dataset ${datasetLabel(identity)} was not written beside the data on "${a.destination.name}": ${error.message} The files are stored and recorded${link ? ' and the catalogue was told the dataset is finished' : ''}; only the manifest is missing${existsSync(copy) ? ` (a copy is kept at ${copy})` : ''}. Upload the same files into the dataset again once the destination is back: nothing is sent twice, and the RO-Crate is written.`,
          });
        }
        a.onFinalised?.();
      }
      if (!link || !registration) return null;
      // Stopped by the operator: report where it stands without waiting for the catalogue.
      const [status] = await link.settle([registration.id], a.signal?.aborted ? 0 : SETTLE_MS, a.signal);
      if (status) a.onEvent?.({ type: 'registration', jobId: job.id, status });
      return status ?? null;
    },
  };
}

/** "a, b ,c" → ["a", "b", "c"] (the -p form of list metadata). */
function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

function requestOf(job: StoredJob, jc: JobCatalogue, rootUri: string, now: number): RegistrationRequest {
  const m = job.metadata;
  return {
    dataset: job.dataset,
    proposal: job.proposal,
    visit: job.visit,
    type: m.datasetType === 'derived' ? 'derived' : 'raw',
    technique: jc.technique,
    sample: m.sample ?? null,
    description: m.description ?? null,
    metadata: jc.scientific,
    sourceFolder: rootUri,
    creationTime: new Date(job.createdAt || now).toISOString(),
    owner: jc.owner,
    instrument: jc.beamline,
    facility: jc.facility,
    inputDatasets: list(m.inputDatasets),
    usedSoftware: list(m.usedSoftware),
    complete: job.kind !== 'sync',
  };
}
