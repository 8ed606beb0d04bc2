// Turns the flat metadata of a job (-p KEY=VALUE, or the app's form) into typed scientific
// metadata with units, checked against the technique's template before anything is sent: a
// wrong value is an error naming the dataset and the field, with what to write instead.
import { BeamdropError } from '../../../../shared/errors.js';
import type { FacilityProfile } from '../../../../shared/profile-schema.js';
import type { TechniqueField, TechniqueTemplate } from '../../../../shared/profile-catalogue-schema.js';
import type { MetadataValue } from '../catalogue-adapter.js';
import { BUILTIN_TECHNIQUES } from './builtin-techniques.js';

/** Keys of job metadata that describe the dataset itself rather than the measurement. */
export const DESCRIPTIVE_KEYS = new Set([
  'technique',
  'sample',
  'description',
  'datasetType',
  'inputDatasets',
  'usedSoftware',
  'instrument',
]);

export interface ResolvedTechnique {
  name: string;
  fields: TechniqueField[];
}

/** The profile's templates over the built-in ones; names match without regard to case. */
export function allTechniques(profile: Pick<FacilityProfile, 'techniques'>): Record<string, TechniqueTemplate> {
  return { ...BUILTIN_TECHNIQUES, ...profile.techniques };
}

export function resolveTechnique(
  profile: Pick<FacilityProfile, 'techniques'>,
  name: string,
  dataset?: string,
): ResolvedTechnique {
  const all = allTechniques(profile);
  const key = Object.keys(all).find((k) => k.toLowerCase() === name.toLowerCase());
  if (!key) {
    throw new BeamdropError({
      code: 'metadata-invalid',
      retryable: false,
      field: 'technique',
      ...(dataset ? { dataset } : {}),
      message: `technique "${name}" has no template; use one of: ${Object.keys(all).sort().join(', ')}, or define it under techniques: in the facility profile.`,
    });
  }
  const fieldsOf = (n: string, seen: Set<string>): TechniqueField[] => {
    const t = all[n];
    if (!t || seen.has(n)) return [];
    seen.add(n);
    const parent = t.extends ? fieldsOf(t.extends, seen) : [];
    const own = new Set(t.fields.map((f) => f.name));
    return [...parent.filter((f) => !own.has(f.name)), ...t.fields];
  };
  return { name: key, fields: fieldsOf(key, new Set()) };
}

export interface TypedMetadata {
  technique: string | null;
  /** Measurement values with units, as catalogues store scientificMetadata. */
  scientific: Record<string, MetadataValue>;
}

/** Validates every field; all problems are listed, the first one's field is the error's field. */
export function typedMetadata(
  profile: Pick<FacilityProfile, 'techniques'>,
  dataset: string,
  raw: Record<string, string>,
): TypedMetadata {
  const technique = raw.technique?.trim() ? resolveTechnique(profile, raw.technique.trim(), dataset) : null;
  const scientific: Record<string, MetadataValue> = {};
  const problems: { field: string; message: string }[] = [];
  const fields = new Map((technique?.fields ?? []).map((f) => [f.name, f]));
  for (const f of fields.values()) {
    if (DESCRIPTIVE_KEYS.has(f.name)) {
      if (f.required && !raw[f.name]?.trim())
        problems.push({ field: f.name, message: `${f.name} is required for ${technique!.name}; add -p ${f.name}=…` });
      continue;
    }
    const given = raw[f.name]?.trim();
    if (!given) {
      if (f.default !== undefined) scientific[f.name] = withUnit(f.default, f);
      else if (f.required)
        problems.push({
          field: f.name,
          message: `${f.name}${f.unit ? ` (${f.unit})` : ''} is required for ${technique!.name}; add -p ${f.name}=${example(f)}`,
        });
      continue;
    }
    const value = parseValue(f, given);
    if (typeof value === 'string' && value.startsWith('!')) problems.push({ field: f.name, message: value.slice(1) });
    else scientific[f.name] = withUnit(value, f);
  }
  for (const [k, v] of Object.entries(raw)) {
    if (DESCRIPTIVE_KEYS.has(k) || fields.has(k) || k.endsWith('.unit')) continue;
    // Not in the template: kept as text, with the unit the form echoed if any.
    const unit = raw[`${k}.unit`];
    scientific[k] = unit ? { value: v, unit } : { value: v };
  }
  if (problems.length) {
    const list = problems.map((p) => `  ${p.field}: ${p.message}`).join('\n');
    throw new BeamdropError({
      code: 'metadata-invalid',
      retryable: false,
      dataset,
      field: problems[0]!.field,
      message: `dataset "${dataset}": ${problems.length} metadata problem(s) for technique ${technique?.name}:\n${list}\nNothing was sent.`,
    });
  }
  return { technique: technique?.name ?? null, scientific };
}

function withUnit(value: string | number | boolean, f: TechniqueField): MetadataValue {
  return f.unit ? { value, unit: f.unit } : { value };
}

function example(f: TechniqueField): string {
  if (f.allowed) return String(f.allowed[0]);
  return f.type === 'number'
    ? '12.4'
    : f.type === 'integer'
      ? '100'
      : f.type === 'boolean'
        ? 'true'
        : f.type === 'date'
          ? '2026-03-01'
          : 'VALUE';
}

/** The typed value, or "!" + a message saying what to write. */
function parseValue(f: TechniqueField, v: string): string | number | boolean {
  const unit = f.unit ? ` ${f.unit}` : '';
  let value: string | number | boolean = v;
  switch (f.type) {
    case 'number':
    case 'integer': {
      const n = Number(v);
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v) || !Number.isFinite(n))
        return `!"${v}" is not a number; write the value in${unit || ' plain digits'}, e.g. ${f.name}=${example(f)}`;
      if (f.type === 'integer' && !Number.isInteger(n)) return `!"${v}" is not a whole number`;
      if (f.min !== undefined && n < f.min) return `!${v} is below the minimum ${f.min}${unit}`;
      if (f.max !== undefined && n > f.max) return `!${v} is above the maximum ${f.max}${unit}`;
      value = n;
      break;
    }
    case 'boolean':
      if (!/^(true|false|yes|no)$/i.test(v)) return `!"${v}" is not true or false`;
      value = /^(true|yes)$/i.test(v);
      break;
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(Date.parse(v))) return `!"${v}" is not a date; write YYYY-MM-DD`;
      break;
    default:
      break;
  }
  if (f.allowed && !f.allowed.some((a) => String(a) === String(value)))
    return `!"${v}" is not allowed; write one of: ${f.allowed.join(', ')}`;
  return value;
}
