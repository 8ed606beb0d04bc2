// One instance; closing the window keeps Beamdrop in the tray; quitting waits for the jobs to
// journal what they had in flight; start at login opens hidden in the tray.
import { describe, expect, it, vi } from 'vitest';
import { applyStartAtLogin, ensureSingleInstance, Lifecycle, START_HIDDEN_ARG } from '../../src/main/app/lifecycle.js';

function fakeApp(lock = true) {
  const listeners = new Map<string, (e: { preventDefault(): void }) => void>();
  return {
    listeners,
    requestSingleInstanceLock: vi.fn(() => lock),
    on: vi.fn((event: string, l: (e: { preventDefault(): void }) => void) => {
      listeners.set(event, l);
    }),
    quit: vi.fn(),
    setLoginItemSettings: vi.fn(),
  };
}

describe('ensureSingleInstance', () => {
  it('quits a second instance and shows the first one instead', () => {
    const second = fakeApp(false);
    expect(ensureSingleInstance(second, vi.fn())).toBe(false);
    expect(second.quit).toHaveBeenCalledOnce();
    const first = fakeApp(true);
    const show = vi.fn();
    expect(ensureSingleInstance(first, show)).toBe(true);
    first.listeners.get('second-instance')!({ preventDefault: vi.fn() });
    expect(show).toHaveBeenCalledOnce();
  });
});

describe('Lifecycle', () => {
  it('hides the window on close while not quitting', () => {
    const app = fakeApp();
    const life = new Lifecycle(app, async () => undefined);
    const win = {
      handlers: new Map<string, (e: { preventDefault(): void }) => void>(),
      on(e: 'close', l: (e: { preventDefault(): void }) => void) {
        this.handlers.set(e, l);
      },
      hide: vi.fn(),
    };
    const hidden = vi.fn();
    life.keepInTray(win, hidden);
    const e = { preventDefault: vi.fn() };
    win.handlers.get('close')!(e);
    expect(e.preventDefault).toHaveBeenCalled();
    expect(win.hide).toHaveBeenCalled();
    expect(hidden).toHaveBeenCalled();
  });

  it('holds the quit until the jobs are drained, then quits for real, once', async () => {
    const app = fakeApp();
    let release: () => void = () => undefined;
    const drain = vi.fn(
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    const life = new Lifecycle(app, drain);
    life.requestQuit();
    expect(app.quit).toHaveBeenCalledTimes(1);
    const first = { preventDefault: vi.fn() };
    app.listeners.get('before-quit')!(first);
    expect(first.preventDefault).toHaveBeenCalled();
    expect(life.isQuitting).toBe(true);
    release();
    await vi.waitFor(() => expect(app.quit).toHaveBeenCalledTimes(2));
    const second = { preventDefault: vi.fn() };
    app.listeners.get('before-quit')!(second);
    expect(second.preventDefault).not.toHaveBeenCalled();
    expect(drain).toHaveBeenCalledOnce();
  });

  it('lets the window close for real while quitting', () => {
    const app = fakeApp();
    const life = new Lifecycle(app, async () => undefined);
    const win = {
      l: null as null | ((e: { preventDefault(): void }) => void),
      on(_e: 'close', l: (e: { preventDefault(): void }) => void) {
        this.l = l;
      },
      hide: vi.fn(),
    };
    life.keepInTray(win);
    life.requestQuit();
    const e = { preventDefault: vi.fn() };
    win.l!(e);
    expect(e.preventDefault).not.toHaveBeenCalled();
  });
});

describe('applyStartAtLogin', () => {
  it('registers a hidden start, and removes it', () => {
    const app = fakeApp();
    applyStartAtLogin(app, true);
    applyStartAtLogin(app, false);
    expect(app.setLoginItemSettings.mock.calls).toEqual([
      [{ openAtLogin: true, openAsHidden: true, args: [START_HIDDEN_ARG] }],
      [{ openAtLogin: false, openAsHidden: true, args: [] }],
    ]);
  });
});
