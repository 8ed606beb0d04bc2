// The one streaming PUT. The `webdav` client sends streams without Content-Length and reports no
// upload progress, so the body is written here with node:http(s) on the shared keep-alive agent:
// an explicit Content-Length (the server can tell a cut-off body from a complete one), chunks
// written as the source hands them out with backpressure (memory stays at a chunk or two, even
// for 10 GiB files), and progress counted when a chunk has been flushed to the socket.
//
// Apache reads and discards a whole request body before it answers an error such as 401, so a
// refused 10 GiB PUT would still cost 10 GiB. Larger bodies therefore ask `Expect: 100-continue`
// and are sent only after the server's go-ahead (one round trip, worth it above a megabyte).
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';

/** Bodies from this size on wait for "100 Continue" (curl's rule). */
const EXPECT_CONTINUE_BYTES = 1024 * 1024;
/** A server or proxy that ignores Expect gets the body anyway after this long (RFC 9110 §10.1.1). */
const CONTINUE_WAIT_MS = 1_000;

export interface PutOptions {
  agent: http.Agent;
  headers: OutgoingHttpHeaders;
  size: number;
  body: AsyncIterable<Buffer>;
  onSent: (bytes: number) => void;
  signal: AbortSignal;
  /** How long to wait for the answer once the whole body has been sent. */
  answerTimeoutMs: number;
}

export interface PutAnswer {
  status: number;
  statusText: string;
}

export class PutTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Resolves with the server's answer; rejects with the source's error, an abort or a network error. */
export async function putStream(url: string, options: PutOptions): Promise<PutAnswer> {
  const expect = options.size >= EXPECT_CONTINUE_BYTES;
  const answer = await attempt(url, options, expect);
  // 417 comes before any byte was read from the source, so the PUT can simply go again without Expect.
  if (expect && answer.status === 417) return attempt(url, options, false);
  return answer;
}

async function attempt(url: string, options: PutOptions, expect: boolean): Promise<PutAnswer> {
  const { agent, size, body, onSent, signal } = options;
  signal.throwIfAborted();
  const send = url.startsWith('https:') ? https.request : http.request;
  const req = send(url, {
    method: 'PUT',
    agent,
    signal,
    headers: { ...options.headers, 'Content-Length': String(size), ...(expect ? { Expect: '100-continue' } : {}) },
  });
  let answer: IncomingMessage | null = null;
  let failure: Error | null = null;
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => {
      answer = res;
      resolve(res);
    });
    // Kept for the life of the request: a second socket error must not go unhandled.
    req.on('error', (e) => {
      failure ??= e;
      reject(e);
    });
  });
  answered.catch(() => undefined);
  const stopped = () => answer !== null || failure !== null || req.destroyed;

  if (expect) {
    req.flushHeaders();
    await goAhead(req);
  }
  try {
    if (!stopped()) {
      for await (const chunk of body) {
        signal.throwIfAborted();
        // An answer before the end is a refusal (auth, precondition, size): stop sending.
        if (stopped()) break;
        const length = chunk.length;
        if (
          !req.write(chunk, (err) => {
            if (!err) onSent(length);
          })
        )
          await settled(req, ['drain']);
      }
    }
    signal.throwIfAborted();
  } catch (e) {
    req.destroy();
    throw e;
  }
  const early = stopped();
  if (!early) {
    req.end();
    req.setTimeout(options.answerTimeoutMs, () =>
      req.destroy(new PutTimeoutError(`no answer within ${options.answerTimeoutMs} ms`)),
    );
  }
  const res = await answered;
  // The body of a PUT answer is a short HTML note; reading it frees the socket for the next file.
  await drain(res);
  // A body cut short leaves the connection in an unknown state: it must not be reused.
  if (early) req.destroy();
  return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '' };
}

/** Waits for "100 Continue", an answer, a failure, or the fallback delay. */
async function goAhead(req: http.ClientRequest): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    settled(req, ['continue', 'response']),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CONTINUE_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
}

/** Resolves on the first of `events`, or when the request fails or closes. */
function settled(req: http.ClientRequest, events: string[]): Promise<void> {
  const all = [...events, 'close', 'error'];
  return new Promise((resolve) => {
    const done = () => {
      for (const e of all) req.off(e, done);
      resolve();
    };
    for (const e of all) req.on(e, done);
  });
}

function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    res.on('end', resolve);
    res.on('error', () => resolve());
    res.on('close', () => resolve());
    res.resume();
  });
}
