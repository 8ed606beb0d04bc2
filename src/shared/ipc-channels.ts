// The allow-list of the IPC contract: command and event names and their Electron channels. No
// schemas here, so the sandboxed preload bundles this small file and not the validation library;
// ipc-contract.ts checks at compile time that it names exactly the commands it defines.
export const COMMAND_NAMES = [
  'app.info',
  'shell.pickPaths',
  'session.get',
  'session.signIn',
  'session.useLocal',
  'session.signOut',
  'investigations.search',
  'investigations.create',
  'techniques.list',
  'dataset.preview',
  'jobs.start',
  'jobs.list',
  'jobs.files',
  'jobs.pause',
  'jobs.resume',
  'jobs.retryFailed',
  'jobs.stop',
  'jobs.pauseAll',
  'jobs.resumeAll',
  'history.search',
  'history.dataset',
  'history.verify',
  'settings.get',
  'settings.update',
  'settings.saveDestination',
  'settings.removeDestination',
  'settings.setSecret',
  'settings.deleteSecret',
  'settings.testDestination',
  'logs.recent',
  'logs.write',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export const EVENT_NAMES = ['jobs.update', 'session.changed', 'app.navigate'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** Electron channel names: a fixed prefix so nothing else on the bus can be reached. */
export const commandChannel = (c: CommandName): string => `beamdrop:cmd:${c}`;
export const eventChannel = (e: EventName): string => `beamdrop:evt:${e}`;

const COMMANDS: ReadonlySet<string> = new Set(COMMAND_NAMES);
const EVENTS: ReadonlySet<string> = new Set(EVENT_NAMES);

export function isCommandName(x: unknown): x is CommandName {
  return typeof x === 'string' && COMMANDS.has(x);
}

export function isEventName(x: unknown): x is EventName {
  return typeof x === 'string' && EVENTS.has(x);
}
