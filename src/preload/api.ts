// Builds the `window.beamdrop` object from a transport. Electron's preload passes ipcRenderer
// (index.ts); the end-to-end harness passes a Playwright binding, so the page sees the very same
// object. Only the contract's commands and events pass: anything else is refused here, before
// it reaches the transport, and main checks again.
import {
  COMMAND_NAMES,
  EVENT_NAMES,
  commandChannel,
  eventChannel,
  isCommandName,
  isEventName,
  type CommandName,
  type EventName,
} from '../shared/ipc-channels.js';
import type { BeamdropApi, EventPayloads, Result } from '../shared/ipc-contract.js';

export interface PreloadTransport {
  invoke(channel: string, request: unknown): Promise<unknown>;
  /** Subscribes to one channel; returns the unsubscribe. */
  subscribe(channel: string, listener: (payload: unknown) => void): () => void;
}

export function createBeamdropApi(transport: PreloadTransport): BeamdropApi {
  const api: BeamdropApi = {
    invoke(command, request) {
      if (!isCommandName(command)) {
        return Promise.resolve({
          ok: false,
          error: { code: 'permission-denied', retryable: false, message: `"${String(command)}" is not a Beamdrop command.` },
        });
      }
      return transport
        .invoke(commandChannel(command as CommandName), request)
        .then((r) => r as Result<never>)
        .catch((e: unknown) => ({
          ok: false as const,
          error: {
            code: 'internal' as const,
            retryable: true,
            message: `the app did not answer ${command}: ${e instanceof Error ? e.message : String(e)}`,
          },
        }));
    },
    on(event, listener) {
      if (!isEventName(event)) throw new Error(`"${String(event)}" is not a Beamdrop event.`);
      if (typeof listener !== 'function') throw new Error('listener must be a function');
      // Only the payload is passed on: the renderer never sees the IPC event object (and its sender).
      return transport.subscribe(eventChannel(event as EventName), (payload) =>
        (listener as (p: EventPayloads[EventName]) => void)(payload as EventPayloads[EventName]),
      );
    },
  };
  return Object.freeze(api);
}

/** For tests and diagnostics: what the allow-list lets through. */
export const ALLOWED = Object.freeze({ commands: COMMAND_NAMES, events: EVENT_NAMES });
