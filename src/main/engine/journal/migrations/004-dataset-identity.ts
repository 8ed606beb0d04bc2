// Journal schema step 4: a job names its dataset by the full identity (catalogue, proposal, visit,
// name), so the same name in another proposal, visit or catalogue is another dataset. Existing
// rows are kept and backfilled from their stored options (vars.visit, catalogue.config); jobs of
// versions before the outbox were local-catalogue only and keep the default 'local'. The catalogue
// identity is written as catalogueIdentity() does: "KIND URL" without trailing slashes.
export const DATASET_IDENTITY = `
  ALTER TABLE jobs ADD COLUMN visit TEXT;
  ALTER TABLE jobs ADD COLUMN catalogue TEXT NOT NULL DEFAULT 'local';
  UPDATE jobs SET visit = NULLIF(json_extract(options, '$.vars.visit'), '') WHERE json_valid(options);
  UPDATE jobs SET catalogue = json_extract(options, '$.catalogue.config.kind') || ' ' || rtrim(json_extract(options, '$.catalogue.config.url'), '/')
    WHERE json_valid(options)
      AND json_extract(options, '$.catalogue.config.kind') IN ('scicat', 'icat', 'icat-plus')
      AND json_extract(options, '$.catalogue.config.url') IS NOT NULL;
  CREATE INDEX jobs_by_dataset ON jobs (dataset, proposal, visit, catalogue);
  `;
