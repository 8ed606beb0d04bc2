// The dataset an operator defines in the app, and its validation. The same function runs in the
// renderer (errors next to each field while typing) and in the backend before a job starts, so
// nothing the form accepts is refused later for a reason the form did not show. Plain TypeScript
// on purpose: the renderer imports it, and the validation library would need eval under the CSP.
import type { TechniqueTemplateView, TemplateFieldView } from './app-model.js';

/** Sync mode: when a file being written counts as complete (the engine's sync rules). */
export interface Completeness {
  /** Size and modification time unchanged for this many seconds. */
  quietSeconds: number;
  /** Optional marker rule: files whose name matches this regular expression, e.g. "(.*)\\.h5"… */
  markerMatch: string;
  /** …are complete once this file exists beside them, e.g. "$1.done"; both empty: no marker. */
  marker: string;
}

/** What the operator defines; its schema (limits of every field) is in ipc-contract.ts. */
export interface DatasetDefinition {
  investigation: string;
  visit: string;
  name: string;
  description: string;
  sample: string;
  technique: string | null;
  /** Values of the technique template's fields, as typed. */
  metadata: Record<string, string>;
  type: 'raw' | 'derived';
  inputDatasets: string[];
  sources: string[];
  include: string[];
  exclude: string[];
  followSymlinks: boolean;
  mode: 'batch' | 'sync';
  completeness: Completeness;
  destination: string;
}

export interface FieldError {
  /** `name`, `sources`, `metadata.<key>`, `completeness.quietSeconds`, ... */
  field: string;
  message: string;
}

export interface ValidationContext {
  template: TechniqueTemplateView | null;
  destinations: string[];
}

export function emptyDefinition(): DatasetDefinition {
  return {
    investigation: '',
    visit: '',
    name: '',
    description: '',
    sample: '',
    technique: null,
    metadata: {},
    type: 'raw',
    inputDatasets: [],
    sources: [],
    include: [],
    exclude: [],
    followSymlinks: false,
    mode: 'batch',
    completeness: { quietSeconds: 5, markerMatch: '', marker: '' },
    destination: '',
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._+-]*$/;

/**
 * Template fields the form already has as fields of its own (templates list `sample` because
 * every catalogue wants it): their value and their error live on the form's field.
 */
export const FORM_KEYS: Readonly<Record<string, 'sample' | 'description'>> = { sample: 'sample', description: 'description' };

/** Every problem of the definition, each with the field it belongs to; empty when it can start. */
export function validateDefinition(d: DatasetDefinition, ctx: ValidationContext): FieldError[] {
  const errors: FieldError[] = [];
  const add = (field: string, message: string) => errors.push({ field, message });
  const name = d.name.trim();
  if (!name) add('name', 'Give the dataset a name, e.g. "lysozyme_scan_042".');
  else if (!NAME.test(name))
    add(
      'name',
      'Use letters, digits, spaces, ".", "_", "+" or "-", starting with a letter or digit: the name becomes part of the storage path.',
    );
  if (!d.investigation.trim()) add('investigation', 'Pick the investigation (proposal) this dataset belongs to.');
  if (d.visit && !/^[^/\\]+$/.test(d.visit)) add('visit', 'A visit is one path segment: no "/" or "\\".');
  if (!d.sources.length) add('sources', 'Add at least one file or folder to upload.');
  d.sources.forEach((s, i) => {
    if (!s.trim()) add(`sources.${i}`, 'This path is empty.');
  });
  if (d.type === 'derived' && !d.inputDatasets.some((x) => x.trim()))
    add('inputDatasets', 'A derived dataset names the datasets it was made from.');
  if (!d.destination) add('destination', 'Choose where the files go.');
  else if (!ctx.destinations.includes(d.destination))
    add('destination', `"${d.destination}" is not a known destination; choose one of: ${ctx.destinations.join(', ')}.`);
  if (d.mode === 'sync') completenessProblems(d.completeness).forEach((e) => add(e.field, e.message));
  if (ctx.template) {
    for (const f of ctx.template.fields) {
      const own = FORM_KEYS[f.key];
      const problem = fieldProblem(f, own ? d[own] : (d.metadata[f.key] ?? ''));
      if (problem) add(own ?? `metadata.${f.key}`, problem);
    }
  } else if (d.technique) {
    add('technique', `The technique "${d.technique}" is not known to this facility profile; choose another.`);
  }
  return errors;
}

function completenessProblems(c: DatasetDefinition['completeness']): FieldError[] {
  const out: FieldError[] = [];
  if (!Number.isFinite(c.quietSeconds) || c.quietSeconds < 0.5)
    out.push({
      field: 'completeness.quietSeconds',
      message: 'Wait at least 0.5 s without change before a file counts as complete.',
    });
  const match = c.markerMatch.trim();
  const marker = c.marker.trim();
  if (match && !marker) out.push({ field: 'completeness.marker', message: 'Name the marker file, e.g. "$1.done".' });
  if (marker && !match)
    out.push({ field: 'completeness.markerMatch', message: 'Say which files wait for the marker, e.g. "(.*)\\.h5".' });
  if (match) {
    try {
      new RegExp(`^(?:${match})$`, 'u');
    } catch (e) {
      out.push({ field: 'completeness.markerMatch', message: `Not a valid regular expression (${(e as Error).message}).` });
    }
  }
  if (marker && (marker.startsWith('/') || marker.split(/[\\/]/).includes('..')))
    out.push({ field: 'completeness.marker', message: 'The marker is a name in the same folder: no leading "/" and no "..".' });
  return out;
}

/** What is wrong with one template value, or null. */
export function fieldProblem(f: TemplateFieldView, raw: string): string | null {
  const v = raw.trim();
  const unit = f.unit ? ` ${f.unit}` : '';
  if (!v) return f.required ? `${f.label} is required.` : null;
  switch (f.type) {
    case 'number':
    case 'integer': {
      const n = Number(v);
      if (!Number.isFinite(n) || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v))
        return `${f.label} must be a number${unit ? ` (in${unit})` : ''}, e.g. 12.4.`;
      if (f.type === 'integer' && !Number.isInteger(n)) return `${f.label} must be a whole number.`;
      if (f.min !== undefined && n < f.min) return `${f.label} must be at least ${f.min}${unit}.`;
      if (f.max !== undefined && n > f.max) return `${f.label} must be at most ${f.max}${unit}.`;
      return null;
    }
    case 'boolean':
      return v === 'true' || v === 'false' ? null : `${f.label} is yes or no.`;
    case 'enum':
      return f.allowed && !f.allowed.includes(v) ? `${f.label} must be one of: ${f.allowed.join(', ')}.` : null;
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) ? null : `${f.label} is a date such as 2026-11-21.`;
    default:
      return f.allowed && f.allowed.length && !f.allowed.includes(v)
        ? `${f.label} must be one of: ${f.allowed.join(', ')}.`
        : null;
  }
}

/**
 * The engine's flat metadata for a definition: descriptive keys (description, sample,
 * datasetType, inputDatasets, technique) plus the template's values; the engine types them and
 * adds the template's units.
 */
export function metadataOf(d: DatasetDefinition, template: TechniqueTemplateView | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (d.description.trim()) out.description = d.description.trim();
  if (d.sample.trim()) out.sample = d.sample.trim();
  out.datasetType = d.type;
  if (d.type === 'derived')
    out.inputDatasets = d.inputDatasets
      .map((x) => x.trim())
      .filter(Boolean)
      .join(',');
  if (d.technique) out.technique = d.technique;
  for (const f of template?.fields ?? []) {
    const v = (d.metadata[f.key] ?? '').trim();
    if (v && !FORM_KEYS[f.key]) out[f.key] = v;
  }
  return out;
}
