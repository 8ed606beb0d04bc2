// Main's side of the IPC contract: one handler per command of the allow-list, each checking its
// sender (our window's top frame, showing an app:// page) before the backend sees the request.
// Anything else gets a structured refusal, never a thrown error (Electron would keep only its
// message). Events go the other way through forwardEvents().
import { COMMAND_NAMES, commandChannel, eventChannel, type Result } from '../../shared/ipc-contract.js';
import type { BackendListener } from '../app-backend/event-bus.js';
import { isAppUrl } from './security.js';

export interface InvokeEventLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

export interface IpcMainPort {
  handle(channel: string, listener: (event: InvokeEventLike, request: unknown) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export type TrustedSender = (event: InvokeEventLike) => boolean;

/** Trusts only the top frame of the given web contents, while it shows an app:// page. */
export function trustedSender(webContentsId: () => number | null): TrustedSender {
  return (event) => {
    const frame = event.senderFrame;
    return frame !== null && frame.parent === null && event.sender.id === webContentsId() && isAppUrl(frame.url);
  };
}

export function registerCommandHandlers(
  ipc: IpcMainPort,
  dispatch: (command: string, request: unknown) => Promise<Result<unknown>>,
  isTrusted: TrustedSender,
  onRejected: (channel: string, url: string | null) => void = () => undefined,
): () => void {
  for (const command of COMMAND_NAMES) {
    const channel = commandChannel(command);
    ipc.handle(channel, async (event, request) => {
      if (!isTrusted(event)) {
        onRejected(channel, event.senderFrame?.url ?? null);
        return {
          ok: false,
          error: { code: 'permission-denied', retryable: false, message: 'This page may not talk to Beamdrop.' },
        } satisfies Result<never>;
      }
      return dispatch(command, request);
    });
  }
  return () => {
    for (const command of COMMAND_NAMES) ipc.removeHandler(commandChannel(command));
  };
}

export interface EventTarget {
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
}

/** Forwards backend events to the window (dropped while it has none, e.g. closed to the tray). */
export function forwardEvents(target: () => EventTarget | null): BackendListener {
  return (event, payload) => {
    const t = target();
    if (t && !t.isDestroyed()) t.send(eventChannel(event), payload);
  };
}
