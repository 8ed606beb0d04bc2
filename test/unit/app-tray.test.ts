// The tray follows the jobs: idle, uploading, needs attention; its menu pauses and resumes all.
import { describe, expect, it, vi } from 'vitest';
import type { AppStatus } from '../../src/shared/app-status.js';
import { appStatusOf, ATTENTION_WINDOW_MS } from '../../src/shared/app-status.js';
import { TrayController, type TrayMenuItem, type TrayPort } from '../../src/main/app/tray-controller.js';
import { trayIconBitmap } from '../../src/main/app/tray-icon.js';
import { jobView } from './app-fixtures.js';

function fakeTray() {
  const calls = { status: [] as AppStatus[], tooltip: [] as string[], menu: [] as TrayMenuItem[][] };
  const port: TrayPort = {
    setStatus: (s) => calls.status.push(s),
    setToolTip: (t) => calls.tooltip.push(t),
    setMenu: (m) => calls.menu.push(m),
  };
  return { port, calls };
}
const actions = () => ({ show: vi.fn(), showActivity: vi.fn(), pauseAll: vi.fn(), resumeAll: vi.fn(), quit: vi.fn() });
const item = (menu: TrayMenuItem[], label: RegExp) => menu.find((i) => label.test(i.label))!;

describe('appStatusOf', () => {
  it('is attention over uploading over idle, and forgets old failures', () => {
    const now = 10 * ATTENTION_WINDOW_MS;
    expect(appStatusOf([], now)).toBe('idle');
    expect(appStatusOf([jobView()], now)).toBe('uploading');
    expect(appStatusOf([jobView(), jobView({ id: 2, running: false, state: 'paused', attention: true })], now)).toBe('attention');
    expect(
      appStatusOf([jobView({ running: false, state: 'done', attention: true, finishedAt: now - ATTENTION_WINDOW_MS - 1 })], now),
    ).toBe('idle');
  });
});

describe('TrayController', () => {
  it('shows the status, a tooltip with progress, and a menu that fits the jobs', () => {
    const { port, calls } = fakeTray();
    const a = actions();
    const tray = new TrayController(port, a, () => 5_000);
    tray.seed([]);
    expect(calls.status).toEqual(['idle']);
    expect(item(calls.menu.at(-1)!, /^Pause all/).enabled).toBe(false);

    tray.onUpdate({ jobs: [jobView()], fileChanges: [], fileChangesDropped: 0 });
    expect(calls.status.at(-1)).toBe('uploading');
    expect(calls.tooltip.at(-1)).toBe('Beamdrop — uploading 1 dataset (3 of 10 files)');
    const menu = calls.menu.at(-1)!;
    expect(item(menu, /^Pause all/)).toMatchObject({ label: 'Pause all (1)', enabled: true });
    item(menu, /^Pause all/).click!();
    expect(a.pauseAll).toHaveBeenCalledOnce();

    tray.onUpdate({
      jobs: [jobView({ running: false, state: 'paused', attention: true, reason: 'destination down' })],
      fileChanges: [],
      fileChangesDropped: 0,
    });
    expect(calls.status.at(-1)).toBe('attention');
    expect(calls.tooltip.at(-1)).toBe('Beamdrop — 1 dataset needs attention');
    const m2 = calls.menu.at(-1)!;
    expect(item(m2, /^Resume all/)).toMatchObject({ label: 'Resume all (1)', enabled: true });
    item(m2, /what needs attention/).click!();
    item(m2, /^Quit/).click!();
    expect(a.showActivity).toHaveBeenCalledOnce();
    expect(a.quit).toHaveBeenCalledOnce();
  });

  it('does not redraw when nothing visible changed', () => {
    const { port, calls } = fakeTray();
    const tray = new TrayController(port, actions(), () => 5_000);
    tray.seed([jobView()]);
    const n = calls.menu.length;
    tray.onUpdate({ jobs: [jobView()], fileChanges: [], fileChangesDropped: 0 });
    expect(calls.menu.length).toBe(n);
  });
});

describe('trayIconBitmap', () => {
  it('draws a BGRA disc whose colour and glyph say the status', () => {
    const size = 32;
    const icons = (['idle', 'uploading', 'attention'] as const).map((s) => trayIconBitmap(s, size));
    for (const b of icons) expect(b.length).toBe(size * size * 4);
    expect(icons[0]!.subarray(0, 4)).toEqual(Buffer.from([0, 0, 0, 0]));
    const pixel = (b: Buffer, x: number, y: number) => [...b.subarray((y * size + x) * 4, (y * size + x) * 4 + 4)];
    expect(pixel(icons[1]!, 16, 28)).not.toEqual(pixel(icons[2]!, 16, 28));
    expect(new Set(icons.map((b) => b.toString('hex'))).size).toBe(3);
  });
});
