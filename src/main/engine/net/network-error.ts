// The one place that knows what a network failure looks like in Node: the system and undici error
// codes (on the error, its `cause` chain or an AggregateError's errors), the messages that come
// without a code, timeouts, and the HTTP statuses after which the same request may succeed.
// Storage (S3, WebDAV), the job's error classification and the catalogue adapters all ask here,
// so "the network failed" means the same everywhere and reads the same to the operator.

/** Codes meaning no answer came, or the connection was lost: worth trying again later. */
const NETWORK_CODES: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'connection refused'],
  ['ECONNRESET', 'connection reset'],
  ['ECONNABORTED', 'connection aborted'],
  ['EPIPE', 'connection closed while sending'],
  ['ETIMEDOUT', 'connection timed out'],
  ['ENOTFOUND', 'host name not found'],
  ['EAI_AGAIN', 'host name lookup failed for now'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['EHOSTDOWN', 'host down'],
  ['ENETUNREACH', 'network unreachable'],
  ['ENETDOWN', 'network down'],
  ['EPROTO', 'TLS protocol error'],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'TLS handshake failed: is the URL http:// or https://?'],
  ['UND_ERR_SOCKET', 'connection closed by the other side'],
  ['UND_ERR_CONNECT_TIMEOUT', 'no connection in time'],
  ['UND_ERR_HEADERS_TIMEOUT', 'no answer in time'],
  ['UND_ERR_BODY_TIMEOUT', 'the answer stopped arriving'],
]);

/** What Node's http ("socket hang up") and undici ("other side closed", "fetch failed", "terminated") say without a known code. */
const NETWORK_MESSAGE = /socket hang up|other side closed|fetch failed|terminated/i;

export interface NetworkFailure {
  /** The system or undici error code, e.g. "ECONNREFUSED", when there is one. */
  code: string | undefined;
  /** For the operator, e.g. "connection refused (ECONNREFUSED)", "no answer in time". */
  description: string;
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and what it wraps (cause chain, AggregateError members), nearest first. */
function chain(e: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [e];
  while (queue.length && out.length < 8) {
    const x = queue.shift();
    if (typeof x !== 'object' || x === null || out.includes(x as ErrorLike)) continue;
    const err = x as ErrorLike;
    out.push(err);
    if (err.cause !== undefined) queue.push(err.cause);
    if (Array.isArray(err.errors)) queue.push(...(err.errors as unknown[]));
  }
  return out;
}

/**
 * Whether `e` means the network failed (refused, reset, timed out, name not found, connection
 * lost), and how to say so; null for anything else, including a cancel (AbortError) and any
 * error that carries an HTTP answer. The caller decides what it means for its own work.
 */
export function networkFailure(e: unknown): NetworkFailure | null {
  const errors = chain(e);
  if (errors[0]?.name === 'AbortError') return null;
  for (const err of errors) {
    const code = typeof err.code === 'string' ? err.code : undefined;
    const known = code === undefined ? undefined : NETWORK_CODES.get(code);
    if (known !== undefined) return { code, description: `${known} (${code})` };
  }
  if (errors.some((err) => err.name === 'TimeoutError')) return { code: undefined, description: 'no answer in time' };
  const said = errors.map((err) => (typeof err.message === 'string' ? err.message : '')).find((m) => NETWORK_MESSAGE.test(m));
  return said === undefined ? null : { code: undefined, description: said };
}

/** networkFailure's description, or else the error's own message: for errors known to come from a request. */
export function describeNetworkError(e: unknown): string {
  const failure = networkFailure(e);
  if (failure) return failure.description;
  const message = (e as ErrorLike | null)?.message;
  return typeof message === 'string' && message !== '' ? message : String(e);
}

/** An HTTP status after which the same request may succeed later: 5xx, 408 Request Timeout, 429 Too Many Requests. */
export function isTemporaryHttpStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
