// The one IPC contract of the desktop app, typed once and used by main, preload, renderer and the
// end-to-end harness. Commands are request/response (invoke); each request has a zod schema, so
// main validates what arrives before any handler runs. Responses come back as a Result, because
// Electron's invoke keeps only the message of a thrown error and the UI needs the whole ErrorInfo
// (code, field, file). Events flow one way, main → renderer, batched by the backend; every
// subscription returns its unsubscribe.
import { z } from 'zod';
import type {
  AppInfo,
  DatasetDetailView,
  DatasetSummaryView,
  DestinationView,
  FilePage,
  InvestigationView,
  JobView,
  JobsUpdate,
  LogLine,
  SessionView,
  SettingsView,
  SourcePreview,
  TechniqueTemplateView,
  VerifyReport,
} from './app-model.js';
import type { DatasetDefinition } from './dataset-definition.js';
import type { ErrorInfo } from './errors.js';
import type { CommandName, EventName } from './ipc-channels.js';
import { FILE_STATES } from './model.js';

export {
  COMMAND_NAMES,
  EVENT_NAMES,
  commandChannel,
  eventChannel,
  isCommandName,
  isEventName,
  type CommandName,
  type EventName,
} from './ipc-channels.js';

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** The dataset definition with the limits of every field; must describe exactly DatasetDefinition. */
const datasetDefinitionSchema = z.strictObject({
  investigation: z.string().max(200),
  visit: z.string().max(200),
  name: z.string().max(250),
  description: z.string().max(10_000),
  sample: z.string().max(500),
  technique: z.string().max(200).nullable(),
  metadata: z.record(z.string(), z.string().max(10_000)),
  type: z.enum(['raw', 'derived']),
  inputDatasets: z.array(z.string().max(250)).max(1000),
  sources: z.array(z.string().max(4096)).max(1000),
  include: z.array(z.string().max(500)).max(100),
  exclude: z.array(z.string().max(500)).max(100),
  followSymlinks: z.boolean(),
  mode: z.enum(['batch', 'sync']),
  completeness: z.strictObject({
    quietSeconds: z.number().min(0).max(86_400),
    markerMatch: z.string().max(200),
    marker: z.string().max(200),
  }),
  destination: z.string().max(500),
});
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _definitionMatches: Same<z.output<typeof datasetDefinitionSchema>, DatasetDefinition> = true;
void _definitionMatches;

const jobId = z.strictObject({ jobId: z.int().min(1) });
const none = z.strictObject({}).optional();
const logLevel = z.enum(['debug', 'info', 'warn', 'error']);

/** Request schemas, one per command of the allow-list (ipc-channels.ts; checked below). */
export const COMMAND_REQUESTS = {
  'app.info': none,
  'shell.pickPaths': z.strictObject({ kind: z.enum(['files', 'folders']) }),

  'session.get': none,
  'session.signIn': z.strictObject({ username: z.string().min(1).max(200), password: z.string().min(1).max(1000) }),
  'session.useLocal': none,
  'session.signOut': none,
  'investigations.search': z.strictObject({ query: z.string().max(200) }),
  'investigations.create': z.strictObject({ id: z.string().min(1).max(200), title: z.string().max(500) }),
  'techniques.list': none,

  'dataset.preview': z.strictObject({
    sources: z.array(z.string().max(4096)).max(1000),
    include: z.array(z.string().max(500)).max(100),
    exclude: z.array(z.string().max(500)).max(100),
    followSymlinks: z.boolean(),
  }),
  'jobs.start': z.strictObject({ definition: datasetDefinitionSchema }),
  'jobs.list': z.strictObject({ limit: z.int().min(1).max(500) }),
  'jobs.files': z.strictObject({
    jobId: z.int().min(1),
    states: z.array(z.enum(FILE_STATES)).max(FILE_STATES.length),
    offset: z.int().min(0),
    limit: z.int().min(1).max(1000),
  }),
  'jobs.pause': jobId,
  'jobs.resume': jobId,
  'jobs.retryFailed': jobId,
  'jobs.stop': jobId,
  'jobs.pauseAll': none,
  'jobs.resumeAll': none,

  'history.search': z.strictObject({ query: z.string().max(200) }),
  'history.dataset': z.strictObject({
    name: z.string().min(1).max(250),
    /** The dataset of this proposal and visit (null: none); left out: the only one of that name. */
    proposal: z.string().max(250).nullable().optional(),
    visit: z.string().max(250).nullable().optional(),
    /** The dataset of this catalogue (the same name, proposal and visit may be in two catalogues). */
    catalogue: z.string().max(500).optional(),
    offset: z.int().min(0),
    limit: z.int().min(1).max(1000),
  }),
  'history.verify': z.strictObject({
    name: z.string().min(1).max(250),
    proposal: z.string().max(250).nullable().optional(),
    visit: z.string().max(250).nullable().optional(),
    catalogue: z.string().max(500).optional(),
    deep: z.boolean(),
  }),

  'settings.get': none,
  'settings.update': z.strictObject({
    concurrency: z.int().optional(),
    partConcurrency: z.int().optional(),
    bandwidth: z.string().max(500).optional(),
    startAtLogin: z.boolean().optional(),
    defaultDestination: z.string().max(100).optional(),
  }),
  'settings.saveDestination': z.strictObject({ name: z.string().max(100), config: z.record(z.string(), z.unknown()) }),
  'settings.removeDestination': z.strictObject({ name: z.string().max(100) }),
  'settings.setSecret': z.strictObject({ destination: z.string().max(100), secret: z.string().max(4096) }),
  'settings.deleteSecret': z.strictObject({ destination: z.string().max(100) }),
  'settings.testDestination': z.strictObject({ destination: z.string().max(100) }),

  'logs.recent': z.strictObject({ minLevel: logLevel, limit: z.int().min(1).max(5000), query: z.string().max(200) }),
  'logs.write': z.strictObject({
    level: logLevel,
    message: z.string().max(10_000),
    context: z.record(z.string(), z.unknown()).optional(),
  }),
} as const;

/** What each command answers. */
export interface CommandResponses {
  'app.info': AppInfo;
  'shell.pickPaths': string[];
  'session.get': SessionView;
  'session.signIn': SessionView;
  'session.useLocal': SessionView;
  'session.signOut': SessionView;
  'investigations.search': InvestigationView[];
  'investigations.create': InvestigationView;
  'techniques.list': TechniqueTemplateView[];
  'dataset.preview': SourcePreview;
  'jobs.start': { jobId: number };
  'jobs.list': JobView[];
  'jobs.files': FilePage;
  'jobs.pause': JobView;
  'jobs.resume': JobView;
  'jobs.retryFailed': JobView;
  'jobs.stop': JobView;
  'jobs.pauseAll': JobView[];
  'jobs.resumeAll': JobView[];
  'history.search': DatasetSummaryView[];
  'history.dataset': DatasetDetailView;
  'history.verify': VerifyReport;
  'settings.get': SettingsView;
  'settings.update': SettingsView;
  'settings.saveDestination': SettingsView;
  'settings.removeDestination': SettingsView;
  'settings.setSecret': DestinationView;
  'settings.deleteSecret': DestinationView;
  'settings.testDestination': { ok: true; ms: number };
  'logs.recent': LogLine[];
  'logs.write': null;
}

// The allow-list, the schemas and the responses must name the same commands: a command missing
// from one of them (or spelt differently) fails to compile here.
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const _sameCommands: [SameKeys<typeof COMMAND_REQUESTS, CommandResponses>, SameKeys<Record<CommandName, 1>, CommandResponses>] = [
  true,
  true,
];
void _sameCommands;
export type CommandRequest<C extends CommandName> = z.input<(typeof COMMAND_REQUESTS)[C]>;
export type CommandResponse<C extends CommandName> = CommandResponses[C];

/** Events main pushes to the renderer. */
export interface EventPayloads {
  /** Batched progress: at most ~10 per second, only when something changed. */
  'jobs.update': JobsUpdate;
  'session.changed': SessionView;
  /** The tray or a notification asks the window to show a screen. */
  'app.navigate': { screen: ScreenName; jobId?: number };
}
const _sameEvents: SameKeys<Record<EventName, 1>, EventPayloads> = true;
void _sameEvents;

export type ScreenName = 'sign-in' | 'investigation' | 'dataset' | 'activity' | 'history' | 'settings' | 'logs';

export type Unsubscribe = () => void;

/** The one object the preload exposes as `window.beamdrop`. */
export interface BeamdropApi {
  invoke<C extends CommandName>(command: C, request: CommandRequest<C>): Promise<Result<CommandResponse<C>>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): Unsubscribe;
}

/** Parses a request with its command's schema; a failure says which field is wrong. */
export function parseRequest<C extends CommandName>(
  command: C,
  request: unknown,
): Result<z.output<(typeof COMMAND_REQUESTS)[C]>> {
  const parsed = COMMAND_REQUESTS[command].safeParse(request);
  if (parsed.success) return { ok: true, value: parsed.data as z.output<(typeof COMMAND_REQUESTS)[C]> };
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  return {
    ok: false,
    error: {
      code: 'usage',
      retryable: false,
      ...(field ? { field } : {}),
      message: `${command}: ${field ? `${field}: ` : ''}${issue?.message ?? 'invalid request'}`,
    },
  };
}
