// The client and bucket of one destination plus the one way every S3 call is made: with the
// caller's abort signal, and with failures turned into BeamdropErrors that name what was done.
import type { S3Client } from '@aws-sdk/client-s3';
import { mapS3Error, type S3ErrorContext } from './s3-errors.js';

export interface S3Target {
  readonly client: S3Client;
  /** Destination name, for messages (`beamdrop credentials set NAME`). */
  readonly name: string;
  readonly endpoint: string;
  readonly bucket: string;
}

export type CallContext = Pick<S3ErrorContext, 'action' | 'key' | 'file'>;

/** Runs one SDK call; `run` gets the signal to pass as `abortSignal`. */
export async function s3Call<T>(
  t: S3Target,
  what: CallContext,
  signal: AbortSignal | undefined,
  run: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  try {
    return await run(signal);
  } catch (e) {
    throw mapS3Error(e, { name: t.name, endpoint: t.endpoint, bucket: t.bucket, ...what }, signal);
  }
}

export function errorContext(t: S3Target, what: CallContext): S3ErrorContext {
  return { name: t.name, endpoint: t.endpoint, bucket: t.bucket, ...what };
}
