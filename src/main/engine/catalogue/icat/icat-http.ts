// The icat.server REST calls the adapter needs: session login/info/refresh/logout, entityManager
// writes (form fields sessionId + entities; one call is one transaction) and JPQL-like queries.
// Stateless about sign-in: the sessionId comes with each call.
import { icatHttpError, icatNetworkError, type IcatCallContext } from './icat-errors.js';

const TIMEOUT_MS = 120_000;

/** A JPQL string literal: single quotes, with quotes inside doubled. */
export const jpql = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** ICAT wants ISO 8601 with milliseconds and an offset. */
export const icatDate = (iso: string): string => new Date(iso).toISOString();

export class IcatHttp {
  /** Base URL without trailing slash and without /icat. */
  readonly base: string;

  constructor(url: string) {
    this.base = url.replace(/\/+$/, '').replace(/\/icat$/, '');
  }

  private async call<T>(
    method: string,
    path: string,
    ctx: Omit<IcatCallContext, 'server'>,
    form?: Record<string, string>,
    query?: Record<string, string>,
  ): Promise<T> {
    const full: IcatCallContext = { server: this.base, ...ctx };
    const qs = query === undefined ? '' : `?${new URLSearchParams(query).toString()}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.base}/icat${path}${qs}`, {
        method,
        headers: {
          Accept: 'application/json',
          ...(form === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }),
        },
        ...(form === undefined ? {} : { body: new URLSearchParams(form).toString() }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = await res.text();
    } catch (e) {
      throw icatNetworkError(e, full);
    }
    if (!res.ok) throw icatHttpError(res.status, text, full);
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw icatNetworkError(new Error(`the answer is not JSON: ${text.slice(0, 200)}`, { cause: e }), full);
    }
  }

  async login(plugin: string, username: string, password: string): Promise<string> {
    const json = JSON.stringify({ plugin, credentials: [{ username }, { password }] });
    const r = await this.call<{ sessionId: string }>(
      'POST',
      '/session',
      { action: `signing in as ${username} (${plugin})` },
      { json },
    );
    return r.sessionId;
  }

  session(sessionId: string): Promise<{ userName: string; remainingMinutes: number }> {
    return this.call('GET', `/session/${encodeURIComponent(sessionId)}`, { action: 'reading the session' });
  }

  async refresh(sessionId: string): Promise<void> {
    await this.call('PUT', `/session/${encodeURIComponent(sessionId)}`, { action: 'refreshing the session' });
  }

  async logout(sessionId: string): Promise<void> {
    await this.call('DELETE', `/session/${encodeURIComponent(sessionId)}`, { action: 'signing out' });
  }

  /** Creates (no id) or updates (with id) entities in one transaction; returns their ids. */
  write(
    sessionId: string,
    entities: Record<string, Record<string, unknown>>[],
    ctx: Omit<IcatCallContext, 'server'>,
  ): Promise<number[]> {
    return this.call('POST', '/entityManager', ctx, { sessionId, entities: JSON.stringify(entities) });
  }

  query<T>(sessionId: string, query: string, ctx: Omit<IcatCallContext, 'server'>): Promise<T[]> {
    return this.call('GET', '/entityManager', ctx, undefined, { sessionId, query });
  }

  /** Entity results come as [{"Dataset": {...}}]: unwrap them. */
  async entities<T>(sessionId: string, type: string, query: string, ctx: Omit<IcatCallContext, 'server'>): Promise<T[]> {
    const rows = await this.query<Record<string, T>>(sessionId, query, ctx);
    return rows.map((r) => r[type] as T);
  }
}
