// `beamdrop cleanup`: removes what interrupted uploads left behind at a destination (unfinished
// S3 multipart uploads, hidden temporary files), sparing uploads a paused job will resume.
import type { Command } from 'commander';
import { BeamdropError } from '../../shared/errors.js';
import { profileFrom, reportError, withEngine } from './context.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseAge(text: string): number {
  const m = /^(\d+)([mhd])$/.exec(text.trim());
  if (!m)
    throw new BeamdropError({
      code: 'usage',
      retryable: false,
      field: '--older-than',
      message: `--older-than ${text}: write an age such as 90m, 24h or 7d`,
    });
  return Number(m[1]) * UNITS[m[2]!]!;
}

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description('remove leftovers of interrupted uploads (unfinished S3 multipart uploads, temporary files)')
    .option('--destination <name>', 'destination named in the profile')
    .option('--to <uri>', 'ad-hoc destination URI')
    .option('--profile <file>', 'facility profile')
    .option('--older-than <age>', 'only leftovers older than this (e.g. 24h, 7d)', '24h')
    .action(async (f: { destination?: string; to?: string; profile?: string; olderThan: string }) => {
      try {
        const age = parseAge(f.olderThan);
        const profile = await profileFrom(f.profile);
        const r = await withEngine((engine) =>
          engine.cleanup(
            profile,
            { ...(f.destination ? { destination: f.destination } : {}), ...(f.to ? { to: f.to } : {}) },
            age,
          ),
        );
        process.stdout.write(
          `${r.destination}: removed ${r.removed} leftover(s) older than ${f.olderThan}; uploads that paused jobs will resume were kept.\n`,
        );
      } catch (e) {
        reportError(e, false);
      }
    });
}
