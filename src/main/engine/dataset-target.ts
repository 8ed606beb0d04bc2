// The part of an upload or watch request that names the dataset, where it goes and which files
// belong to it.
import type { UploadPolicy } from '../../shared/profile-schema.js';

export interface DatasetTarget {
  dataset: string;
  proposal?: string;
  visit?: string;
  destination?: string;
  to?: string;
  include?: string[];
  exclude?: string[];
  metadata?: Record<string, string>;
  followSymlinks?: boolean;
  /** Overrides of the profile's upload policy (CLI flags). */
  policy?: Partial<Pick<UploadPolicy, 'concurrency' | 'partConcurrency' | 'bandwidth'>>;
}

