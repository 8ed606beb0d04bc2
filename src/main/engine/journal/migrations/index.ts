// The journal's schema, one file per step. Step N moves `PRAGMA user_version` to N. A released
// step is never edited: a change is a new file appended to this list.
import { CORE } from './001-core.js';
import { SYNC } from './002-sync.js';
import { OUTBOX } from './003-outbox.js';
import { DATASET_IDENTITY } from './004-dataset-identity.js';
import { OUTBOX_REVISIONS } from './005-outbox-revisions.js';
import { PRE_UPGRADE_DRY_RUNS } from './006-pre-upgrade-dry-runs.js';
import { MULTIPART_INTENTS } from './007-multipart-intents.js';

export const MIGRATIONS: readonly string[] = [
  CORE,
  SYNC,
  OUTBOX,
  DATASET_IDENTITY,
  OUTBOX_REVISIONS,
  PRE_UPGRADE_DRY_RUNS,
  MULTIPART_INTENTS,
];
