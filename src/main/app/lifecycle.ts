// How the app lives: one instance (a second start focuses the first window), closing the window
// keeps Beamdrop uploading in the tray, and quitting waits until the running jobs have journaled
// what they had in flight. Electron's app and window come in through these small interfaces.
export interface SingleInstanceApp {
  requestSingleInstanceLock(): boolean;
  on(event: 'second-instance', listener: () => void): unknown;
  quit(): void;
}

/** Returns false (and quits) when another Beamdrop already runs; that one is shown instead. */
export function ensureSingleInstance(app: SingleInstanceApp, onSecondInstance: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', onSecondInstance);
  return true;
}

export interface HideableWindow {
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): unknown;
  hide(): void;
}

export interface QuittableApp {
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown;
  quit(): void;
}

export class Lifecycle {
  private quitting = false;
  private drained = false;

  constructor(
    private readonly app: QuittableApp,
    private readonly drain: () => Promise<void>,
    private readonly onDrainError: (e: unknown) => void = () => undefined,
  ) {
    app.on('before-quit', (event) => {
      this.quitting = true;
      if (this.drained) return;
      // Hold the quit until the jobs paused cleanly, then quit for real.
      event.preventDefault();
      void this.drain()
        .catch(this.onDrainError)
        .finally(() => {
          this.drained = true;
          this.app.quit();
        });
    });
  }

  get isQuitting(): boolean {
    return this.quitting;
  }

  /** Closing the window hides it; uploads go on in the tray. */
  keepInTray(win: HideableWindow, onHidden: () => void = () => undefined): void {
    win.on('close', (event) => {
      if (this.quitting) return;
      event.preventDefault();
      win.hide();
      onHidden();
    });
  }

  requestQuit(): void {
    this.quitting = true;
    this.app.quit();
  }
}

export interface LoginItemApp {
  setLoginItemSettings(settings: { openAtLogin: boolean; openAsHidden?: boolean; args?: string[] }): void;
}

export const START_HIDDEN_ARG = '--hidden';

/** Starts Beamdrop at login, in the tray (no window) so it does not interrupt the session. */
export function applyStartAtLogin(app: LoginItemApp, enabled: boolean): void {
  app.setLoginItemSettings({ openAtLogin: enabled, openAsHidden: true, args: enabled ? [START_HIDDEN_ARG] : [] });
}
