// The one object the preload exposes: only contract commands and events pass, every
// subscription has its unsubscribe, failures come back as ErrorInfo.
import { describe, expect, it, vi } from 'vitest';
import { ALLOWED, createBeamdropApi, type PreloadTransport } from '../../src/preload/api.js';
import { COMMAND_NAMES, EVENT_NAMES, commandChannel, eventChannel } from '../../src/shared/ipc-contract.js';
import type { BeamdropApi } from '../../src/shared/ipc-contract.js';

function transport() {
  const subs = new Map<string, Set<(p: unknown) => void>>();
  const t: PreloadTransport & { invoke: ReturnType<typeof vi.fn> } = {
    invoke: vi.fn(async (channel: string, request: unknown) => ({ ok: true, value: { channel, request } })),
    subscribe: (channel, l) => {
      const set = subs.get(channel) ?? new Set();
      subs.set(channel, set);
      set.add(l);
      return () => {
        set.delete(l);
      };
    },
  };
  return { t, emit: (channel: string, p: unknown) => subs.get(channel)?.forEach((l) => l(p)) };
}

describe('createBeamdropApi', () => {
  it('invokes contract commands on their prefixed channel', async () => {
    const { t } = transport();
    const api = createBeamdropApi(t);
    await expect(api.invoke('jobs.list', { limit: 3 })).resolves.toEqual({
      ok: true,
      value: { channel: commandChannel('jobs.list'), request: { limit: 3 } },
    });
  });

  it('refuses other names before they reach IPC', async () => {
    const { t } = transport();
    const api = createBeamdropApi(t) as unknown as { invoke(c: string, r: unknown): Promise<unknown> };
    await expect(api.invoke('__proto__', {})).resolves.toMatchObject({ ok: false, error: { code: 'permission-denied' } });
    await expect(api.invoke('beamdrop:cmd:jobs.list', {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'permission-denied' },
    });
    expect(t.invoke).not.toHaveBeenCalled();
  });

  it('turns a transport failure into a structured error', async () => {
    const { t } = transport();
    t.invoke.mockRejectedValueOnce(new Error('window closing'));
    await expect(createBeamdropApi(t).invoke('app.info', undefined)).resolves.toEqual({
      ok: false,
      error: { code: 'internal', retryable: true, message: 'the app did not answer app.info: window closing' },
    });
  });

  it('subscribes to contract events only, passes just the payload, and unsubscribes', () => {
    const { t, emit } = transport();
    const api = createBeamdropApi(t);
    const seen: unknown[] = [];
    const off = api.on('app.navigate', (p) => seen.push(p));
    emit(eventChannel('app.navigate'), { screen: 'logs' });
    off();
    emit(eventChannel('app.navigate'), { screen: 'history' });
    expect(seen).toEqual([{ screen: 'logs' }]);
    expect(() => (api as unknown as { on(e: string, l: () => void): void }).on('ipc-message', () => undefined)).toThrow(
      /not a Beamdrop event/,
    );
  });

  it('is frozen and has exactly invoke and on', () => {
    const api: BeamdropApi = createBeamdropApi(transport().t);
    expect(Object.isFrozen(api)).toBe(true);
    expect(Object.keys(api).sort()).toEqual(['invoke', 'on']);
    expect(ALLOWED).toEqual({ commands: COMMAND_NAMES, events: EVENT_NAMES });
  });
});
