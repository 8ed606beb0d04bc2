// Renders a destination's key template ("{beamline}/{proposal}/{visit}/raw/{dataset}/{relpath}")
// into the remote key of one file. Every variable except {relpath} must be one safe path segment,
// because a "/" or ".." smuggled in through a proposal id or dataset name would put files into
// another proposal's folder. Optional variables that are unset simply vanish with their "/".
import { BeamdropError } from '../../../shared/errors.js';
import { TEMPLATE_VARIABLES, type TemplateVariable } from '../../../shared/profile-schema.js';
import { printable, toRemoteRelpath } from './remote-key.js';

/** Variables a job may leave unset; their empty segments are dropped from the key. */
const OPTIONAL = ['facility', 'beamline', 'proposal', 'visit'] as const;
type OptionalVariable = (typeof OPTIONAL)[number];
type RequiredVariable = Exclude<TemplateVariable, OptionalVariable>;

export type KeyVariables = { [K in RequiredVariable]: string } & { [K in OptionalVariable]?: string | null };

const LABEL: Record<TemplateVariable, string> = {
  facility: 'facility name',
  beamline: 'beamline name',
  proposal: 'proposal id',
  visit: 'visit id',
  dataset: 'dataset name',
  date: 'date',
  relpath: 'file path',
};

const NOUN: Record<TemplateVariable, string> = {
  facility: 'facility',
  beamline: 'beamline',
  proposal: 'proposal',
  visit: 'visit',
  dataset: 'dataset',
  date: 'date',
  relpath: 'file path',
};

const TOKEN = /\{([^}]*)\}/g;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function badValue(name: TemplateVariable, value: string, what: string, instead: string): BeamdropError {
  return new BeamdropError({
    code: 'invalid-key',
    retryable: false,
    field: name,
    message: `the ${NOUN[name]} "${printable(value)}" ${what}; ${instead}`,
  });
}

function badTemplate(template: string, what: string): BeamdropError {
  return new BeamdropError({
    code: 'profile-invalid',
    retryable: false,
    field: 'keyTemplate',
    message: `the key template "${template}" ${what}`,
  });
}

/** The value as one NFC segment, '' for an unset optional variable; throws if it is unsafe. */
function segmentValue(name: Exclude<TemplateVariable, 'relpath'>, raw: string | null | undefined): string {
  const value = (raw ?? '').normalize('NFC');
  const label = LABEL[name];
  if (value === '') {
    if ((OPTIONAL as readonly string[]).includes(name)) return '';
    throw badValue(name, value, 'is empty', `write the ${label}`);
  }
  for (const sep of ['/', '\\']) {
    if (value.includes(sep)) throw badValue(name, value, `contains "${sep}"`, `write the ${label} without slashes`);
  }
  if (value === '.' || value === '..') {
    throw badValue(name, value, 'is not a name', `write the ${label} with letters or digits`);
  }
  if (/\p{Cc}/u.test(value)) {
    throw badValue(name, value, 'contains a control character', `write the ${label} without line breaks or tabs`);
  }
  if (name === 'date' && !DATE.test(value)) {
    throw badValue(name, value, 'is not a date', 'write it as YYYY-MM-DD, e.g. 2025-03-14');
  }
  return value;
}

/** The variables a template uses, in order; throws 'profile-invalid' for an unknown one. */
export function templateVariables(template: string): TemplateVariable[] {
  const names = [...template.matchAll(TOKEN)].map((m) => m[1] ?? '');
  for (const n of names) {
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(n)) {
      throw badTemplate(
        template,
        `uses the unknown variable {${n}}; use only ${TEMPLATE_VARIABLES.map((x) => `{${x}}`).join(' ')}`,
      );
    }
  }
  return names as TemplateVariable[];
}

/**
 * The remote key of one file. The profile schema has already checked the template; the checks
 * here repeat the ones that protect the key so a template built in code cannot bypass them.
 */
export function renderKey(template: string, vars: KeyVariables): string {
  const used = templateVariables(template);
  if (!used.includes('relpath')) {
    throw badTemplate(template, 'has no {relpath}; end it with {relpath} so that every file gets its own key');
  }
  const values = new Map<TemplateVariable, string>();
  for (const name of used) {
    if (values.has(name)) continue;
    values.set(name, name === 'relpath' ? toRemoteRelpath(vars.relpath) : segmentValue(name, vars[name]));
  }
  const rendered = template.replace(TOKEN, (_, name: TemplateVariable) => values.get(name) ?? '');
  const segments: string[] = [];
  for (const segment of rendered.normalize('NFC').split('/')) {
    // Empty segments come from unset optional variables ("{visit}/raw" without a visit): drop
    // them rather than produce "//", which S3 keeps as a distinct key and filesystems collapse.
    if (segment === '' || segment === '.') continue;
    if (segment === '..') throw badTemplate(template, 'renders a ".." segment; remove the ".." around the variables');
    segments.push(segment);
  }
  return segments.join('/');
}
