// Makes sure the folder (collection) of a key exists before its PUT, remembering what exists so
// that 2,000 files in one folder cost one MKCOL, not 2,000. It tries the deepest missing level
// first (usually only the dataset folder is new) and climbs only when the server says the parent
// is missing (409). Concurrent uploads into the same new folder share one request.
import { BeamdropError } from '../../../../shared/errors.js';
import { parentKey } from './dav-paths.js';

/** MKCOL status: 201 created, 405 already there, 409 parent missing (anything else throws). */
export type Mkcol = (dir: string) => Promise<201 | 405 | 409>;

export class CollectionCache {
  private readonly known = new Map<string, Promise<void>>();

  constructor(private readonly mkcol: Mkcol) {}

  /** `dir` is a key relative to the root; '' is the root, which must exist already. */
  ensure(dir: string): Promise<void> {
    if (dir === '') return Promise.resolve();
    let pending = this.known.get(dir);
    if (!pending) {
      pending = this.create(dir);
      this.known.set(dir, pending);
      pending.catch(() => this.known.delete(dir));
    }
    return pending;
  }

  /** Forgets a folder and everything below it, e.g. after a PUT found it gone (409). */
  forget(dir: string): void {
    for (const known of [...this.known.keys()]) {
      if (known === dir || known.startsWith(`${dir}/`)) this.known.delete(known);
    }
  }

  private async create(dir: string): Promise<void> {
    let status = await this.mkcol(dir);
    if (status === 409) {
      await this.ensure(parentKey(dir));
      status = await this.mkcol(dir);
    }
    if (status === 409) {
      throw new BeamdropError({
        code: 'transfer-failed',
        retryable: true,
        message: `could not create the folder ${dir} on the WebDAV server: it still reports its parent as missing; it will be tried again.`,
      });
    }
    // 201 or 405: the folder is there, and so is every level above it.
    for (let up = parentKey(dir); up !== '' && !this.known.has(up); up = parentKey(up)) this.known.set(up, Promise.resolve());
  }
}
