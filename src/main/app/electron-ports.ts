// The Electron side of the small interfaces: tray, shell (dialogs, login item), notifications.
// The only file besides main.ts that touches Electron's APIs.
import { Menu, Notification, Tray, dialog, nativeImage, type App, type BrowserWindow } from 'electron';
import type { AppStatus } from '../../shared/app-status.js';
import type { ShellPort } from '../app-backend/ports.js';
import { applyStartAtLogin } from './lifecycle.js';
import type { Notice } from './notifier.js';
import { trayIconBitmap } from './tray-icon.js';
import type { TrayMenuItem, TrayPort } from './tray-controller.js';

const ICON = 32;

export function trayIcon(status: AppStatus): Electron.NativeImage {
  return nativeImage.createFromBitmap(trayIconBitmap(status, ICON), { width: ICON, height: ICON, scaleFactor: 2 });
}

export function electronTray(onClick: () => void): { port: TrayPort; destroy(): void } {
  const tray = new Tray(trayIcon('idle'));
  tray.on('click', onClick);
  return {
    port: {
      setStatus: (s) => tray.setImage(trayIcon(s)),
      setToolTip: (t) => tray.setToolTip(t),
      setMenu: (items: TrayMenuItem[]) =>
        tray.setContextMenu(
          Menu.buildFromTemplate(
            items.map((i) =>
              i.separator
                ? { type: 'separator' as const }
                : { label: i.label, enabled: i.enabled, ...(i.click ? { click: i.click } : {}) },
            ),
          ),
        ),
    },
    destroy: () => tray.destroy(),
  };
}

export function electronShell(app: App, window: () => BrowserWindow | null): ShellPort {
  return {
    async pickPaths(kind) {
      const options: Electron.OpenDialogOptions = {
        title: kind === 'files' ? 'Add files to the dataset' : 'Add folders to the dataset',
        properties: kind === 'files' ? ['openFile', 'multiSelections'] : ['openDirectory', 'multiSelections'],
      };
      const win = window();
      const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return r.canceled ? [] : r.filePaths;
    },
    setStartAtLogin: (enabled) => applyStartAtLogin(app, enabled),
  };
}

export function showNotice(n: Notice, onClick: () => void): void {
  if (!Notification.isSupported()) return;
  const notification = new Notification({
    title: n.title,
    body: n.body,
    urgency: n.kind === 'attention' ? 'critical' : 'normal',
  });
  notification.on('click', onClick);
  notification.show();
}
