// Main's IPC: one handler per contract command, each refusing senders other than our window's top
// frame on an app:// page, and answering with structured errors, never throwing.
import { describe, expect, it, vi } from 'vitest';
import { COMMAND_NAMES, commandChannel, eventChannel } from '../../src/shared/ipc-contract.js';
import {
  forwardEvents,
  registerCommandHandlers,
  trustedSender,
  type InvokeEventLike,
  type IpcMainPort,
} from '../../src/main/app/ipc-main.js';

function fakeIpc() {
  const handlers = new Map<string, (e: InvokeEventLike, r: unknown) => Promise<unknown>>();
  const ipc: IpcMainPort = {
    handle: (c, l) => {
      handlers.set(c, l);
    },
    removeHandler: (c) => {
      handlers.delete(c);
    },
  };
  return { ipc, handlers };
}
const event = (o: { id?: number; url?: string; parent?: unknown; frame?: null } = {}): InvokeEventLike => ({
  sender: { id: o.id ?? 7 },
  senderFrame: o.frame === null ? null : { url: o.url ?? 'app://beamdrop/index.html', parent: o.parent ?? null },
});

describe('registerCommandHandlers', () => {
  it('registers exactly the contract commands under their prefixed channels, and removes them', () => {
    const { ipc, handlers } = fakeIpc();
    const dispose = registerCommandHandlers(
      ipc,
      async () => ({ ok: true, value: null }),
      () => true,
    );
    expect([...handlers.keys()].sort()).toEqual(COMMAND_NAMES.map(commandChannel).sort());
    expect([...handlers.keys()].every((c) => c.startsWith('beamdrop:cmd:'))).toBe(true);
    dispose();
    expect(handlers.size).toBe(0);
  });

  it('passes trusted calls to the backend with the command name', async () => {
    const { ipc, handlers } = fakeIpc();
    const dispatch = vi.fn(async () => ({ ok: true as const, value: 42 }));
    registerCommandHandlers(
      ipc,
      dispatch,
      trustedSender(() => 7),
    );
    await expect(handlers.get(commandChannel('jobs.list'))!(event(), { limit: 5 })).resolves.toEqual({ ok: true, value: 42 });
    expect(dispatch).toHaveBeenCalledWith('jobs.list', { limit: 5 });
  });

  it.each([
    ['another web contents', event({ id: 8 })],
    ['a sub-frame', event({ parent: {} })],
    ['a remote page', event({ url: 'https://evil.example/index.html' })],
    ['a file:// page', event({ url: 'file:///tmp/index.html' })],
    ['a look-alike host', event({ url: 'app://beamdrop.evil/index.html' })],
    ['a destroyed frame', event({ frame: null })],
  ])('refuses %s with a structured error and tells who was refused', async (_what, e) => {
    const { ipc, handlers } = fakeIpc();
    const dispatch = vi.fn();
    const rejected = vi.fn();
    registerCommandHandlers(
      ipc,
      dispatch,
      trustedSender(() => 7),
      rejected,
    );
    const r = await handlers.get(commandChannel('settings.setSecret'))!(e, { destination: 's3', secret: 'x' });
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ code: 'permission-denied', retryable: false }) });
    expect(dispatch).not.toHaveBeenCalled();
    expect(rejected).toHaveBeenCalledWith(commandChannel('settings.setSecret'), e.senderFrame?.url ?? null);
  });

  it('trusts nobody while there is no window', () => {
    expect(trustedSender(() => null)(event())).toBe(false);
  });
});

describe('forwardEvents', () => {
  it('sends each event on its channel, and drops it while there is no live window', () => {
    const sent: [string, unknown][] = [];
    let destroyed = false;
    let target: { isDestroyed(): boolean; send(c: string, p: unknown): void } | null = {
      isDestroyed: () => destroyed,
      send: (c, p) => sent.push([c, p]),
    };
    const listener = forwardEvents(() => target);
    listener('app.navigate', { screen: 'activity' });
    destroyed = true;
    listener('app.navigate', { screen: 'logs' });
    target = null;
    listener('app.navigate', { screen: 'logs' });
    expect(sent).toEqual([[eventChannel('app.navigate'), { screen: 'activity' }]]);
  });
});
