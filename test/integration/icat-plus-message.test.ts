// Our ICAT+ dataset XML against what ESRF's pyicat-plus produces for the same dataset: the
// committed golden file always, and pyicat-plus itself when it is installed (see
// test/fixtures/icat-plus/README.md), for a raw dataset (store_dataset) and a processed one
// (store_processed_data with its input datasets). Equal except for the order of tns:parameter elements.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DatasetDraft } from '../../src/main/engine/catalogue/catalogue-adapter.js';
import {
  buildDatasetMessage,
  draftMessage,
  messageDate,
  xmlText,
} from '../../src/main/engine/catalogue/icat-plus/dataset-message.js';

const fixtures = join(import.meta.dirname, '../fixtures/icat-plus');
const inputFile = join(fixtures, 'dataset-message.input.json');
const input = JSON.parse(readFileSync(inputFile, 'utf8')) as {
  beamline: string;
  proposal: string;
  dataset: string;
  path: string;
  metadata: Record<string, string | number>;
};
const md = input.metadata;

/** The draft the outbox would hand over for the golden dataset. */
const draft: DatasetDraft = {
  key: 'bd-0123456789abcdef0123456789abcdef',
  name: input.dataset,
  type: 'raw',
  proposalId: input.proposal,
  instrument: input.beamline,
  facility: 'ESRF',
  sample: String(md.Sample_name),
  technique: 'MX',
  sourceFolder: `file://${input.path}`,
  creationTime: '2026-03-01T09:59:00.000Z',
  startTime: String(md.startDate),
  endTime: String(md.endDate),
  owner: 'alice',
  ownerGroup: 'mx2345',
  accessGroups: [],
  contactEmail: 'alice@example.org',
  principalInvestigator: 'pi@example.org',
  scientificMetadata: {
    Sample_description: { value: String(md.Sample_description) },
    InstrumentMonochromator_energy: { value: Number(md.InstrumentMonochromator_energy), unit: 'keV' },
    InstrumentBeam_distance: { value: Number(md.InstrumentBeam_distance), unit: 'm' },
    MX_beamSizeAtSampleX: { value: Number(md.MX_beamSizeAtSampleX), unit: 'mm' },
    Sample_notes: { value: String(md.Sample_notes) },
  },
  complete: true,
};

const PARAM = /<tns:parameter>.*?<\/tns:parameter>/g;
const canonical = (xml: string): { rest: string; parameters: string[] } => ({
  rest: xml.replace(PARAM, ''),
  parameters: (xml.match(PARAM) ?? []).sort(),
});

const ours = (): string => buildDatasetMessage(draftMessage(draft, String(md.machine), String(md.software)));

function pyicatPython(): string | undefined {
  const candidates = [process.env.BEAMDROP_PYICAT_PYTHON, join(homedir(), '.cache/beamdrop/pyicat-venv/bin/python')];
  return candidates.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
}

describe('ICAT+ dataset message', () => {
  it('matches the pyicat-plus golden file', () => {
    const golden = readFileSync(join(fixtures, 'dataset-message.golden.xml'), 'utf8');
    const mine = canonical(ours());
    const theirs = canonical(golden);
    expect(mine.rest).toBe(theirs.rest);
    expect(mine.parameters).toEqual(theirs.parameters);
    // Parameters sit together after tns:sample in both, so only their order was set aside.
    expect(ours()).toMatch(/<\/tns:sample>(<tns:parameter>.*?<\/tns:parameter>)+<\/tns:dataset>$/);
  });

  const python = pyicatPython();
  it('matches what the installed pyicat-plus writes now (store_filename)', async () => {
    if (python === undefined)
      throw new Error(
        'pyicat-plus is not installed: run scripts/provision-test-servers.sh (it creates ~/.cache/beamdrop/pyicat-venv), or set BEAMDROP_PYICAT_PYTHON',
      );
    const dir = await mkdtemp(join(tmpdir(), 'beamdrop-pyicat-'));
    try {
      const out = join(dir, 'message.xml');
      await promisify(execFile)(python as string, [join(fixtures, 'make-golden.py'), inputFile, out], { timeout: 120_000 });
      const live = canonical(await readFile(out, 'utf8'));
      const mine = canonical(ours());
      expect(mine.parameters).toEqual(live.parameters);
      expect(mine.rest).toBe(live.rest);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('escapes markup, drops characters XML cannot carry, and writes dates as pyicat-plus does', () => {
    expect(xmlText('a<b>&c\u0001\u0008d\te')).toBe('a&lt;b&gt;&amp;cd\te');
    expect(messageDate('2026-03-01T10:00:00.000Z')).toBe('2026-03-01T10:00:00Z');
    expect(messageDate('2026-03-01T10:00:00.250+02:00')).toBe('2026-03-01T10:00:00.250+02:00');
    expect(messageDate('2026-03-01T10:00:00+00:00')).toBe('2026-03-01T10:00:00Z');
  });

  describe('of a processed dataset', () => {
    const procFile = join(fixtures, 'dataset-message-processed.input.json');
    const proc = JSON.parse(readFileSync(procFile, 'utf8')) as typeof input & { raw: string[] };
    const derived: DatasetDraft = {
      ...draft,
      name: proc.dataset,
      type: 'derived',
      sample: String(proc.metadata.Sample_name),
      sourceFolder: `file://${proc.path}`,
      startTime: String(proc.metadata.startDate),
      endTime: String(proc.metadata.endDate),
      scientificMetadata: {},
      // As the operator gives them: a storage URI (with its trailing slash) and a folder path.
      inputDatasets: [`file://${proc.raw[0] as string}`, proc.raw[1] as string],
      usedSoftware: ['xds 2026', 'aimless 0.7.13'],
    };
    const mine = (): string => buildDatasetMessage(draftMessage(derived, String(proc.metadata.machine), 'beamdrop'));

    it('matches the pyicat-plus golden file: input_datasets and Process_program/Process_version', () => {
      const golden = canonical(readFileSync(join(fixtures, 'dataset-message-processed.golden.xml'), 'utf8'));
      expect(canonical(mine())).toEqual(golden);
      expect(mine()).toContain(
        '<tns:parameter><tns:name>input_datasets</tns:name><tns:value>/data/visitor/mx2345/id23/scan_0001,/data/visitor/mx2345/id23/scan_0002</tns:value></tns:parameter>',
      );
    });

    it('matches what the installed pyicat-plus writes now (store_processed_data)', async () => {
      if (python === undefined) throw new Error('pyicat-plus is not installed: see test/fixtures/icat-plus/README.md');
      const dir = await mkdtemp(join(tmpdir(), 'beamdrop-pyicat-'));
      try {
        const out = join(dir, 'message.xml');
        await promisify(execFile)(python, [join(fixtures, 'make-golden.py'), procFile, out], { timeout: 120_000 });
        expect(canonical(mine())).toEqual(canonical(await readFile(out, 'utf8')));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('refuses an input that is not a folder, naming the field', () => {
      expect(() => draftMessage({ ...derived, inputDatasets: ['scan_0001'] }, 'ws', 'beamdrop')).toThrow(
        expect.objectContaining({ field: 'inputDatasets', message: expect.stringContaining('"scan_0001" is not one') }),
      );
      // A raw dataset carries none of it.
      expect(buildDatasetMessage(draftMessage({ ...derived, type: 'raw' }, 'ws', 'beamdrop'))).not.toContain('input_datasets');
    });
  });

  it('names the missing field when the dataset cannot make a message', () => {
    expect(() => draftMessage({ ...draft, sample: null }, 'ws', 'beamdrop')).toThrow(
      expect.objectContaining({ field: 'sample' }),
    );
    expect(() => draftMessage({ ...draft, instrument: '  ' }, 'ws', 'beamdrop')).toThrow(
      expect.objectContaining({ field: 'instrument' }),
    );
  });
});
