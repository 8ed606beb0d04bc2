// Reads and validates a facility profile. Every problem is reported with its field path and
// what to write instead; YAML syntax errors carry line and column.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { BeamdropError } from '../../../shared/errors.js';
import { profileSchema, type FacilityProfile } from '../../../shared/profile-schema.js';
import { BandwidthError, parseBandwidthSchedule } from '../transfer/bandwidth-schedule.js';

export interface ProfileProblem {
  /** Dotted field path, e.g. destinations.archive.bucket; '' for the whole file. */
  path: string;
  message: string;
  line?: number;
}

export type ProfileCheck = { ok: true; profile: FacilityProfile } | { ok: false; problems: ProfileProblem[] };

export function checkProfileText(text: string): ProfileCheck {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) {
    return {
      ok: false,
      // linePos is only filled in with prettyErrors, so the line comes from the offset.
      problems: doc.errors.map((e) => ({
        path: '',
        message: `YAML syntax: ${e.message.split('\n')[0]}`,
        line: e.linePos?.[0]?.line ?? lineOf(text, e.pos[0]),
      })),
    };
  }
  const raw = doc.toJS() ?? {};
  const parsed = profileSchema.safeParse(raw);
  const problems: ProfileProblem[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.');
      const node = doc.getIn(issue.path as (string | number)[], true) as { range?: [number, number] } | undefined;
      const line = node?.range ? lineOf(text, node.range[0]) : undefined;
      problems.push({ path, message: friendly(issue.message, issue.code), ...(line ? { line } : {}) });
    }
    return { ok: false, problems };
  }
  try {
    parseBandwidthSchedule(parsed.data.upload.bandwidth);
  } catch (e) {
    if (e instanceof BandwidthError) return { ok: false, problems: [{ path: 'upload.bandwidth', message: e.message }] };
    throw e;
  }
  return { ok: true, profile: parsed.data };
}

export async function loadProfile(file: string): Promise<FacilityProfile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const why =
      (e as NodeJS.ErrnoException).code === 'EISDIR'
        ? `${file} is a folder, not a file; give the facility profile's YAML file`
        : `cannot read the facility profile ${file}: ${(e as Error).message}; check the path`;
    throw new BeamdropError({
      code: 'profile-not-found',
      retryable: false,
      file,
      message: `${why} given with --profile or BEAMDROP_PROFILE.`,
    });
  }
  const result = checkProfileText(text);
  if (!result.ok) {
    const lines = result.problems.map((p) => `  ${p.path || '(file)'}${p.line ? ` (line ${p.line})` : ''}: ${p.message}`);
    throw new BeamdropError({
      code: 'profile-invalid',
      retryable: false,
      file,
      field: result.problems[0]?.path,
      message: `the facility profile ${file} has ${result.problems.length} problem(s):\n${lines.join('\n')}\nRun \`beamdrop config check ${file}\` after fixing it.`,
    });
  }
  return result.profile;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** zod's generic messages, rewritten to say what to write instead. */
function friendly(message: string, code: string): string {
  const unknownKeys = /^Unrecognized keys?: (.*)$/.exec(message);
  if (unknownKeys) return `unknown field(s) ${unknownKeys[1]}: remove them or check their spelling`;
  if (code === 'invalid_type' && /received undefined/.test(message)) return 'this field is required';
  return message;
}
