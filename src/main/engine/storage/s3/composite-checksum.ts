// The checksum S3 (and MinIO) report for a multipart upload created with CRC32C: the CRC32C of
// the concatenated raw part CRC32Cs, base64, then "-" and the number of parts. Comparing it with
// ours proves the server assembled exactly the parts we checked, in our order.
import type { UploadSource } from '../destination.js';

export async function compositeChecksum(source: UploadSource, partChecksums: string[]): Promise<string> {
  const raw = Buffer.concat(partChecksums.map((c) => Buffer.from(c, 'base64')));
  return `${await source.partChecksum(raw, 'crc32c')}-${partChecksums.length}`;
}
