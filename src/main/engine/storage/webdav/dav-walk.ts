// Lists everything below a collection. One PROPFIND with Depth: infinity when the server allows
// it; Apache refuses that by default (DavDepthInfinity Off → 403), and then the tree is walked
// one collection at a time with Depth: 1. What the server allows is learnt once per destination.
import { keyUrl } from './dav-paths.js';
import type { DavClient, DavEntryWithKey } from './dav-client.js';

/** A listing of a big tree can take a while to produce; only its answer is waited for this long. */
const LIST_TIMEOUT_MS = 300_000;

export interface WalkState {
  /** null until the server was asked once. */
  depthInfinity: boolean | null;
}

function isBelow(key: string, dir: string): boolean {
  return dir === '' ? key !== '' : key.startsWith(`${dir}/`);
}

/** Files and collections strictly below `dir` (a key; '' is the root). A missing `dir` yields nothing. */
export async function* walk(dav: DavClient, dir: string, state: WalkState, action: string): AsyncGenerator<DavEntryWithKey> {
  const request = { action, timeoutMs: LIST_TIMEOUT_MS };
  if (state.depthInfinity !== false) {
    const all = await dav.propfind(keyUrl(dav.root, dir, true), 'infinity', { ...request, accept: [403] });
    if (all.status !== 403) {
      state.depthInfinity = true;
      for (const entry of all.entries) if (isBelow(entry.key, dir)) yield entry;
      return;
    }
    // A real permission problem shows up again on the Depth: 1 request below.
    state.depthInfinity = false;
  }
  const pending = [dir];
  while (pending.length > 0) {
    const collection = pending.pop()!;
    // A collection deleted while walking answers 404 and simply has no entries.
    const level = await dav.propfind(keyUrl(dav.root, collection, true), '1', request);
    for (const entry of level.entries) {
      if (!isBelow(entry.key, collection)) continue;
      if (entry.collection) pending.push(entry.key);
      yield entry;
    }
  }
}
