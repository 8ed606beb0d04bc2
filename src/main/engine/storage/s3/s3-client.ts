// Builds the S3 client of one destination: path-style for on-premise servers, checksums only
// where we send them ourselves, few SDK retries (the engine retries with backoff and resumes),
// a keep-alive agent sized for every part of every file in flight, and no SDK re-hash of bodies
// for signing (see payloadHashMiddleware).
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
// A dependency of @aws-sdk/client-s3 (same major), resolved from the hoisted node_modules.
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3DestinationConfig } from '../../../../shared/profile-schema.js';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Files in flight at most (profile schema: upload.concurrency ≤ 64). */
const MAX_FILES = 64;

const CONTENT_SHA256 = 'x-amz-content-sha256';

/**
 * SigV4 signs a hash of the body, which the SDK would compute on the event loop for every
 * request (seconds per GiB). The signer keeps an x-amz-content-sha256 header that is already
 * set, so: an UploadPart is sent UNSIGNED-PAYLOAD — its signed x-amz-checksum-crc32c header
 * still makes the server verify every byte — and a PutObject carries the SHA-256 we computed
 * anyway (its x-amz-checksum-sha256, in hex), which the server checks against the body.
 */
function addPayloadHashMiddleware(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> } | undefined;
      const input = args.input as { ChecksumSHA256?: string };
      if (request?.headers && !Object.keys(request.headers).some((h) => h.toLowerCase() === CONTENT_SHA256)) {
        if (context.commandName === 'UploadPartCommand') request.headers[CONTENT_SHA256] = 'UNSIGNED-PAYLOAD';
        else if (context.commandName === 'PutObjectCommand' && input.ChecksumSHA256) {
          request.headers[CONTENT_SHA256] = Buffer.from(input.ChecksumSHA256, 'base64').toString('hex');
        }
      }
      return next(args);
    },
    { step: 'build', name: 'beamdropPayloadHash' },
  );
}

export function createS3Client(config: S3DestinationConfig, credentials: S3Credentials, partConcurrency: number): S3Client {
  // Sockets open only on demand; the cap just has to cover files × parts so requests never queue
  // behind the agent (queued requests would count against the socket timeout).
  const maxSockets = Math.min(1024, Math.max(16, MAX_FILES * partConcurrency));
  const agentOptions = { keepAlive: true, keepAliveMsecs: 15_000, maxSockets, maxFreeSockets: 64 };
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    // Since SDK 3.729 every PUT gets an aws-chunked CRC32 trailer unless told otherwise, which
    // several S3-compatible servers reject; we send the checksums we choose as plain headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // One quick SDK retry for a dropped keep-alive socket; longer outages are the engine's job.
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      connectionTimeout: 10_000,
      // Idle time, not total time: a 512 MiB part on a slow link may take minutes, but a socket
      // silent for two minutes is dead.
      socketTimeout: 120_000,
    }),
  });
  addPayloadHashMiddleware(client);
  return client;
}
