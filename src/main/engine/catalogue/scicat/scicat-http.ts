// JSON over HTTP to one SciCat backend: bearer token, timeouts, and every failure turned into a
// CatalogueError by scicat-errors.ts. Stateless about sign-in: the token comes with each call.
import { notScicatAnswer, scicatHttpError, scicatNetworkError, type ScicatCallContext } from './scicat-errors.js';

export interface ScicatRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the base URL, already URL-encoded where needed, e.g. /api/v3/datasets/20.500%2Fabc */
  path: string;
  token?: string;
  body?: unknown;
  /** Content-Type of the body; application/json unless said (v4 lifecycle PATCH: merge-patch). */
  contentType?: string;
  query?: Record<string, string>;
  action: string;
  dataset?: string;
}

/** Long enough for a 10,000-file OrigDatablock on a busy server. */
const TIMEOUT_MS = 120_000;

export class ScicatHttp {
  /** Base URL without trailing slash and without /api. */
  readonly base: string;

  constructor(url: string) {
    this.base = url.replace(/\/+$/, '').replace(/\/api$/, '');
  }

  async request<T>(r: ScicatRequest): Promise<T> {
    const ctx: ScicatCallContext = {
      server: this.base,
      action: r.action,
      ...(r.dataset === undefined ? {} : { dataset: r.dataset }),
    };
    const qs = r.query === undefined ? '' : `?${new URLSearchParams(r.query).toString()}`;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (r.token !== undefined) headers.Authorization = `Bearer ${r.token}`;
    if (r.body !== undefined) headers['Content-Type'] = r.contentType ?? 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.base}${r.path}${qs}`, {
        method: r.method,
        headers,
        ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = await res.text();
    } catch (e) {
      throw scicatNetworkError(e, ctx);
    }
    if (!res.ok) throw scicatHttpError(res.status, text, ctx);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw notScicatAnswer(text, 'something that is not valid JSON', ctx, e);
    }
  }

  /** request() for an answer that must be a JSON object (not null, a list or a bare value). */
  async object<T extends object>(r: ScicatRequest): Promise<T> {
    const answer = await this.request<unknown>(r);
    if (answer !== null && typeof answer === 'object' && !Array.isArray(answer)) return answer as T;
    throw notScicatAnswer(JSON.stringify(answer) ?? '', 'JSON that is not an object', this.context(r));
  }

  /** request() for an answer that must be a JSON list. */
  async list<T>(r: ScicatRequest): Promise<T[]> {
    const answer = await this.request<unknown>(r);
    if (Array.isArray(answer)) return answer as T[];
    throw notScicatAnswer(JSON.stringify(answer) ?? '', 'JSON that is not a list', this.context(r));
  }

  context(r: Pick<ScicatRequest, 'action' | 'dataset'>): ScicatCallContext {
    return { server: this.base, action: r.action, ...(r.dataset === undefined ? {} : { dataset: r.dataset }) };
  }
}

/** A PID in a path segment: PIDs contain "/", which must travel as %2F. */
export const pidSegment = (pid: string): string => encodeURIComponent(pid);
