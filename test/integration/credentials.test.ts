// Secrets live in the OS keychain (gnome-keyring through Secret Service in the test session) or
// the environment, and never reach the profile, the journal, the catalogue or the logs.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import { AsyncEntry } from '@napi-rs/keyring';
import { stringify } from 'yaml';
import { Engine } from '../../src/main/engine/engine.js';
import { CredentialStore, KEYCHAIN_SERVICE, osKeychain } from '../../src/main/engine/credentials/credential-store.js';
import { loadProfile } from '../../src/main/engine/profile/load-profile.js';
import { makeTree } from '../support/engine-harness.js';
import { createBucket } from '../support/minio.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Strips variables that could hand the secret in another way than the keychain. */
function envWithout(prefix: string): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith(prefix)));
}

describe('credentials', () => {
  it('uploads with the S3 secret from the OS keychain and writes it nowhere else', async () => {
    const s3 = inject('s3');
    const bucket = await createBucket(s3);
    const home = mkdtempSync(join(tmpdir(), 'bd-cred-'));
    const profileFile = join(home, 'facility.yaml');
    writeFileSync(
      profileFile,
      stringify({
        destinations: { archive: { kind: 's3', endpoint: s3.endpoint, bucket, credentials: { accessKeyId: s3.accessKeyId } } },
      }),
    );
    const profile = await loadProfile(profileFile);
    const service = `beamdrop-test-${process.pid}-${Date.now()}`;
    const keeper = osKeychain(service);
    await new CredentialStore(keeper).set('archive', s3.secretAccessKey);
    expect(await new AsyncEntry(service, 'destination:archive').getPassword()).toBe(s3.secretAccessKey);

    const env = envWithout('BEAMDROP_ARCHIVE_');
    const engine = Engine.open({ home, keeper, env });
    try {
      const summary = await engine.upload(profile, {
        sources: [makeTree({ 'a.txt': 'alpha', 'b/c.txt': 'gamma' })],
        dataset: 'keychain',
        destination: 'archive',
      });
      expect(summary.counts).toEqual({ verified: 2 });

      // A wrong secret: the job is refused before scanning, and the wrong secret is not written either.
      const wrong = `WRONG-${Date.now()}-secret`;
      await new CredentialStore(keeper).set('archive', wrong);
      await expect(
        engine.upload(profile, { sources: [makeTree({ 'x.txt': 'x' })], dataset: 'keychain-2', destination: 'archive' }),
      ).rejects.toMatchObject({
        code: 'credentials-rejected',
        message: expect.stringMatching(/beamdrop credentials set archive/),
      });

      // Nothing but the keychain holds either secret.
      const written = [profileFile, ...filesUnder(home)];
      expect(written.some((f) => f.endsWith('journal.sqlite'))).toBe(true);
      expect(written.some((f) => f.endsWith('beamdrop.log'))).toBe(true);
      for (const f of written) {
        const bytes = readFileSync(f);
        expect(bytes.includes(s3.secretAccessKey), `${f} contains the secret`).toBe(false);
        expect(bytes.includes(wrong), `${f} contains the wrong secret`).toBe(false);
      }
    } finally {
      await engine.close();
      await new CredentialStore(keeper).delete('archive');
    }
  });

  it('names the keychain command and the environment variable when no secret is stored', async () => {
    const store = new CredentialStore(osKeychain(`beamdrop-empty-${process.pid}`), {});
    await expect(
      store.s3('tape-gw', {
        kind: 's3',
        endpoint: 'http://x',
        region: 'r',
        bucket: 'bbb',
        keyTemplate: '{relpath}',
        credentials: { accessKeyId: 'AK' },
      }),
    ).rejects.toMatchObject({
      code: 'credentials-missing',
      message: expect.stringMatching(/beamdrop credentials set tape-gw.*BEAMDROP_TAPE_GW_SECRET_ACCESS_KEY/),
    });
  });

  it('`beamdrop credentials set` stores the secret from stdin in the keychain, `delete` removes it', () => {
    const home = mkdtempSync(join(tmpdir(), 'bd-credcli-'));
    const profileFile = join(home, 'p.yaml');
    const name = `dav${process.pid}`;
    writeFileSync(
      profileFile,
      stringify({ destinations: { [name]: { kind: 'webdav', url: 'https://dav.example/x', credentials: { username: 'op' } } } }),
    );
    const cli = (args: string[], input?: string) =>
      spawnSync(process.execPath, [resolve('bin/beamdrop.js'), ...args], {
        input: input ?? '',
        encoding: 'utf8',
        env: { ...process.env, BEAMDROP_HOME: home },
      });
    const set = cli(['credentials', 'set', name, '--profile', profileFile], 'pa55 with spaces\n');
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/Stored the WebDAV password/);
    const entry = new AsyncEntry(KEYCHAIN_SERVICE, `destination:${name}`);
    return entry
      .getPassword()
      .then((pw) => {
        expect(pw).toBe('pa55 with spaces');
        const del = cli(['credentials', 'delete', name]);
        expect(del.stdout).toMatch(/Removed/);
        return entry.getPassword();
      })
      .then((pw) => expect(pw).toBeNull());
  });
});
