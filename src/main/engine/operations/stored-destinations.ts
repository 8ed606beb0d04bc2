// Opens the destinations that a dataset's recorded files live on, once each, from the settings
// of the jobs of that dataset (its identity: catalogue, proposal, visit, name) that stored them; the
// catalogue keeps only the destination's name. Files known only by storage URI (imported crates,
// registered in place: destination "uri") are read by URI.
import { BeamdropError } from '../../../shared/errors.js';
import { datasetLabel } from '../../../shared/model.js';
import type { StoredJob } from '../journal/journal.js';
import type { CatalogueFile } from '../catalogue/local-catalogue.js';
import type { OperationDeps } from '../engine.js';
import { uploadPolicySchema } from '../../../shared/profile-schema.js';
import { POINTER_DESTINATION } from '../catalogue/local/local-adapter.js';
import type { Destination } from '../storage/destination.js';
import { UriDestination } from './uri-destination.js';

/** The jobs that stored a dataset's files, and how to open their destinations (or read pointers by URI). */
export type StoredDestinationsDeps = Pick<OperationDeps, 'journal' | 'hashes' | 'credentials' | 'env' | 'openDestination'>;

export class StoredDestinations {
  private readonly open = new Map<string, Destination>();

  constructor(private readonly d: StoredDestinationsDeps) {}

  async of(file: CatalogueFile): Promise<Destination> {
    const cached = this.open.get(file.destination);
    if (cached) return cached;
    const job = this.jobThatStored(file);
    if (!job && file.destination === POINTER_DESTINATION) {
      const { hashes, credentials, env } = this.d;
      const pointers = new UriDestination(POINTER_DESTINATION, {
        hashes,
        credentials,
        env,
        policy: uploadPolicySchema.parse({}),
      });
      this.open.set(file.destination, pointers);
      return pointers;
    }
    if (!job) {
      throw new BeamdropError({
        code: 'destination-unknown',
        retryable: false,
        dataset: file.dataset,
        message: `dataset ${datasetLabel({ ...file, name: file.dataset })} was stored on "${file.destination}", which no job in this journal describes (it was uploaded from another workstation or its jobs were forgotten).`,
      });
    }
    const o = job.options;
    const dest = await this.d.openDestination({ name: job.destination, config: o.destinationConfig, adhoc: o.adhoc }, o.policy);
    this.open.set(file.destination, dest);
    return dest;
  }

  /**
   * The newest job of the file's dataset that wrote to its destination; for records older than
   * dataset identities (visit or catalogue not known then), the newest job of that name that did.
   */
  private jobThatStored(file: CatalogueFile): StoredJob | undefined {
    const { journal } = this.d;
    const id = { catalogue: file.catalogue, proposal: file.proposal, visit: file.visit, name: file.dataset };
    const wrote = (j: StoredJob) => j.destination === file.destination && j.kind !== 'dry-run';
    return journal.jobsOfDataset(id).filter(wrote).at(-1) ?? journal.jobsNamed(file.dataset).filter(wrote).at(-1);
  }

  async close(): Promise<void> {
    for (const d of this.open.values()) await d.close();
    this.open.clear();
  }
}
