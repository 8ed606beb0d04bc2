// Decides what an error means for the job: a problem of one file (that file fails, the rest go
// on), of the destination (retry with backoff, then pause the whole job with the reason; a
// destination out of space is waited for longer), or of this machine (the disk under the journal
// is full: the process stops, no file is blamed).
import { BeamdropError, toErrorInfo, type ErrorCode, type ErrorInfo } from '../../../shared/errors.js';
import { isLocalDiskFull } from '../journal/local-disk-full.js';
import { isTemporaryHttpStatus, networkFailure } from '../net/network-error.js';

export type ErrorScope = 'file' | 'destination' | 'cancelled' | 'local';

const DESTINATION_CODES: ReadonlySet<ErrorCode> = new Set([
  'destination-unreachable',
  'credentials-rejected',
  'credentials-missing',
  'disk-full',
  'transfer-failed',
]);

export interface Classified {
  info: ErrorInfo;
  scope: ErrorScope;
}

export function classifyError(e: unknown, context: { destination: string; file?: string }): Classified {
  if (isLocalDiskFull(e)) {
    const info = e instanceof BeamdropError ? e.toJSON() : null;
    return {
      info: info ?? {
        code: 'local-disk-full',
        retryable: true,
        message: `the local disk under Beamdrop's data folder is full (${(e as { code: string }).code}); free space and run the same command again.`,
      },
      scope: 'local',
    };
  }
  if (e instanceof BeamdropError) {
    if (e.code === 'cancelled') return { info: e.toJSON(), scope: 'cancelled' };
    return { info: e.toJSON(), scope: DESTINATION_CODES.has(e.code) ? 'destination' : 'file' };
  }
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (err?.name === 'AbortError') {
    return { info: { code: 'cancelled', message: 'stopped by the operator', retryable: true }, scope: 'cancelled' };
  }
  const status = err?.$metadata?.httpStatusCode;
  const file = context.file !== undefined ? { file: context.file } : {};
  const network = networkFailure(e);
  if (network) {
    return {
      info: {
        code: 'transfer-failed',
        retryable: true,
        ...file,
        message: `connection to destination "${context.destination}" failed (${network.description}); will retry.`,
      },
      scope: 'destination',
    };
  }
  if (status !== undefined && isTemporaryHttpStatus(status)) {
    return {
      info: {
        code: 'transfer-failed',
        retryable: true,
        ...file,
        message: `destination "${context.destination}" answered ${status} (${err?.name ?? 'error'}: ${err?.message ?? ''}); will retry.`,
      },
      scope: 'destination',
    };
  }
  return { info: { ...toErrorInfo(e), ...file }, scope: 'file' };
}

/** The destination is out of space: no file's fault; the job waits for space (policy `outOfSpace`). */
export function isOutOfSpace(info: Pick<ErrorInfo, 'code'>): boolean {
  return info.code === 'disk-full';
}

/** Exponential backoff with jitter, so that many files do not retry in lockstep. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + random() / 2));
}
