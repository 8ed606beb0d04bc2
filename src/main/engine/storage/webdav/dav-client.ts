// One connection to a WebDAV root: the keep-alive agent shared by every request, Basic auth, and
// requests through the `webdav` client (customRequest) with a deadline and errors already
// translated for the operator. Callers pass full URLs built by dav-paths, so one encoding is used
// everywhere.
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { createClient, type WebDAVClient } from 'webdav';
import { rootUrl, hrefKey, hrefSegments } from './dav-paths.js';
import { PROPFIND_ALLPROP, parseMultistatus, type DavEntry } from './dav-properties.js';
import { putStream } from './dav-put.js';
import { httpError, networkError, type DavErrorContext } from './webdav-errors.js';

/** Until the answer (headers and, except for GET, body) has arrived. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Sockets per destination: ~8 files in flight plus their MKCOL/PROPFIND/MOVE requests. */
const MAX_SOCKETS = 16;

export interface DavCredentials {
  username: string;
  password: string;
}

export interface DavRequest {
  /** For messages: what is being done, and to which key. */
  action: string;
  key?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Statuses of 400 or more handed back instead of thrown. */
  accept?: readonly number[];
}

export interface DavAnswer {
  status: number;
  text: string;
}

export interface DavEntryWithKey extends DavEntry {
  /** Relative to the destination root; '' is the root itself. */
  key: string;
}

/**
 * node-fetch turns a string body into a stream and, on abort, destroys it with an error nobody
 * listens to, which crashes the process; a stream of our own carries a listener.
 */
function quietBody(body: string): Readable {
  const stream = Readable.from([Buffer.from(body, 'utf8')]);
  stream.on('error', () => undefined);
  return stream;
}

/** A deadline that ends when the answer arrived, not in the middle of a long body. */
function deadline(ms: number, outer?: AbortSignal) {
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(), ms);
  return {
    signal: outer ? AbortSignal.any([outer, timer.signal]) : timer.signal,
    timedOut: () => timer.signal.aborted && !outer?.aborted,
    clear: () => clearTimeout(handle),
  };
}

export class DavClient {
  readonly root: URL;
  private readonly rootSegments: string[];
  private readonly agent: http.Agent;
  private readonly auth: Record<string, string>;
  private readonly client: WebDAVClient;

  constructor(
    readonly destination: string,
    url: string,
    credentials: DavCredentials | null,
  ) {
    this.root = rootUrl(url);
    this.rootSegments = hrefSegments(this.root.pathname) ?? [];
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, scheduling: 'lifo' as const };
    this.agent = this.root.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    // Built here rather than by the client, whose Base64 helper rejects non-Latin-1 passwords.
    this.auth = credentials
      ? { Authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}` }
      : {};
    this.client = createClient(this.root.href, {
      headers: this.auth,
      ...(this.root.protocol === 'https:' ? { httpsAgent: this.agent } : { httpAgent: this.agent }),
    });
  }

  errorContext(url: string, action: string, key?: string): DavErrorContext {
    return { destination: this.destination, root: this.root.href, url, action, ...(key === undefined ? {} : { key }) };
  }

  keyOf(href: string): string | null {
    return hrefKey(this.rootSegments, href);
  }

  async request(method: string, url: string, req: DavRequest): Promise<DavAnswer> {
    const ctx = this.errorContext(url, req.action, req.key);
    const time = deadline(req.timeoutMs ?? REQUEST_TIMEOUT_MS, req.signal);
    try {
      time.signal.throwIfAborted();
      const res = await this.client.customRequest('', {
        url,
        method,
        signal: time.signal,
        headers: { ...req.headers, ...(req.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(req.body)) }) },
        ...(req.body === undefined ? {} : { data: quietBody(req.body) }),
      });
      return { status: res.status, text: await res.text() };
    } catch (e) {
      const status = (e as { status?: unknown }).status;
      if (typeof status === 'number') {
        // Read the short error body so the keep-alive socket goes back to the pool.
        await (e as { response?: { text(): Promise<string> } }).response?.text().catch(() => '');
        if (req.accept?.includes(status)) return { status, text: '' };
        throw httpError(status, ctx);
      }
      throw networkError(e, ctx, time.timedOut());
    } finally {
      time.clear();
    }
  }

  /** PROPFIND allprop; a missing resource answers status 404 with no entries. */
  async propfind(
    url: string,
    depth: '0' | '1' | 'infinity',
    req: DavRequest,
  ): Promise<{ status: number; entries: DavEntryWithKey[] }> {
    const answer = await this.request('PROPFIND', url, {
      ...req,
      headers: { Depth: depth, 'Content-Type': 'application/xml; charset=utf-8' },
      body: PROPFIND_ALLPROP,
      accept: [404, ...(req.accept ?? [])],
    });
    if (answer.status !== 207) return { status: answer.status, entries: [] };
    const entries: DavEntryWithKey[] = [];
    for (const entry of await parseMultistatus(answer.text)) {
      const key = this.keyOf(entry.href);
      if (key !== null) entries.push({ ...entry, key });
    }
    return { status: answer.status, entries };
  }

  /** GET as a stream; resolves once the server answered, so a missing object rejects here. */
  async get(url: string, key: string, signal?: AbortSignal): Promise<Readable> {
    const ctx = this.errorContext(url, 'reading', key);
    const time = deadline(REQUEST_TIMEOUT_MS, signal);
    try {
      time.signal.throwIfAborted();
      const res = await this.client.customRequest('', { url, method: 'GET', signal: time.signal });
      // node-fetch (under the webdav client in Node) hands the body out as a Node Readable.
      return (res as unknown as { body: Readable }).body;
    } catch (e) {
      const status = (e as { status?: unknown }).status;
      if (typeof status === 'number') {
        await (e as { response?: { text(): Promise<string> } }).response?.text().catch(() => '');
        throw httpError(status, ctx);
      }
      throw networkError(e, ctx, time.timedOut());
    } finally {
      time.clear();
    }
  }

  /** Streams `body` to a URL that must not exist yet; answers the status (errors are the caller's). */
  async put(
    url: string,
    key: string,
    size: number,
    body: AsyncIterable<Buffer>,
    onSent: (n: number) => void,
    signal: AbortSignal,
  ): Promise<number> {
    try {
      const answer = await putStream(url, {
        agent: this.agent,
        size,
        body,
        onSent,
        signal,
        answerTimeoutMs: REQUEST_TIMEOUT_MS,
        headers: { ...this.auth, 'Content-Type': 'application/octet-stream', 'If-None-Match': '*' },
      });
      return answer.status;
    } catch (e) {
      throw networkError(e, this.errorContext(url, 'uploading', key), false);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
