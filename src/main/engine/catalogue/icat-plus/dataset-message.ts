// The ESRF ICAT+ dataset message, built in our own code: the XML that pyicat-plus sends to
// /queue/icatIngest (namespace http://www.esrf.fr/icat, prefix tns) — root tns:dataset with
// complete="true", then investigation, instrument, name, location, startDate, endDate,
// sample/name, and one tns:parameter (name, value) per metadata item. pyicat-plus's conventions
// are kept so the ingester sees the same thing from us as from BLISS: proposal and beamline in
// lower case, Sample_name first among the parameters, then the metadata, then the dataset's own
// fields repeated as parameters (beamlineID, datasetName, proposal, location, dates, machine,
// software, complete). A derived dataset also carries what pyicat-plus's store_processed_data
// sends: input_datasets (the inputs' absolute folder paths, comma-separated, normalised) and the
// ESRF fields Process_program / Process_version for the software that made it.
// test/fixtures/icat-plus/ holds pyicat-plus-made golden files.
import { posix } from 'node:path';
import { softwareParts, type DatasetDraft } from '../catalogue-adapter.js';

export const ICAT_NS = 'http://www.esrf.fr/icat';

export interface DatasetMessage {
  proposal: string;
  beamline: string;
  name: string;
  /** Absolute folder of the dataset. */
  location: string;
  sample: string;
  startDate: string;
  endDate: string;
  complete: boolean;
  /** Metadata items in order; names as the ICAT+ ingester knows them (e.g. InstrumentBeam_distance). */
  parameters: [string, string][];
  machine: string;
  software: string;
}

/** Characters XML 1.0 cannot carry at all, even escaped. */
const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlText(s: string): string {
  return s.replace(NOT_XML, '').replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * ISO 8601 as pyicat-plus writes it: the offset kept as given, whole seconds without a fraction
 * ("2026-03-01T10:00:00Z"), milliseconds kept otherwise.
 */
export function messageDate(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (m === null) {
    if (Number.isNaN(Date.parse(iso))) throw new Error(`not an ISO 8601 date with an offset: ${iso}`);
    return messageDate(new Date(iso).toISOString());
  }
  const fraction = m[2] === undefined || /^0+$/.test(m[2]) ? '' : `.${m[2]}`;
  const offset = m[3] === '+00:00' ? 'Z' : m[3];
  return `${m[1]}${fraction}${offset}`;
}

/** The parameters in pyicat-plus's order; a metadata item never overrides the dataset's own fields. */
export function messageParameters(msg: DatasetMessage): [string, string][] {
  const own: [string, string][] = [
    ['beamlineID', msg.beamline.toLowerCase()],
    ['datasetName', msg.name],
    ['proposal', msg.proposal.toLowerCase()],
    ['location', msg.location],
    ['startDate', messageDate(msg.startDate)],
    ['endDate', messageDate(msg.endDate)],
    ['machine', msg.machine],
    ['software', msg.software],
    ['complete', msg.complete ? 'true' : 'false'],
  ];
  const reserved = new Set(['Sample_name', ...own.map(([k]) => k)]);
  return [['Sample_name', msg.sample], ...msg.parameters.filter(([k]) => !reserved.has(k)), ...own];
}

export function buildDatasetMessage(msg: DatasetMessage): string {
  const el = (name: string, text: string): string => `<tns:${name}>${xmlText(text)}</tns:${name}>`;
  const params = messageParameters(msg)
    .map(([n, v]) => `<tns:parameter>${el('name', n)}${el('value', v)}</tns:parameter>`)
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<tns:dataset xmlns:tns="${ICAT_NS}" complete="${msg.complete ? 'true' : 'false'}">` +
    el('investigation', msg.proposal.toLowerCase()) +
    el('instrument', msg.beamline.toLowerCase()) +
    el('name', msg.name) +
    el('location', msg.location) +
    el('startDate', messageDate(msg.startDate)) +
    el('endDate', messageDate(msg.endDate)) +
    `<tns:sample>${el('name', msg.sample)}</tns:sample>` +
    params +
    '</tns:dataset>'
  );
}

export class MessageFieldMissing extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The folder path of a storage URI (file:///data/x → /data/x), or the path itself. */
function folderPath(uriOrPath: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uriOrPath) ? decodeURI(new URL(uriOrPath).pathname) : uriOrPath;
}

/** pyicat-plus's _normpath: an absolute path, normalised, without a trailing slash. */
function inputPath(input: string, dataset: string): string {
  const path = folderPath(input.trim());
  if (!path.startsWith('/'))
    throw new MessageFieldMissing(
      'inputDatasets',
      `ICAT+ identifies the input datasets of "${dataset}" by their folder path, and "${input}" is not one: give each input as its absolute folder (e.g. /data/visitor/mx2345/id23/scan_0001) or storage URI`,
    );
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

/** input_datasets, Process_program and Process_version of a derived dataset (none for a raw one). */
export function derivedParameters(draft: DatasetDraft): [string, string][] {
  if (draft.type !== 'derived') return [];
  const out: [string, string][] = [];
  const software = (draft.usedSoftware ?? [])
    .map((s) => s.trim())
    .filter(Boolean)
    .map(softwareParts);
  if (software.length > 0) {
    out.push(['Process_program', software.map((s) => s.name).join(',')]);
    if (software.every((s) => s.version !== null)) out.push(['Process_version', software.map((s) => s.version).join(',')]);
  }
  const inputs = (draft.inputDatasets ?? []).map((s) => s.trim()).filter(Boolean);
  if (inputs.length > 0) out.push(['input_datasets', inputs.map((i) => inputPath(i, draft.name)).join(',')]);
  return out;
}

/** The message for a finished dataset; the location is the folder path of its storage URI. */
export function draftMessage(draft: DatasetDraft, machine: string, software: string): DatasetMessage {
  const need = (value: string | null | undefined, field: string, what: string): string => {
    if (value === null || value === undefined || value.trim() === '')
      throw new MessageFieldMissing(field, `ICAT+ needs ${what} for dataset "${draft.name}"`);
    return value;
  };
  const location = folderPath(draft.sourceFolder);
  const derived = derivedParameters(draft);
  const own = new Set(derived.map(([k]) => k));
  return {
    proposal: need(draft.proposalId, 'proposalId', 'the proposal (investigation)'),
    beamline: need(draft.instrument, 'instrument', 'the beamline (instrument)'),
    name: draft.name,
    location,
    sample: need(draft.sample, 'sample', 'the sample name (Sample_name is mandatory)'),
    startDate: draft.startTime ?? draft.creationTime,
    endDate: draft.endTime ?? draft.creationTime,
    complete: true,
    parameters: [
      ...Object.entries(draft.scientificMetadata)
        .filter(([k]) => !own.has(k))
        .map(([k, v]): [string, string] => [k, String(v.value)]),
      ...derived,
    ],
    machine,
    software,
  };
}
