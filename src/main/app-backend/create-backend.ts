// The app backend, wired here and nowhere else: the engine's services behind the IPC contract,
// for Electron's main process and for the end-to-end harness alike (no Electron import, so it
// runs and is tested in plain Node). Hosts give it the engine, the profile and a ShellPort.
import type { FacilityProfile } from '../../shared/profile-schema.js';
import type { Engine } from '../engine/engine.js';
import { AppSettingsStore } from './app-settings.js';
import { CatalogueGateway } from './catalogue-gateway.js';
import { commandHandlers } from './command-handlers.js';
import { createDispatcher, type Dispatch } from './dispatcher.js';
import { EventBus } from './event-bus.js';
import { FilePages } from './file-pages.js';
import { HistoryService } from './history-service.js';
import { JobManager } from './job-manager.js';
import { jobView } from './job-views.js';
import { realScheduler, type Scheduler, type ShellPort } from './ports.js';
import { PreviewService } from './preview-service.js';
import { ProgressHub } from './progress-hub.js';
import { SettingsService } from './settings-service.js';
import { engineSync, type SyncGateway } from './sync-gateway.js';
import type { JobView } from '../../shared/app-model.js';

export interface BackendOptions {
  engine: Engine;
  profile: FacilityProfile;
  /** Where the profile came from, for Settings ("embedded default" or a path). */
  profileSource: string;
  shell: ShellPort;
  version: string;
  scheduler?: Scheduler;
  sync?: SyncGateway;
}

export interface AppBackend {
  dispatch: Dispatch;
  events: EventBus;
  jobs: JobManager;
  /** Views of the given jobs (the tray and notifier read these). */
  views(ids: number[]): JobView[];
  /** Pauses running jobs, waits for their journal writes, sends the last update. */
  shutdown(): Promise<void>;
}

export function createBackend(o: BackendOptions): AppBackend {
  const { engine } = o;
  const { journal, log } = engine.services;
  // Each backend service gets only the parts of the engine it names (OperationDeps).
  const ops = engine.operationDeps();
  const scheduler = o.scheduler ?? realScheduler;
  const store = new AppSettingsStore(ops.dataDir, (m) => log.warn(m));
  const settings = new SettingsService(ops, o.profile, o.profileSource, store, o.shell);
  const catalogue = new CatalogueGateway(ops, store, () => settings.profile());
  // What jobs run with: the operator's settings, and the local catalogue when chosen.
  const profile = () => catalogue.profileFor(settings.profile());
  const sync = o.sync ?? engineSync(engine);
  const events = new EventBus();

  const views = (ids: number[]): JobView[] =>
    ids.flatMap((id) => {
      const job = journal.record(id);
      return job ? [jobView(journal, job, hub.liveJob(id))] : [];
    });
  const hub: ProgressHub = new ProgressHub({ scheduler, views, emit: (u) => events.emit('jobs.update', u) });
  const jobs = new JobManager({ engine, journal, profile, hub, sync, log, view: (id) => views([id])[0]! });
  const preview = new PreviewService(profile);
  const history = new HistoryService(ops, profile, (dataset) => catalogue.registrations(dataset));

  const dispatch = createDispatcher(
    commandHandlers({
      engine,
      version: o.version,
      profileSource: o.profileSource,
      shell: o.shell,
      bus: events,
      profile,
      jobs,
      preview,
      history,
      settings,
      catalogue,
      sync,
      views,
      files: new FilePages(journal),
    }),
    log,
  );

  return {
    dispatch,
    events,
    jobs,
    views,
    async shutdown() {
      preview.dispose();
      await jobs.shutdown();
      hub.dispose();
    },
  };
}
