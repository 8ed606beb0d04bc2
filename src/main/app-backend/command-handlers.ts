// The handler of every command of the IPC contract: each one line or a few, calling the services
// the backend wired. Input has already passed its schema (dispatcher.ts).
import type { JobView } from '../../shared/app-model.js';
import { BeamdropError, type ErrorCode } from '../../shared/errors.js';
import { metadataOf, validateDefinition, type DatasetDefinition } from '../../shared/dataset-definition.js';
import type { FacilityProfile } from '../../shared/profile-schema.js';
import type { Engine } from '../engine/engine.js';
import type { CatalogueGateway } from './catalogue-gateway.js';
import type { CommandHandlers } from './dispatcher.js';
import type { EventBus } from './event-bus.js';
import type { HistoryService } from './history-service.js';
import type { JobManager, JobStart } from './job-manager.js';
import type { FilePages } from './file-pages.js';
import { readRecentLog } from './log-reader.js';
import type { ShellPort } from './ports.js';
import { checkSources, type PreviewService } from './preview-service.js';
import type { SettingsService } from './settings-service.js';
import type { SyncGateway } from './sync-gateway.js';

export interface HandlerDeps {
  engine: Engine;
  version: string;
  profileSource: string;
  shell: ShellPort;
  profile(): FacilityProfile;
  bus: EventBus;
  jobs: JobManager;
  preview: PreviewService;
  history: HistoryService;
  settings: SettingsService;
  catalogue: CatalogueGateway;
  sync: SyncGateway;
  views(ids: number[]): JobView[];
  files: FilePages;
}

export function commandHandlers(d: HandlerDeps): CommandHandlers {
  const { journal, log } = d.engine.services;
  const sessionChanged = <T extends Awaited<ReturnType<CatalogueGateway['session']>>>(s: T): T => {
    d.bus.emit('session.changed', s);
    return s;
  };

  return {
    'app.info': () => ({
      version: d.version,
      platform: process.platform,
      dataDir: d.engine.services.paths.root,
      profileSource: d.profileSource,
    }),
    'shell.pickPaths': (r) => d.shell.pickPaths(r.kind),

    'session.get': () => d.catalogue.session(),
    'session.signIn': async (r) => sessionChanged(await d.catalogue.signIn(r.username, r.password)),
    'session.useLocal': async () => sessionChanged(await d.catalogue.useLocal()),
    'session.signOut': async () => sessionChanged(await d.catalogue.signOut()),
    'investigations.search': (r) => d.catalogue.investigations(r.query),
    'investigations.create': (r) => d.catalogue.createInvestigation(r.id.trim(), r.title),
    'techniques.list': () => d.catalogue.techniques(),

    'dataset.preview': (r) => d.preview.preview(r),
    'jobs.start': async (r) => ({ jobId: await startJob(r.definition, d) }),
    'jobs.list': (r) => d.views(journal.records(r.limit).map((j) => j.id)),
    'jobs.files': (r) => {
      d.engine.requireJob(r.jobId);
      return d.files.page(r.jobId, r.states, r.offset, r.limit);
    },
    'jobs.pause': (r) => d.jobs.pause(r.jobId),
    'jobs.resume': (r) => d.jobs.resume(r.jobId),
    'jobs.retryFailed': (r) => d.jobs.retryFailed(r.jobId),
    'jobs.stop': (r) => d.jobs.stop(r.jobId),
    'jobs.pauseAll': () => d.jobs.pauseAll(),
    'jobs.resumeAll': () => d.jobs.resumeAll(),

    'history.search': (r) => d.history.search(r.query),
    'history.dataset': (r) =>
      d.history.dataset({ name: r.name, proposal: r.proposal, visit: r.visit, catalogue: r.catalogue }, r.offset, r.limit),
    'history.verify': (r) =>
      d.history.verify({ name: r.name, proposal: r.proposal, visit: r.visit, catalogue: r.catalogue }, r.deep),

    'settings.get': () => d.settings.view(),
    'settings.update': (r) => d.settings.update(r),
    'settings.saveDestination': (r) => d.settings.saveDestination(r.name, r.config),
    'settings.removeDestination': (r) => d.settings.removeDestination(r.name),
    'settings.setSecret': (r) => d.settings.setSecret(r.destination, r.secret),
    'settings.deleteSecret': (r) => d.settings.deleteSecret(r.destination),
    'settings.testDestination': (r) => d.settings.test(r.destination),

    'logs.recent': (r) => readRecentLog(`${d.engine.services.paths.logs}/beamdrop.log`, r),
    'logs.write': (r) => {
      log[r.level]({ source: 'renderer', ...(r.context ?? {}) }, r.message);
      return null;
    },
  };
}

/** The error code of a problem validateDefinition found, from the field it belongs to. */
function codeOfField(field: string): ErrorCode {
  const head = field.split('.')[0]!;
  if (head === 'name' || head === 'investigation' || head === 'visit') return 'dataset-name-invalid';
  if (head === 'sources') return 'source-invalid';
  if (head === 'destination') return 'destination-invalid';
  if (head === 'completeness') return 'usage';
  return 'metadata-invalid'; // metadata.*, sample, description, technique, inputDatasets
}

/** Validates the definition exactly as the form does, checks the paths and the sign-in, and builds the engine request. */
async function jobStartOf(def: DatasetDefinition, d: HandlerDeps): Promise<JobStart> {
  const templates = def.technique ? await d.catalogue.techniques() : [];
  const template = def.technique ? (templates.find((t) => t.id === def.technique) ?? null) : null;
  const profile = d.profile();
  const errors = validateDefinition(def, { template, destinations: Object.keys(profile.destinations) });
  const first = errors[0];
  if (first) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem(s))` : '';
    throw new BeamdropError({
      code: codeOfField(first.field),
      retryable: false,
      field: first.field,
      message: first.message + more,
    });
  }
  await checkSources(def.sources);
  await d.catalogue.checkCanStart();
  return {
    mode: def.mode,
    technique: def.technique,
    completeness: def.completeness,
    request: {
      sources: def.sources.map((s) => s.trim()),
      dataset: def.name.trim(),
      proposal: def.investigation.trim(),
      ...(def.visit.trim() ? { visit: def.visit.trim() } : {}),
      destination: def.destination,
      include: def.include.filter((x) => x.trim()),
      exclude: def.exclude.filter((x) => x.trim()),
      metadata: metadataOf(def, template),
      followSymlinks: def.followSymlinks,
    },
  };
}

/** Starts the job; a metadata error of the engine names the template field, the form's is `metadata.<field>`. */
async function startJob(def: DatasetDefinition, d: HandlerDeps): Promise<number> {
  const start = await jobStartOf(def, d);
  try {
    return await d.jobs.start(start);
  } catch (e) {
    if (e instanceof BeamdropError && e.field && Object.hasOwn(def.metadata, e.field)) {
      throw new BeamdropError({ ...e.toJSON(), field: `metadata.${e.field}` }, { cause: e });
    }
    throw e;
  }
}
