// Serves the built renderer from app://beamdrop/ instead of file://, so the page has a real
// origin ('self' in the CSP means the app and nothing else) and cannot read other local files.
// The CSP goes with every response as a header too.
import { extname, join, normalize, sep } from 'node:path';
import { CONTENT_SECURITY_POLICY_HEADER } from '../../shared/csp.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'beamdrop';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_START_URL = `${APP_ORIGIN}/index.html`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

export function contentType(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The file under `root` that an app:// URL names, or null for anything outside it or another host. */
export function resolveAsset(root: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const rel = path === '/' ? 'index.html' : path.replace(/^\/+/, '');
  const full = normalize(join(root, rel));
  const base = normalize(root.endsWith(sep) ? root : root + sep);
  return full.startsWith(base) ? full : null;
}

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER,
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};

/** The answer to one app:// request (used by main's protocol.handle and by the tests). */
export async function serveAsset(root: string, url: string, read: (file: string) => Promise<Uint8Array>): Promise<Response> {
  const file = resolveAsset(root, url);
  if (!file) return new Response('not found', { status: 404, headers: SECURITY_HEADERS });
  try {
    const body = await read(file);
    return new Response(body as ConstructorParameters<typeof Response>[0], {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'Content-Type': contentType(file) },
    });
  } catch {
    return new Response('not found', { status: 404, headers: SECURITY_HEADERS });
  }
}
