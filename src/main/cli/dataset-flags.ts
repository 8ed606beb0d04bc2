// The flags `upload` and `watch` share (dataset, where it goes, which files, metadata, policy),
// checked and turned into the engine's DatasetTarget in one place.
import { BeamdropError } from '../../shared/errors.js';
import type { DatasetTarget } from '../engine/engine.js';
import { parseBandwidthSchedule } from '../engine/transfer/bandwidth-schedule.js';
import { parseMetadata } from './context.js';

export interface DatasetFlags {
  proposal?: string;
  visit?: string;
  to?: string;
  destination?: string;
  include?: string[];
  exclude?: string[];
  param?: string[];
  concurrency?: string;
  bwlimit?: string;
  followSymlinks?: boolean;
  newJob?: boolean;
}

const usage = (field: string, message: string) => new BeamdropError({ code: 'usage', retryable: false, field, message });

export function datasetTargetFrom(dataset: string, f: DatasetFlags): DatasetTarget & { newJob: boolean } {
  const concurrency = f.concurrency === undefined ? undefined : Number(f.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
    throw usage('--concurrency', `--concurrency ${f.concurrency}: write a whole number of at least 1`);
  if (f.bwlimit) {
    try {
      parseBandwidthSchedule(f.bwlimit);
    } catch (e) {
      throw usage('--bwlimit', `--bwlimit: ${(e as Error).message}`);
    }
  }
  return {
    dataset,
    ...(f.proposal ? { proposal: f.proposal } : {}),
    ...(f.visit ? { visit: f.visit } : {}),
    ...(f.to ? { to: f.to } : {}),
    ...(f.destination ? { destination: f.destination } : {}),
    include: f.include ?? [],
    exclude: f.exclude ?? [],
    metadata: parseMetadata(f.param ?? []),
    followSymlinks: !!f.followSymlinks,
    newJob: !!f.newJob,
    policy: { concurrency, bandwidth: f.bwlimit },
  };
}
