import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile, stat, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashPool } from '../../src/main/engine/hash/hash-pool.js';
import { FileSource } from '../../src/main/engine/transfer/file-source.js';

const pool = new HashPool(2);
afterAll(() => pool.close());

async function fixture(bytes: Buffer) {
  const dir = await mkdtemp(join(tmpdir(), 'bd-src-'));
  const path = join(dir, 'f.bin');
  await writeFile(path, bytes);
  const st = await stat(path);
  return { path, st };
}

describe('FileSource', () => {
  it('hashes exactly the bytes it hands out, reading each byte once', async () => {
    const data = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const { path, st } = await fixture(data);
    let read = 0;
    const src = await FileSource.open(
      path,
      'f.bin',
      { size: st.size, mtimeMs: st.mtimeMs },
      { hashes: pool, throttle: null, onRead: (n) => (read += n) },
    );
    const parts: Buffer[] = [];
    for await (const c of src.chunks()) parts.push(c);
    const sha = await src.finish();
    await src.close();
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(sha).toBe(createHash('sha256').update(data).digest('hex'));
    expect(read).toBe(data.length);
  });

  it('computes CRC32C and SHA-256 part checksums like the S3 headers expect', async () => {
    const { path, st } = await fixture(Buffer.from('123456789'));
    const src = await FileSource.open(path, 'f.bin', { size: st.size, mtimeMs: st.mtimeMs }, { hashes: pool, throttle: null });
    // CRC32C check value of "123456789" is 0xE3069283.
    expect(await src.partChecksum(Buffer.from('123456789'), 'crc32c')).toBe(Buffer.from('e3069283', 'hex').toString('base64'));
    expect(await src.partChecksum(Buffer.from('abc'), 'sha256')).toBe(createHash('sha256').update('abc').digest('base64'));
    await src.close();
  });

  it('gives each part the CRC32C of its bytes from the same pass that feeds the SHA-256', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 5);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
    const { path, st } = await fixture(data);
    let read = 0;
    const src = await FileSource.open(
      path,
      'f.bin',
      { size: st.size, mtimeMs: st.mtimeMs },
      { hashes: pool, throttle: null, onRead: (n) => (read += n) },
    );
    const partSize = 1024 * 1024 + 1;
    const crcs: string[] = [];
    for (let at = 0; at < data.length; at += partSize) {
      const { data: part, crc32c } = await (await src.readPart(at, partSize)).checked;
      expect(part.equals(data.subarray(at, at + partSize))).toBe(true);
      crcs.push(crc32c);
    }
    await expect(src.readPart(0, 10)).rejects.toThrow(/out of order/);
    const sha = await src.finish();
    await src.close();
    expect(sha).toBe(createHash('sha256').update(data).digest('hex'));
    expect(read).toBe(data.length);
    for (let i = 0; i < crcs.length; i++) {
      expect(crcs[i]).toBe(await pool.checksum(data.subarray(i * partSize, (i + 1) * partSize), 'crc32c'));
    }
  });

  it('refuses to finish when the file was appended to while being read', async () => {
    const { path, st } = await fixture(Buffer.alloc(3000, 1));
    const src = await FileSource.open(path, 'f.bin', { size: st.size, mtimeMs: st.mtimeMs }, { hashes: pool, throttle: null });
    await src.read(0, 3000);
    await appendFile(path, 'more');
    await expect(src.finish()).rejects.toMatchObject({ code: 'changed-during-upload', file: 'f.bin' });
    await src.close();
  });

  it('reports a file deleted after the scan as vanished', async () => {
    await expect(
      FileSource.open('/nonexistent/x.bin', 'x.bin', { size: 1, mtimeMs: 0 }, { hashes: pool, throttle: null }),
    ).rejects.toMatchObject({ code: 'vanished', file: 'x.bin' });
  });
});
