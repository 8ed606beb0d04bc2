// `beamdrop find`: searches the local catalogue's experiment runs by words (dataset name,
// proposal, visit, technique, sample, instrument, description, metadata values, file names), by
// proposal, visit, catalogue, technique and date. Words must all match; case does not matter.
import { BeamdropError } from '../../../../shared/errors.js';
import { DATASET_SELECT, toDatasetInfo, type DatasetInfo, type LocalCatalogue } from '../local-catalogue.js';

export interface FindQuery {
  text?: string;
  technique?: string;
  /** Exactly this proposal / visit (as typed; case matters, as in the catalogues). */
  proposal?: string;
  visit?: string;
  /** The catalogue identity ("local", "scicat https://host") or its kind ("scicat"). */
  catalogue?: string;
  /** YYYY-MM-DD (or any date Date.parse reads): runs on or after it. */
  since?: string;
  limit?: number;
}

export function findDatasets(catalogue: LocalCatalogue, q: FindQuery): DatasetInfo[] {
  const where: string[] = [];
  const args: Record<string, unknown> = {};
  const param = (v: unknown) => {
    const name = `p${Object.keys(args).length}`;
    args[name] = v;
    return `@${name}`;
  };
  for (const word of (q.text ?? '').split(/\s+/).filter(Boolean)) {
    const like = `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(
      `(d.name LIKE ?1 ESCAPE '\\' OR d.proposal LIKE ?1 ESCAPE '\\' OR d.visit LIKE ?1 ESCAPE '\\' OR d.technique LIKE ?1 ESCAPE '\\'
      OR d.description LIKE ?1 ESCAPE '\\' OR d.metadata LIKE ?1 ESCAPE '\\' OR d.operator_id LIKE ?1 ESCAPE '\\'
      OR EXISTS (SELECT 1 FROM experiment_samples es JOIN samples s ON s.id = es.sample_id WHERE es.experiment_id = d.id AND s.name LIKE ?1 ESCAPE '\\')
      OR EXISTS (SELECT 1 FROM experiment_instruments ei JOIN instruments i ON i.id = ei.instrument_id WHERE ei.experiment_id = d.id AND i.code LIKE ?1 ESCAPE '\\')
      OR EXISTS (SELECT 1 FROM data_files f WHERE f.dataset_id = d.id AND f.file_name LIKE ?1 ESCAPE '\\'))`.replaceAll(
        '?1',
        param(like),
      ),
    );
  }
  if (q.technique) {
    where.push(`d.technique = ${param(q.technique)} COLLATE NOCASE`);
  }
  if (q.proposal) where.push(`d.proposal = ${param(q.proposal)}`);
  if (q.visit) where.push(`d.visit = ${param(q.visit)}`);
  if (q.catalogue) {
    const want = q.catalogue.trim().replace(/\/+$/, '');
    where.push(`(d.catalogue = ${param(want)} OR instr(d.catalogue, ${param(`${want} `)}) = 1)`);
  }
  if (q.since) {
    const t = Date.parse(q.since);
    if (Number.isNaN(t))
      throw new BeamdropError({
        code: 'usage',
        retryable: false,
        field: '--since',
        message: `--since ${q.since}: write a date such as 2026-03-01`,
      });
    where.push(`d.experiment_date >= ${param(new Date(t).toISOString().slice(0, 10))}`);
  }
  const sql = `${DATASET_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.experiment_date DESC, d.id DESC LIMIT ${Math.max(1, Math.min(q.limit ?? 500, 10_000))}`;
  return (catalogue.db.prepare(sql).all(args) as Parameters<typeof toDatasetInfo>[0][]).map(toDatasetInfo);
}
