// Secrets of destinations: S3 secret keys and WebDAV passwords. They come from the environment
// (headless use, CI) or the OS keychain (Secret Service, Windows Credential Manager, macOS
// Keychain) through @napi-rs/keyring, and never from the profile, the journal or the logs.
import { AsyncEntry } from '@napi-rs/keyring';
import { BeamdropError } from '../../../shared/errors.js';
import type { DestinationConfig } from '../../../shared/profile-schema.js';

export const KEYCHAIN_SERVICE = 'beamdrop';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}
export interface WebdavCredentials {
  username: string;
  password: string;
}

/** The part of the OS keychain we use; tests may point it at another service name. */
export interface SecretKeeper {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

export function osKeychain(service = KEYCHAIN_SERVICE): SecretKeeper {
  return {
    get: (account) => new AsyncEntry(service, account).getPassword(),
    set: (account, secret) => new AsyncEntry(service, account).setPassword(secret),
    delete: (account) => new AsyncEntry(service, account).deleteCredential(),
  };
}

/** BEAMDROP_<NAME>_<FIELD>, with the destination name upper-cased and non-alphanumerics as "_". */
export function envName(destination: string, field: string): string {
  return `BEAMDROP_${destination.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${field}`;
}

export class CredentialStore {
  constructor(
    private readonly keeper: SecretKeeper,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private account(destination: string): string {
    return `destination:${destination}`;
  }

  async set(destination: string, secret: string): Promise<void> {
    if (!secret)
      throw new BeamdropError({
        code: 'credentials-missing',
        retryable: false,
        message: 'the secret is empty; nothing was stored.',
      });
    try {
      await this.keeper.set(this.account(destination), secret);
    } catch (e) {
      throw keychainError(e, destination);
    }
  }

  async delete(destination: string): Promise<boolean> {
    return this.keeper.delete(this.account(destination));
  }

  private async secret(destination: string, envField: string): Promise<string | null> {
    const fromEnv = this.env[envName(destination, envField)];
    if (fromEnv) return fromEnv;
    try {
      return await this.keeper.get(this.account(destination));
    } catch (e) {
      throw keychainError(e, destination);
    }
  }

  async s3(destination: string, config: Extract<DestinationConfig, { kind: 's3' }>): Promise<S3Credentials> {
    const accessKeyId = this.env[envName(destination, 'ACCESS_KEY_ID')] ?? config.credentials?.accessKeyId;
    const secretAccessKey = await this.secret(destination, 'SECRET_ACCESS_KEY');
    if (!accessKeyId || !secretAccessKey)
      throw missing(destination, accessKeyId ? ['SECRET_ACCESS_KEY'] : ['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY'], !!accessKeyId);
    return { accessKeyId, secretAccessKey };
  }

  async webdav(destination: string, config: Extract<DestinationConfig, { kind: 'webdav' }>): Promise<WebdavCredentials | null> {
    const username = this.env[envName(destination, 'USERNAME')] ?? config.credentials?.username;
    if (!username) return null;
    const password = await this.secret(destination, 'PASSWORD');
    if (!password) throw missing(destination, ['PASSWORD'], true);
    return { username, password };
  }
}

function missing(destination: string, fields: string[], idKnown: boolean): BeamdropError {
  const vars = fields.map((f) => envName(destination, f)).join(' and ');
  const how = idKnown
    ? `run \`beamdrop credentials set ${destination}\` to store it in the OS keychain, or set ${vars} for headless use`
    : `write credentials.accessKeyId in the profile and run \`beamdrop credentials set ${destination}\`, or set ${vars}`;
  return new BeamdropError({
    code: 'credentials-missing',
    retryable: false,
    message: `destination "${destination}" has no stored secret: ${how}.`,
  });
}

function keychainError(e: unknown, destination: string): BeamdropError {
  return new BeamdropError(
    {
      code: 'credentials-missing',
      retryable: false,
      message: `the OS keychain could not be used for destination "${destination}" (${(e as Error).message}); unlock the keychain, or set ${envName(destination, 'SECRET_ACCESS_KEY')} / ${envName(destination, 'PASSWORD')} instead.`,
    },
    { cause: e },
  );
}
