// Turns what a WebDAV server or the network said into a BeamdropError an operator can act on:
// which URL, which key, whether trying again later can help, and what to change otherwise.
import { BeamdropError, isBeamdropError } from '../../../../shared/errors.js';
import { isTemporaryHttpStatus, networkFailure } from '../../net/network-error.js';

export interface DavErrorContext {
  /** Destination name, for `beamdrop credentials set NAME`. */
  destination: string;
  /** The destination root URL, which is what the operator configured. */
  root: string;
  url: string;
  /** The object concerned, if any. */
  key?: string;
  /** What was being done, e.g. "uploading", "listing". */
  action: string;
}

function subject(ctx: DavErrorContext): string {
  return ctx.key === undefined ? ctx.url : `${ctx.key} (${ctx.url})`;
}

export function credentialsRejected(ctx: DavErrorContext, status: number): BeamdropError {
  return new BeamdropError({
    code: 'credentials-rejected',
    retryable: false,
    ...(ctx.key === undefined ? {} : { file: ctx.key }),
    message:
      `the WebDAV server at ${ctx.root} rejected the credentials of destination "${ctx.destination}" (HTTP ${status}); ` +
      `run \`beamdrop credentials set ${ctx.destination}\` to store the right user name and password.`,
  });
}

/** An HTTP status of 400 or more, answered to `ctx.action`. */
export function httpError(status: number, ctx: DavErrorContext): BeamdropError {
  const file = ctx.key === undefined ? {} : { file: ctx.key };
  const what = `${ctx.action} ${subject(ctx)}`;
  if (status === 401) return credentialsRejected(ctx, status);
  if (status === 403) {
    return new BeamdropError({
      code: 'permission-denied',
      retryable: false,
      ...file,
      message: `the WebDAV server refused ${what} (HTTP 403): the account of destination "${ctx.destination}" may not write there; ask the storage administrators for access.`,
    });
  }
  if (status === 404) {
    return new BeamdropError({
      code: 'not-found',
      retryable: false,
      ...file,
      message: `${what} failed: ${ctx.url} does not exist on the WebDAV server (HTTP 404).`,
    });
  }
  if (status === 507) {
    // Not final: once space is freed the same request succeeds (the job waits for it).
    return new BeamdropError({
      code: 'disk-full',
      retryable: true,
      ...file,
      message: `destination "${ctx.destination}" is out of space: the WebDAV server at ${ctx.root} answered HTTP 507 Insufficient Storage while ${what}. Ask the storage administrators to free space or raise the quota.`,
    });
  }
  if (status === 413) {
    return new BeamdropError({
      code: 'transfer-failed',
      retryable: false,
      ...file,
      message: `the WebDAV server refuses a file this large (HTTP 413) while ${what}; ask the storage administrators to raise its request size limit (Apache: LimitRequestBody).`,
    });
  }
  const temporary = isTemporaryHttpStatus(status) || status === 409 || status === 423;
  return new BeamdropError({
    code: 'transfer-failed',
    retryable: temporary,
    ...file,
    message: `the WebDAV server answered HTTP ${status} while ${what}${temporary ? '; it will be tried again' : ''}.`,
  });
}

export function unreachable(ctx: DavErrorContext, why: string, cause?: unknown): BeamdropError {
  return new BeamdropError(
    {
      code: 'destination-unreachable',
      retryable: true,
      ...(ctx.key === undefined ? {} : { file: ctx.key }),
      message: `cannot reach the WebDAV server at ${ctx.root} (${why}) while ${ctx.action}; check the network connection and the URL of destination "${ctx.destination}" in the facility profile.`,
    },
    { cause },
  );
}

export function cancelled(ctx: DavErrorContext): BeamdropError {
  return new BeamdropError({
    code: 'cancelled',
    retryable: false,
    ...(ctx.key === undefined ? {} : { file: ctx.key }),
    message: `${ctx.action} ${subject(ctx)} was cancelled.`,
  });
}

export function isAbort(e: unknown): boolean {
  // DOMException from AbortSignal, AbortError from node-fetch and node:http alike.
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/** Any failure of a request that did not yield an HTTP status. */
export function networkError(e: unknown, ctx: DavErrorContext, timedOut: boolean): BeamdropError {
  if (isBeamdropError(e)) return e;
  if (timedOut || (e instanceof Error && e.name === 'TimeoutError')) return unreachable(ctx, 'no answer in time', e);
  if (isAbort(e)) return cancelled(ctx);
  const network = networkFailure(e);
  if (network) return unreachable(ctx, network.description, e);
  const message = e instanceof Error ? e.message : String(e);
  return new BeamdropError(
    {
      code: 'transfer-failed',
      retryable: true,
      ...(ctx.key === undefined ? {} : { file: ctx.key }),
      message: `${ctx.action} ${subject(ctx)} failed: ${message}; it will be tried again.`,
    },
    { cause: e },
  );
}
