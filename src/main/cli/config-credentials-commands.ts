// `beamdrop config check FILE` and `beamdrop credentials set|delete DESTINATION`.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { BeamdropError } from '../../shared/errors.js';
import { CredentialStore, envName, osKeychain } from '../engine/credentials/credential-store.js';
import { checkProfileText } from '../engine/profile/load-profile.js';
import { profileFrom, reportError } from './context.js';
import { EXIT } from './exit-codes.js';
import { readSecret } from './read-secret.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('facility profile tools');
  config
    .command('check')
    .description('report every problem of a facility profile with its field and what to write instead')
    .argument('<file>', 'profile YAML file')
    .option('--json', 'print JSON')
    .action(async (file: string, f: { json?: boolean }) => {
      try {
        const text = await readFile(file, 'utf8').catch((e: Error) => {
          throw new BeamdropError({
            code: 'profile-not-found',
            retryable: false,
            file,
            message: `cannot read ${file}: ${e.message}`,
          });
        });
        const result = checkProfileText(text);
        if (f.json) process.stdout.write(JSON.stringify(result) + '\n');
        else if (result.ok) {
          const names = Object.entries(result.profile.destinations).map(([n, d]) => `${n} (${d.kind})`);
          process.stdout.write(`${file}: OK — destinations: ${names.join(', ') || 'none'}\n`);
        } else {
          process.stdout.write(`${file}: ${result.problems.length} problem(s)\n`);
          for (const p of result.problems)
            process.stdout.write(`  ${p.path || '(file)'}${p.line ? ` (line ${p.line})` : ''}: ${p.message}\n`);
        }
        process.exitCode = result.ok ? EXIT.ok : EXIT.usage;
      } catch (e) {
        reportError(e, !!f.json);
      }
    });
}

export function registerCredentials(program: Command): void {
  const creds = program.command('credentials').description('secrets of destinations, kept in the OS keychain');
  creds
    .command('set')
    .description('store the S3 secret key or WebDAV password of a destination in the OS keychain')
    .argument('<destination>', 'destination name from the profile')
    .option('--profile <file>', 'facility profile')
    .action(async (name: string, f: { profile?: string }) => {
      try {
        const profile = await profileFrom(f.profile);
        const d = profile.destinations[name];
        if (!d)
          throw new BeamdropError({
            code: 'destination-unknown',
            retryable: false,
            message: `no destination named "${name}" in the profile; use one of: ${Object.keys(profile.destinations).join(', ')}`,
          });
        if (d.kind === 'filesystem')
          throw new BeamdropError({
            code: 'usage',
            retryable: false,
            message: `destination "${name}" is a folder and needs no secret.`,
          });
        const what = d.kind === 's3' ? 'S3 secret access key' : 'WebDAV password';
        const secret = await readSecret(`${what} for "${name}": `);
        await new CredentialStore(osKeychain()).set(name, secret);
        process.stdout.write(
          `Stored the ${what} of "${name}" in the OS keychain. (Headless alternative: ${envName(name, d.kind === 's3' ? 'SECRET_ACCESS_KEY' : 'PASSWORD')}.)\n`,
        );
      } catch (e) {
        reportError(e, false);
      }
    });
  creds
    .command('delete')
    .description('remove a destination secret from the OS keychain')
    .argument('<destination>', 'destination name')
    .action(async (name: string) => {
      try {
        const removed = await new CredentialStore(osKeychain()).delete(name);
        process.stdout.write(removed ? `Removed the secret of "${name}".\n` : `No secret was stored for "${name}".\n`);
      } catch (e) {
        reportError(e, false);
      }
    });
}
