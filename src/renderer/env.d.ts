// The one global the preload adds: window.beamdrop, typed by the shared IPC contract.
import type { BeamdropApi } from '../shared/ipc-contract.js';

declare global {
  interface Window {
    readonly beamdrop: BeamdropApi;
  }
}
