// Electron main process of the desktop app, and the one place its services are wired: engine,
// app backend, IPC handlers, window, tray, notifications, lifecycle. Everything with logic lives
// in the modules it calls (tested without Electron); this file only connects them.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, ipcMain, protocol, session, shell } from 'electron';
import { createBackend, type AppBackend } from '../app-backend/create-backend.js';
import { appProfile } from '../app-backend/profile-source.js';
import { Engine } from '../engine/engine.js';
import { APP_SCHEME, APP_START_URL, serveAsset } from './app-protocol.js';
import { electronShell, electronTray, showNotice } from './electron-ports.js';
import { forwardEvents, registerCommandHandlers, trustedSender } from './ipc-main.js';
import { Lifecycle, START_HIDDEN_ARG, ensureSingleInstance } from './lifecycle.js';
import { JobNotifier } from './notifier.js';
import { denyAllPermissions, guardWebContents, secureWindowOptions } from './security.js';
import { TrayController } from './tray-controller.js';

const PRELOAD = fileURLToPath(new URL('../../preload/preload.cjs', import.meta.url));
const RENDERER = fileURLToPath(new URL('../../renderer/', import.meta.url));

// Must happen before `ready`: app:// is a standard, secure origin of its own.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);

let win: BrowserWindow | null = null;
let backend: AppBackend | null = null;
let lifecycle: Lifecycle | null = null;

function showWindow(screen?: 'activity'): void {
  // A second start during our own start-up: the window comes once everything is wired.
  if (!lifecycle) return;
  if (!win || win.isDestroyed()) win = createWindow();
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
  if (screen) backend?.events.emit('app.navigate', { screen });
}

function createWindow(): BrowserWindow {
  const w = new BrowserWindow(secureWindowOptions(PRELOAD));
  w.once('ready-to-show', () => w.show());
  void w.loadURL(APP_START_URL);
  lifecycle?.keepInTray(w);
  return w;
}

async function start(): Promise<void> {
  await app.whenReady();
  app.setAppUserModelId('org.beamdrop.desktop');
  protocol.handle(APP_SCHEME, (request) => serveAsset(RENDERER, request.url, (file) => readFile(file)));
  denyAllPermissions(session.defaultSession);
  app.on('web-contents-created', (_e, contents) => guardWebContents(contents, (url) => void shell.openExternal(url)));

  const { profile, source } = await appProfile(process.argv, process.env);
  const engine = Engine.open();
  const { log } = engine.services;
  const b = createBackend({
    engine,
    profile,
    profileSource: source,
    version: app.getVersion(),
    shell: electronShell(app, () => win),
  });
  backend = b;
  lifecycle = new Lifecycle(
    app,
    async () => {
      await b.shutdown();
      await engine.close();
    },
    (e) => log.error({ err: e }, 'shutdown failed'),
  );

  registerCommandHandlers(
    {
      handle: (channel, listener) => ipcMain.handle(channel, (event, request: unknown) => listener(event, request)),
      removeHandler: (c) => ipcMain.removeHandler(c),
    },
    b.dispatch,
    trustedSender(() => (win && !win.isDestroyed() ? win.webContents.id : null)),
    (channel, url) => log.warn({ channel, url }, 'IPC from an untrusted sender refused'),
  );
  b.events.on(forwardEvents(() => (win && !win.isDestroyed() ? win.webContents : null)));

  const tray = electronTray(() => showWindow());
  const trayController = new TrayController(tray.port, {
    show: () => showWindow(),
    showActivity: () => showWindow('activity'),
    pauseAll: () => void b.dispatch('jobs.pauseAll', undefined),
    resumeAll: () => void b.dispatch('jobs.resumeAll', undefined),
    quit: () => lifecycle?.requestQuit(),
  });
  const listed = await b.dispatch('jobs.list', { limit: 50 });
  if (listed.ok) trayController.seed(listed.value as Parameters<TrayController['seed']>[0]);
  const notifier = new JobNotifier((n) => showNotice(n, () => showWindow('activity')));
  b.events.on((event, payload) => {
    if (event !== 'jobs.update') return;
    const update = payload as Parameters<TrayController['onUpdate']>[0];
    trayController.onUpdate(update);
    notifier.onUpdate(update);
  });

  // Keep running in the tray when the last window closes; quit only from the tray or the OS.
  app.on('window-all-closed', () => undefined);
  app.on('will-quit', () => tray.destroy());
  if (!process.argv.includes(START_HIDDEN_ARG)) showWindow();
}

if (ensureSingleInstance(app, () => showWindow())) {
  start().catch((e: unknown) => {
    process.stderr.write(`Beamdrop could not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    app.exit(1);
  });
}
