// app:// serves the built renderer and nothing outside it, with the CSP on every answer.
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY_HEADER } from '../../src/shared/csp.js';
import { contentType, resolveAsset, serveAsset } from '../../src/main/app/app-protocol.js';

const root = '/opt/beamdrop/dist/renderer';

describe('resolveAsset', () => {
  it('maps app://beamdrop paths into the renderer folder', () => {
    expect(resolveAsset(root, 'app://beamdrop/')).toBe(`${root}/index.html`);
    expect(resolveAsset(root, 'app://beamdrop/assets/index-1.js')).toBe(`${root}/assets/index-1.js`);
    expect(resolveAsset(root, 'app://beamdrop/a%20b.css')).toBe(`${root}/a b.css`);
  });

  it.each([
    'app://beamdrop/../../etc/passwd',
    'app://beamdrop/%2e%2e/%2e%2e/etc/passwd',
    'app://beamdrop/assets/..%2f..%2f..%2fetc/passwd',
    'app://beamdrop/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd',
  ])('never leaves the renderer folder for %s', (url) => {
    const file = resolveAsset(root, url);
    expect(file === null || file.startsWith(`${root}/`)).toBe(true);
  });

  it.each([
    'app://other/index.html',
    'file:///etc/passwd',
    'app://beamdrop/%00.js',
    'app://beamdrop/%E0%A4%A',
    'app://beamdrop/assets/..%2f..%2f..%2fetc/passwd',
  ])('refuses %s', (url) => {
    expect(resolveAsset(root, url)).toBeNull();
  });
});

describe('serveAsset', () => {
  it('answers with the file, its type and the security headers', async () => {
    const r = await serveAsset(root, 'app://beamdrop/assets/x.js', async (f) => new TextEncoder().encode(`// ${f}`));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY_HEADER);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await r.text()).toBe(`// ${root}/assets/x.js`);
  });

  it('answers 404 (with the CSP) for what it refuses or cannot read', async () => {
    const refused = await serveAsset(root, 'app://beamdrop/../secret', async () => {
      throw new Error('must not read');
    });
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY_HEADER);
    expect(
      (
        await serveAsset(root, 'app://beamdrop/missing.js', async () => {
          throw new Error('ENOENT');
        })
      ).status,
    ).toBe(404);
  });

  it('types what the renderer ships', () => {
    expect(contentType('a.css')).toMatch(/^text\/css/);
    expect(contentType('a.svg')).toBe('image/svg+xml');
    expect(contentType('a.unknown')).toBe('application/octet-stream');
  });

  it('allows nothing remote, inline or evaluated', () => {
    expect(CONTENT_SECURITY_POLICY_HEADER).toMatch(/default-src 'none'/);
    expect(CONTENT_SECURITY_POLICY_HEADER).toMatch(/script-src 'self'(;|$)/);
    expect(CONTENT_SECURITY_POLICY_HEADER).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
    expect(CONTENT_SECURITY_POLICY_HEADER).toMatch(/frame-ancestors 'none'/);
  });
});
