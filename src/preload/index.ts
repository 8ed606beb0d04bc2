// The Electron preload: exposes `window.beamdrop` (createBeamdropApi over ipcRenderer) and
// nothing else. It runs sandboxed, so it is bundled into one CommonJS file (vite.preload.config.ts)
// whose only import is electron.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createBeamdropApi } from './api.js';

const api = createBeamdropApi({
  invoke: (channel, request) => ipcRenderer.invoke(channel, request),
  subscribe: (channel, listener) => {
    const handler = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  },
});

contextBridge.exposeInMainWorld('beamdrop', api);
