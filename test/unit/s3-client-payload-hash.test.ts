// The S3 client does not re-hash request bodies to sign them: what x-amz-content-sha256 it sends.
import { it, expect } from 'vitest';
import http from 'node:http';
import { PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/main/engine/storage/s3/s3-client.js';

it('signs UploadPart as UNSIGNED-PAYLOAD and PutObject with our SHA-256, never hashing bodies', async () => {
  const seen: http.IncomingHttpHeaders[] = [];
  const srv = http.createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.setHeader('ETag', '"x"');
      res.end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const c = createS3Client(
    { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' } as never,
    { accessKeyId: 'a', secretAccessKey: 'b' },
    4,
  );
  await c.send(
    new UploadPartCommand({
      Bucket: 'b',
      Key: 'k',
      UploadId: 'u',
      PartNumber: 1,
      Body: Buffer.alloc(10),
      ChecksumCRC32C: 'AAAAAA==',
    }),
  );
  await c.send(
    new PutObjectCommand({
      Bucket: 'b',
      Key: 'k',
      Body: Buffer.alloc(10),
      ChecksumSHA256: Buffer.alloc(32, 1).toString('base64'),
    }),
  );
  srv.close();
  c.destroy();
  expect(seen[0]!['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  expect(seen[1]!['x-amz-content-sha256']).toBe('01'.repeat(32));
});
