// A real MinIO server for the integration and fault tests: started on a free loopback port from
// the binary that scripts/provision-test-servers.sh builds, stopped (and restartable on the same
// port and data) by the tests. Also holds the small process helpers that apache-dav.ts shares.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { serverLifecycle, type ServerLifecycle } from './server-lifecycle.js';

/** A running MinIO; destroy() removes the temporary directory if startMinio created it. */
export interface MinioServer extends ServerLifecycle {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  port: number;
  dataDir: string;
  /** minio's stdout and stderr, appended across restarts */
  logFile: string;
}

export const minioBin = (): string => process.env.BEAMDROP_MINIO_BIN ?? join(homedir(), '.cache/beamdrop/bin/minio');

const startTimeoutMs = Number(process.env.BEAMDROP_SERVER_START_TIMEOUT_MS ?? 30_000);

/** A free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not read the port of a bound socket'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/** The last lines of a log file, for error messages. */
export function logTail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(no log at ${file}: ${(err as Error).message})`;
  }
}

export interface ManagedProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | string | null>;
  hasExited(): boolean;
}

/** Spawn a server with stdout and stderr appended to logFile (written by the OS, not by us). */
export function spawnLogged(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ManagedProcess {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let done = false;
  // If the test process exits without a teardown (crash, Ctrl-C), do not leave the server behind.
  const killOnExit = (): void => {
    if (!done) child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      process.off('exit', killOnExit);
      resolve(code ?? signal);
    });
    child.once('error', (err) => {
      done = true;
      process.off('exit', killOnExit);
      resolve(`spawn error: ${err.message}`);
    });
  });
  if (child.pid === undefined) {
    // spawn failed synchronously (e.g. ENOENT): the 'error' event says why
    return { child, pid: -1, exited, hasExited: () => true };
  }
  return { child, pid: child.pid, exited, hasExited: () => done };
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process has exited. */
export async function stopProcess(p: ManagedProcess, graceMs = 5_000): Promise<void> {
  if (p.hasExited()) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!p.hasExited()) p.child.kill('SIGKILL');
  }, graceMs);
  try {
    await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

export interface ProbeResult {
  status: number;
  body: string;
}

/** One HTTP request on a fresh connection (no keep-alive pool that a restart could leave stale). */
export function probe(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  timeoutMs = 2_000,
): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * Poll `check` until it returns true. Fails early if the process exits, and on timeout; both
 * errors carry the tail of the server's log.
 */
export async function waitUntilReady(
  what: string,
  p: ManagedProcess,
  logFile: string,
  check: () => Promise<boolean>,
  timeoutMs = startTimeoutMs,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    if (p.hasExited()) {
      const how = await p.exited;
      throw new Error(`${what} exited before it was ready (${String(how)}); last lines of ${logFile}:\n${logTail(logFile)}`);
    }
    try {
      if (await check()) return;
      lastError = 'answered, but not ready';
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      await stopProcess(p, 1_000);
      throw new Error(`${what} not ready after ${timeoutMs} ms (${lastError}); last lines of ${logFile}:\n${logTail(logFile)}`);
    }
    await sleep(100);
  }
}

export async function startMinio(opts: { dataDir?: string; port?: number } = {}): Promise<MinioServer> {
  const bin = minioBin();
  let createdBase: string | undefined;
  let dataDir = opts.dataDir;
  if (dataDir === undefined) {
    createdBase = await mkdtemp(join(tmpdir(), 'beamdrop-minio-'));
    dataDir = join(createdBase, 'data');
  }
  await mkdir(dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const logFile = join(dirname(dataDir), `minio-${port}.log`);
  const accessKeyId = `beamdrop-test-${randomBytes(3).toString('hex')}`;
  const secretAccessKey = randomBytes(18).toString('base64url');
  const region = 'us-east-1';
  const endpoint = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MINIO_ROOT_USER: accessKeyId,
    MINIO_ROOT_PASSWORD: secretAccessKey,
    MINIO_REGION: region,
    MINIO_UPDATE: 'off',
    MINIO_BROWSER: 'off',
  };

  const { life, start } = serverLifecycle({
    launch: async (track) => {
      // The console still wants its own address even with the browser off: a fresh free port.
      const consolePort = await freePort();
      const args = ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`];
      const p = spawnLogged(bin, args, logFile, env);
      track(p);
      await waitUntilReady(`minio (${bin}) on port ${port}`, p, logFile, async () => {
        const res = await probe(`${endpoint}/minio/health/ready`, {}, 1_000);
        return res.status === 200;
      });
    },
    cleanup: async () => {
      if (createdBase !== undefined) await rm(createdBase, { recursive: true, force: true });
    },
  });
  const server: MinioServer = Object.assign(life, { endpoint, accessKeyId, secretAccessKey, region, port, dataDir, logFile });
  await start();
  return server;
}

/** An S3 client for a test MinIO, with the checksum settings the engine uses. */
export function minioClient(server: Pick<MinioServer, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'region'>): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Create a fresh, uniquely named bucket and return its name. */
export async function createBucket(
  server: Pick<MinioServer, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'region'>,
  name?: string,
): Promise<string> {
  const bucket = name ?? `test-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const client = minioClient(server);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return bucket;
}
