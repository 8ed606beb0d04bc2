// The shared validation of the dataset form: the same rules in the renderer (errors next to each
// field) and in the backend (before a job starts).
import { describe, expect, it } from 'vitest';
import type { TechniqueTemplateView } from '../../src/shared/app-model.js';
import {
  emptyDefinition,
  fieldProblem,
  metadataOf,
  validateDefinition,
  type DatasetDefinition,
} from '../../src/shared/dataset-definition.js';

const MX: TechniqueTemplateView = {
  id: 'MX',
  name: 'MX',
  fields: [
    { key: 'sample', label: 'Sample', type: 'string', required: true },
    { key: 'energy', label: 'Energy', type: 'number', unit: 'keV', required: false, min: 3, max: 40 },
    { key: 'number_of_images', label: 'Number of images', type: 'integer', required: true, min: 1 },
    { key: 'experiment_type', label: 'Experiment type', type: 'enum', required: false, allowed: ['OSC', 'SAD'] },
  ],
};
const ctx = { template: MX, destinations: ['s3', 'nas'] };
const good = (patch: Partial<DatasetDefinition> = {}): DatasetDefinition => ({
  ...emptyDefinition(),
  investigation: 'MX-1',
  name: 'lyso_042',
  sample: 'lysozyme',
  technique: 'MX',
  sources: ['/data/run'],
  destination: 's3',
  metadata: { energy: '12.4', number_of_images: '3600' },
  ...patch,
});
const fields = (d: DatasetDefinition) => validateDefinition(d, ctx).map((e) => e.field);

describe('validateDefinition', () => {
  it('accepts a complete definition', () => {
    expect(validateDefinition(good(), ctx)).toEqual([]);
  });

  it('puts each problem on its field', () => {
    expect(fields({ ...emptyDefinition(), technique: 'MX' })).toEqual([
      'name',
      'investigation',
      'sources',
      'destination',
      'sample',
      'metadata.number_of_images',
    ]);
    expect(fields(good({ name: '../etc', destination: 'ftp' }))).toEqual(['name', 'destination']);
    expect(fields(good({ type: 'derived' }))).toEqual(['inputDatasets']);
    expect(fields(good({ visit: 'a/b', sources: ['/data/run', ' '] }))).toEqual(['visit', 'sources.1']);
    expect(fields(good({ metadata: { energy: '50', number_of_images: '2.5', experiment_type: 'MAD' } }))).toEqual([
      'metadata.energy',
      'metadata.number_of_images',
      'metadata.experiment_type',
    ]);
  });

  it('checks the completeness rule of sync mode only', () => {
    const sync = (c: Partial<DatasetDefinition['completeness']>) =>
      good({ mode: 'sync', completeness: { quietSeconds: 5, markerMatch: '', marker: '', ...c } });
    expect(fields(sync({}))).toEqual([]);
    expect(fields(sync({ quietSeconds: Number.NaN }))).toEqual(['completeness.quietSeconds']);
    expect(fields(sync({ markerMatch: '(.*\\.h5', marker: '$1.done' }))).toEqual(['completeness.markerMatch']);
    expect(fields(sync({ markerMatch: '(.*)\\.h5' }))).toEqual(['completeness.marker']);
    expect(fields(sync({ markerMatch: '(.*)', marker: '../$1.done' }))).toEqual(['completeness.marker']);
    expect(fields(good({ completeness: { quietSeconds: Number.NaN, markerMatch: '', marker: '' } }))).toEqual([]);
  });

  it('names a technique the profile does not know', () => {
    expect(validateDefinition(good({ technique: 'XPCS' }), { template: null, destinations: ['s3'] }).map((e) => e.field)).toEqual(
      ['technique'],
    );
  });
});

describe('fieldProblem', () => {
  it('says what to write, with the unit', () => {
    expect(fieldProblem(MX.fields[1]!, '12,4')).toBe('Energy must be a number (in keV), e.g. 12.4.');
    expect(fieldProblem(MX.fields[1]!, '2')).toBe('Energy must be at least 3 keV.');
    expect(fieldProblem(MX.fields[1]!, '1e1')).toBeNull();
    expect(fieldProblem({ key: 'd', label: 'Date', type: 'date', required: false }, '21/11/2026')).toMatch(/2026-11-21/);
    expect(fieldProblem({ key: 'b', label: 'Cryo', type: 'boolean', required: false }, 'maybe')).toBe('Cryo is yes or no.');
  });
});

describe('metadataOf', () => {
  it('gives the engine descriptive keys and the template values it types itself', () => {
    expect(metadataOf(good({ description: ' soak 2 ', type: 'derived', inputDatasets: ['raw_1', ' ', 'raw_2'] }), MX)).toEqual({
      description: 'soak 2',
      sample: 'lysozyme',
      datasetType: 'derived',
      inputDatasets: 'raw_1,raw_2',
      technique: 'MX',
      energy: '12.4',
      number_of_images: '3600',
    });
  });
});
