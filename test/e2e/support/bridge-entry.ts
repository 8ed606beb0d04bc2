// Runs in the page (bundled by build-assets.ts, added as an init script): builds window.beamdrop
// with the preload's own createBeamdropApi, over a Playwright binding instead of ipcRenderer.
// The page thus sees the exact object the Electron preload exposes, and nothing else: the
// binding is captured and removed from window, events arrive through a symbol-keyed hook.
import { createBeamdropApi } from '../../../src/preload/api.js';

type Listener = (payload: unknown) => void;
interface BridgeGlobal {
  __beamdropInvoke?: (channel: string, request: unknown) => Promise<unknown>;
  [key: symbol]: unknown;
}

const g = globalThis as unknown as BridgeGlobal;
const invoke = g.__beamdropInvoke;
delete g.__beamdropInvoke;
if (!invoke) throw new Error('the e2e binding __beamdropInvoke is missing');

const listeners = new Map<string, Set<Listener>>();
Object.defineProperty(globalThis, Symbol.for('beamdrop.e2e.deliver'), {
  value: (channel: string, payload: unknown) => {
    for (const l of listeners.get(channel) ?? []) l(payload);
  },
});

const api = createBeamdropApi({
  invoke: (channel, request) => invoke(channel, request),
  subscribe: (channel, listener) => {
    let set = listeners.get(channel);
    if (!set) {
      set = new Set();
      listeners.set(channel, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  },
});
// As contextBridge.exposeInMainWorld: a read-only property of window.
Object.defineProperty(globalThis, 'beamdrop', { value: api, enumerable: true, writable: false, configurable: false });
