// The backend's outgoing events (the contract's EventPayloads). Main forwards them to the window,
// the e2e harness to the page, the tray and the notifier read them too.
import type { EventName, EventPayloads } from '../../shared/ipc-contract.js';

export type BackendListener = <E extends EventName>(event: E, payload: EventPayloads[E]) => void;

export class EventBus {
  private readonly listeners = new Set<BackendListener>();

  on(listener: BackendListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit<E extends EventName>(event: E, payload: EventPayloads[E]): void {
    // One listener throwing (a destroyed window) must not starve the others.
    for (const l of this.listeners) {
      try {
        l(event, payload);
      } catch {
        /* reported by the listener's owner */
      }
    }
  }
}
