// The include/exclude globs of the facility profile: the default excludes of every job and the
// check of one pattern. The rule they are matched by is engine/scan/filters.ts (README, "Which
// files are taken").
import { z } from 'zod';

/**
 * Left out of every job, batch or sync, unless an include spells them out: dot files and dot
 * folders, temporary and partial files, editor backups and lock files.
 */
export const DEFAULT_EXCLUDE = ['.*', '*.tmp', '*.part', '~*'] as const;

/** One include, exclude or ignore glob. */
export const globSchema = z
  .string({ error: 'write a glob such as "*.h5" or "raw/**"' })
  .refine((g) => g.replace(/\//g, '').trim() !== '', { message: 'an empty pattern matches nothing; remove it' })
  .refine((g) => g.length <= 4096, { message: 'a pattern is at most 4096 characters; write a shorter glob' });
