// Turns what the AWS SDK throws (service exceptions, socket errors, aborts) into BeamdropErrors
// that tell the operator what happened and what to do, and tell the engine whether to retry.
import { BeamdropError, type ErrorInfo } from '../../../../shared/errors.js';
import { isTemporaryHttpStatus, networkFailure } from '../../net/network-error.js';

export interface S3ErrorContext {
  /** Destination name, as in `beamdrop credentials set NAME`. */
  name: string;
  endpoint: string;
  bucket: string;
  /** What was being done, e.g. "upload part 3 of raw/a.h5". */
  action: string;
  key?: string;
  file?: string;
}

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'InvalidSecurity',
]);
const CHECKSUM_CODES = new Set(['XAmzContentChecksumMismatch', 'BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch']);
const OUT_OF_SPACE_CODES = new Set([
  'XMinioStorageFull',
  'InsufficientStorage',
  'XMinioAdminBucketQuotaExceeded',
  'QuotaExceeded',
  'QuotaExceededException',
]);
const TRANSIENT_CODES = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'XMinioServerNotInitialized',
]);

/**
 * Out of space, as MinIO really answers it: 507 XMinioStorageFull when the object's announced size
 * does not fit, 500 InternalError "…cause(no space left on device)" when a drive fills during the
 * write, 400 XMinioAdminBucketQuotaExceeded past a bucket quota; other servers: 507, QuotaExceeded.
 */
function isOutOfSpace(code: string | undefined, status: number | undefined, message: string | undefined): boolean {
  if (status === 507 || OUT_OF_SPACE_CODES.has(code ?? '')) return true;
  return code === 'InternalError' && /no space left on device|disk quota exceeded/i.test(message ?? '');
}

/** The S3 error code of an SDK error (HEAD responses have no body, so only a status). */
export function s3Code(e: unknown): string | undefined {
  const err = e as SdkError | null;
  return err?.Code ?? (err?.name && err.name !== 'Error' && err.name !== 'Unknown' ? err.name : undefined);
}

export function httpStatus(e: unknown): number | undefined {
  return (e as SdkError | null)?.$metadata?.httpStatusCode;
}

export function isNotFound(e: unknown): boolean {
  const code = s3Code(e);
  return httpStatus(e) === 404 || code === 'NotFound' || code === 'NoSuchKey';
}

export function mapS3Error(e: unknown, ctx: S3ErrorContext, signal?: AbortSignal): BeamdropError {
  if (e instanceof BeamdropError) return e;
  if (signal?.aborted) {
    if (signal.reason instanceof BeamdropError) return signal.reason;
    return make(e, ctx, 'cancelled', true, `${ctx.action} was cancelled; it resumes from the parts already sent.`);
  }
  const err = (e ?? {}) as SdkError;
  const status = httpStatus(e);
  const code = s3Code(e);
  const where = `${ctx.endpoint} (bucket ${ctx.bucket})`;
  const target = ctx.key === undefined ? `bucket ${ctx.bucket}` : `s3://${ctx.bucket}/${ctx.key}`;

  const network = status === undefined ? networkFailure(e) : null;
  if (network) {
    return make(
      e,
      ctx,
      'destination-unreachable',
      true,
      `cannot reach S3 endpoint ${ctx.endpoint} (${network.description}${err.message && !network.description.includes(err.message) ? `: ${err.message}` : ''}) during ${ctx.action}; check the network connection and the endpoint URL of destination "${ctx.name}". It will be tried again.`,
    );
  }
  // HEAD answers carry no error body: a bare 403 there is most often a wrong key or secret.
  if (CREDENTIAL_CODES.has(code ?? '') || (status === 403 && (code === undefined || code === 'Forbidden'))) {
    return make(
      e,
      ctx,
      'credentials-rejected',
      false,
      `${where} rejected the credentials of destination "${ctx.name}" (${code ?? 'HTTP 403'}) during ${ctx.action}; run \`beamdrop credentials set ${ctx.name}\` to enter the right access key and secret, or ask the storage admins for access to bucket ${ctx.bucket}.`,
    );
  }
  if (code === 'AccessDenied' || status === 403) {
    return make(
      e,
      ctx,
      'permission-denied',
      false,
      `${where} denied ${ctx.action} (${code ?? 'HTTP 403'}); the credentials of destination "${ctx.name}" are valid but lack this permission on ${target}: ask the storage admins to grant it.`,
    );
  }
  if (code === 'NoSuchBucket' || (status === 404 && ctx.key === undefined)) {
    return make(
      e,
      ctx,
      'not-found',
      false,
      `bucket "${ctx.bucket}" does not exist at ${ctx.endpoint}; check the bucket name of destination "${ctx.name}" in the facility profile or ask the storage admins to create it.`,
    );
  }
  if (code === 'PreconditionFailed' || status === 412) {
    return make(
      e,
      ctx,
      'conflict',
      false,
      `${target} already exists with other content; it was not overwritten. Remove or rename it on the storage, or change the key template, then retry.`,
    );
  }
  if (CHECKSUM_CODES.has(code ?? '')) {
    return make(
      e,
      ctx,
      'checksum-mismatch',
      true,
      `${where} received bytes whose checksum differs from what was sent during ${ctx.action} (${code}); the data was damaged on the way and will be sent again.`,
    );
  }
  if (isOutOfSpace(code, status, err.message)) {
    return make(
      e,
      ctx,
      'disk-full',
      true,
      `destination "${ctx.name}" is out of space: ${where} answered ${code ?? `HTTP ${status}`} during ${ctx.action}. Ask the storage admins to free space (or raise the quota of bucket ${ctx.bucket}).`,
    );
  }
  if (status === 404 || code === 'NoSuchKey' || code === 'NoSuchUpload') {
    return make(e, ctx, 'not-found', false, `${target} was not found during ${ctx.action} (${code ?? 'HTTP 404'}).`);
  }
  const transient =
    status === undefined || isTemporaryHttpStatus(status) || TRANSIENT_CODES.has(code ?? '') || Boolean(err.$retryable);
  return make(
    e,
    ctx,
    'transfer-failed',
    transient,
    `${where} failed ${ctx.action}: ${code ?? (status ? `HTTP ${status}` : 'error')} ${err.message && err.message !== 'UnknownError' ? err.message : ''}`.trim() +
      (transient ? '; it will be tried again.' : '.'),
  );
}

function make(cause: unknown, ctx: S3ErrorContext, code: ErrorInfo['code'], retryable: boolean, message: string): BeamdropError {
  const info: ErrorInfo = { code, retryable, message };
  if (ctx.file !== undefined) info.file = ctx.file;
  return new BeamdropError(info, { cause });
}

/** The S3 error code behind an error, looking through a BeamdropError made by mapS3Error. */
export function underlyingCode(e: unknown): string | undefined {
  return s3Code(e instanceof BeamdropError ? e.cause : e);
}

export function underlyingNotFound(e: unknown): boolean {
  return isNotFound(e instanceof BeamdropError ? e.cause : e);
}
