// What every command needs: the facility profile (given, from BEAMDROP_PROFILE, or the embedded
// default) and an engine on the user's data folder. Errors leave as operator-readable text.
import { BeamdropError, toErrorInfo } from '../../shared/errors.js';
import type { FacilityProfile } from '../../shared/profile-schema.js';
import { Engine } from '../engine/engine.js';
import { dataPaths, dataRoot } from '../engine/profile/data-dir.js';
import { defaultProfile } from '../engine/profile/default-profile.js';
import { loadProfile } from '../engine/profile/load-profile.js';
import { localDiskFull } from '../engine/journal/local-disk-full.js';
import { EXIT, EXIT_OF_ERROR } from './exit-codes.js';

export async function profileFrom(file: string | undefined): Promise<FacilityProfile> {
  const path = file ?? process.env.BEAMDROP_PROFILE;
  if (path) return loadProfile(path);
  return defaultProfile(dataPaths(dataRoot()).archive);
}

export async function withEngine<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = Engine.open();
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/**
 * Prints an error for the operator and sets the exit code (EXIT_OF_ERROR); never a stack trace
 * for a BeamdropError. Anything else is a bug: its message, a request to report it, the stack, exit 1.
 */
export function reportError(thrown: unknown, json: boolean): void {
  // A full disk under the data folder (SQLITE_FULL, ENOSPC) is the operator's to fix, not a bug: exit 5, no stack.
  const e = localDiskFull(thrown, dataPaths(dataRoot()));
  const info = toErrorInfo(e);
  if (json) process.stdout.write(JSON.stringify({ type: 'error', error: info }) + '\n');
  if (e instanceof BeamdropError) {
    if (!json) process.stderr.write(`beamdrop: ${info.message}\n`);
    process.exitCode = EXIT_OF_ERROR[e.code];
    return;
  }
  process.stderr.write(
    `beamdrop: unexpected error: ${info.message}\n` +
      'This is a bug in Beamdrop, not a problem with your input; please report it with the details below.\n' +
      `${e instanceof Error && e.stack ? e.stack : String(e)}\n`,
  );
  process.exitCode = EXIT.internal;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** -p KEY=VALUE pairs as a metadata object; a pair without "=" is an error naming it. */
export function parseMetadata(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0)
      throw new BeamdropError({
        code: 'usage',
        retryable: false,
        field: '-p',
        message: `-p ${p}: write metadata as KEY=VALUE, e.g. -p sample=lysozyme`,
      });
    out[p.slice(0, eq).trim()] = p.slice(eq + 1);
  }
  return out;
}

/** A JOB argument as a job number; anything else (a name, "last", "3a") is refused naming it. */
export function jobNumber(arg: string): number {
  const id = Number(arg);
  if (!Number.isInteger(id) || id < 1)
    throw new BeamdropError({
      code: 'usage',
      retryable: false,
      field: 'job',
      message: `"${arg}" is not a job number; \`beamdrop status\` lists the jobs with their numbers.`,
    });
  return id;
}
