// The window's security: isolated and sandboxed without Node, no navigation away from app://, no
// new windows or webviews, no browser permissions.
import { describe, expect, it, vi } from 'vitest';
import {
  denyAllPermissions,
  guardWebContents,
  isAppUrl,
  secureWindowOptions,
  type GuardableContents,
} from '../../src/main/app/security.js';

describe('secureWindowOptions', () => {
  it('isolates and sandboxes the page and keeps Node out of it', () => {
    const w = secureWindowOptions('/app/preload.cjs').webPreferences!;
    expect(w).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
  });
});

describe('guardWebContents', () => {
  function contents() {
    const listeners = new Map<string, (e: { preventDefault(): void; url: string }) => void>();
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
    const c: GuardableContents = {
      on: ((event: string, l: (e: { preventDefault(): void; url: string }) => void) => {
        listeners.set(event, l);
      }) as GuardableContents['on'],
      setWindowOpenHandler: (h) => {
        openHandler = h;
      },
    };
    const fire = (event: string, url = '') => {
      const e = { preventDefault: vi.fn(), url };
      listeners.get(event)!(e);
      return e.preventDefault.mock.calls.length > 0;
    };
    return { c, fire, open: (url: string) => openHandler!({ url }) };
  }

  it('blocks navigation and redirects that leave the app, allows the app itself', () => {
    const { c, fire } = contents();
    guardWebContents(c);
    expect(fire('will-navigate', 'https://example.org/')).toBe(true);
    expect(fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(fire('will-redirect', 'http://127.0.0.1:8080/')).toBe(true);
    expect(fire('will-navigate', 'app://beamdrop/index.html')).toBe(false);
    expect(fire('will-attach-webview')).toBe(true);
  });

  it('denies every new window; https links go to the OS browser, nothing else does', () => {
    const { c, open } = contents();
    const external = vi.fn();
    guardWebContents(c, external);
    expect(open('https://scicat.facility.example/datasets/1')).toEqual({ action: 'deny' });
    expect(open('file:///home/op/.ssh/id_rsa')).toEqual({ action: 'deny' });
    expect(open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(external.mock.calls).toEqual([['https://scicat.facility.example/datasets/1']]);
  });

  it('knows its own origin only', () => {
    expect(isAppUrl('app://beamdrop/x')).toBe(true);
    expect(isAppUrl('app://other/x')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });
});

describe('denyAllPermissions', () => {
  it('answers no to every request and check', () => {
    let request: ((c: unknown, p: string, cb: (g: boolean) => void) => void) | null = null;
    let check: ((c: unknown, p: string) => boolean) | null = null;
    denyAllPermissions({
      setPermissionRequestHandler: (h) => {
        request = h;
      },
      setPermissionCheckHandler: (h) => {
        check = h;
      },
    });
    const cb = vi.fn();
    request!(null, 'media', cb);
    expect(cb).toHaveBeenCalledWith(false);
    expect(check!(null, 'notifications')).toBe(false);
  });
});
