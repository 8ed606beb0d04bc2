// The signed-in catalogue user of one catalogue: in memory while Beamdrop runs, and in the OS
// keychain between runs (never in the profile, journal or logs). Another process running
// `beamdrop login` is noticed by reload(), which is how an upload waiting for a new sign-in
// picks it up.
import { BeamdropError } from '../../../../shared/errors.js';
import type { SecretKeeper } from '../../credentials/credential-store.js';
import { networkFailure } from '../../net/network-error.js';
import { CatalogueError, type CatalogueAdapter, type CatalogueCredentials, type CatalogueSession } from '../catalogue-adapter.js';

export class SessionKeeper {
  private session: CatalogueSession | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly identity: string,
    private readonly adapter: CatalogueAdapter,
    private readonly keeper: SecretKeeper,
    private readonly now: () => number = Date.now,
  ) {}

  private get account(): string {
    return `catalogue:${this.identity}`;
  }

  /** The session in memory, without asking the keychain. */
  current(): CatalogueSession | null {
    return this.session;
  }

  /** Re-reads the keychain (another process may have signed in); returns the session to use. */
  async reload(): Promise<CatalogueSession | null> {
    let text: string | null;
    try {
      text = await this.keeper.get(this.account);
    } catch (e) {
      throw new BeamdropError(
        {
          code: 'credentials-missing',
          retryable: false,
          message: `the OS keychain could not be read for the catalogue ${this.identity} (${(e as Error).message}); unlock the keychain and run \`beamdrop login\` again.`,
        },
        { cause: e },
      );
    }
    if (text) {
      try {
        this.session = JSON.parse(text) as CatalogueSession;
      } catch {
        this.session = null;
      }
    } else if (this.session) {
      // Signed out elsewhere (`beamdrop logout`): honour it.
      this.session = null;
    }
    return this.session;
  }

  async login(credentials: CatalogueCredentials): Promise<CatalogueSession> {
    const session = await this.adapter.login(credentials);
    await this.store(session);
    return session;
  }

  /** Keeps a new or refreshed session and wakes whoever waits for a sign-in. */
  async store(session: CatalogueSession): Promise<void> {
    this.session = session;
    try {
      await this.keeper.set(this.account, JSON.stringify(session));
    } catch (e) {
      throw new BeamdropError(
        {
          code: 'credentials-missing',
          retryable: false,
          message: `signed in to ${this.identity}, but the OS keychain refused to keep the session (${(e as Error).message}); unlock the keychain, or stay in this window until the upload ends.`,
        },
        { cause: e },
      );
    }
    for (const l of this.listeners) l();
  }

  /** Signs out at the catalogue (best effort) and forgets the session here and in the keychain. */
  async logout(): Promise<boolean> {
    const s = this.session ?? (await this.reload());
    if (s) await this.adapter.logout(s).catch(() => undefined);
    this.session = null;
    return this.keeper.delete(this.account).catch(() => false);
  }

  /** The server said this token is no longer valid: drop it unless a newer one replaced it. */
  async invalidate(token: string): Promise<void> {
    if (this.session?.token === token) this.session = null;
    const stored = await this.keeper.get(this.account).catch(() => null);
    if (stored && (JSON.parse(stored) as CatalogueSession).token === token)
      await this.keeper.delete(this.account).catch(() => false);
  }

  /** Extends the session when the catalogue allows it; null when a new sign-in is needed. */
  async refresh(session: CatalogueSession): Promise<CatalogueSession | null> {
    try {
      const fresh = await this.adapter.refresh(session);
      await this.store(fresh);
      return fresh;
    } catch (e) {
      // Down is not signed out: an adapter may throw a network error raw (catalogue-adapter.ts).
      if ((e instanceof CatalogueError && e.problem === 'retryable') || networkFailure(e)) throw e;
      return null;
    }
  }

  /** A session for starting an upload, or an error telling the operator to sign in. */
  async require(): Promise<CatalogueSession> {
    const s = this.session ?? (await this.reload());
    if (!s) throw notSignedIn(this.identity);
    if (s.expiresAt !== null && s.expiresAt <= this.now()) {
      let fresh: CatalogueSession | null;
      try {
        fresh = await this.refresh(s);
      } catch {
        // The catalogue is down: the upload goes ahead and the outbox asks for a sign-in if it must.
        return s;
      }
      if (!fresh) throw notSignedIn(this.identity, true);
      return fresh;
    }
    return s;
  }

  onLogin(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function notSignedIn(identity: string, expired = false): BeamdropError {
  return new BeamdropError({
    code: 'credentials-missing',
    retryable: false,
    field: 'catalogue',
    message: `${expired ? 'the sign-in to' : 'nobody is signed in to'} the catalogue ${identity}${expired ? ' has expired' : ''}: run \`beamdrop login\` first. Datasets are registered under the signed-in user and the proposal's groups, so no upload starts without one.`,
  });
}
