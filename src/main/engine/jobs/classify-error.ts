// Decides what an error means for the job: a problem of one file (that file fails, the rest go
// on), or of the destination (retry with backoff, then pause the whole job with the reason).
import { BeamdropError, toErrorInfo, type ErrorCode, type ErrorInfo } from '../../../shared/errors.js';
import { isTemporaryHttpStatus, networkFailure } from '../net/network-error.js';

export type ErrorScope = 'file' | 'destination' | 'cancelled';

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

/** Exponential backoff with jitter, so that many files do not retry in lockstep. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + random() / 2));
}
