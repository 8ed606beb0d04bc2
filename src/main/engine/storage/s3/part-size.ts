// Chooses the multipart part size from the file size. A fixed 5 MiB part caps an object near
// 48 GiB (S3 allows 10,000 parts), so the part grows with the file: about 9,000 parts at most,
// leaving headroom under the hard 10,000 limit, but never below the policy minimum.
import { BeamdropError } from '../../../../shared/errors.js';

export const MiB = 1024 * 1024;
export const MAX_PARTS = 10_000;
/** S3 part limits: every part but the last is 5 MiB–5 GiB. */
export const MIN_PART = 5 * MiB;
export const MAX_PART = 5 * 1024 * MiB;
/** Largest single PUT S3 accepts; bigger files must go multipart whatever the threshold says. */
export const MAX_SINGLE_PUT = 5 * 1024 * MiB;
/** Target part count: below MAX_PARTS so a file that grows a little still fits. */
const TARGET_PARTS = 9_000;

const roundUpToMiB = (n: number): number => Math.ceil(n / MiB) * MiB;

export function partCount(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize));
}

/** Bytes of part `partNumber` (1-based) of a file of `size` bytes cut into `partSize` parts. */
export function partLength(size: number, partSize: number, partNumber: number): number {
  return Math.max(0, Math.min(partSize, size - (partNumber - 1) * partSize));
}

export function choosePartSize(size: number, limits: { min: number; max: number }): number {
  const byCount = roundUpToMiB(Math.ceil(size / TARGET_PARTS));
  let part = Math.min(Math.max(limits.min, byCount), limits.max);
  // The policy maximum yields to the part limit: a 5 TiB file needs parts above 512 MiB.
  if (partCount(size, part) > MAX_PARTS) part = roundUpToMiB(Math.ceil(size / MAX_PARTS));
  part = Math.max(part, MIN_PART);
  if (part > MAX_PART) {
    throw new BeamdropError({
      code: 'transfer-failed',
      retryable: false,
      message: `a file of ${size} bytes does not fit in ${MAX_PARTS} S3 parts of at most 5 GiB; split it before uploading.`,
    });
  }
  return part;
}
