// JobView fixtures for the unit tests of the app's main-process pieces.
import type { JobView } from '../../src/shared/app-model.js';

export function jobView(patch: Partial<JobView> = {}): JobView {
  return {
    id: 1,
    kind: 'batch',
    state: 'running',
    dataset: 'lyso_042',
    proposal: 'MX-1',
    destination: 's3',
    sources: ['/data/run'],
    createdAt: 1_000,
    finishedAt: null,
    reason: null,
    running: true,
    filesTotal: 10,
    filesDone: 3,
    bytesTotal: 1000,
    bytesDone: 300,
    rate: 100,
    eta: 7,
    counts: { verified: 3, discovered: 7 },
    backlog: null,
    attention: false,
    ...patch,
  };
}
