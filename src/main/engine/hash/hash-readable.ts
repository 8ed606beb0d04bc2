// SHA-256 of a whole stream (a stored object read back, a local file), computed in the hash
// workers so that long reads never hold up the event loop.
import type { HashPool } from './hash-pool.js';

export async function sha256OfStream(
  pool: HashPool,
  stream: AsyncIterable<unknown>,
  onBytes?: (n: number) => void,
): Promise<{ sha256: string; size: number }> {
  const sha = pool.sha256Stream();
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      size += buf.length;
      onBytes?.(buf.length);
      await sha.update(buf);
    }
  } catch (e) {
    sha.drop();
    throw e;
  }
  return { sha256: await sha.digest(), size };
}
