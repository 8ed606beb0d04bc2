// Opens the destinations that a dataset's recorded files live on, once each, from the settings
// of the jobs that stored them (the catalogue keeps only the destination's name). Files known only
// by storage URI (imported crates, registered in place: destination "uri") are read by URI.
import { BeamdropError } from '../../../shared/errors.js';
import type { CatalogueFile } from '../catalogue/local-catalogue.js';
import type { Engine } from '../engine.js';
import { uploadPolicySchema } from '../../../shared/profile-schema.js';
import { POINTER_DESTINATION } from '../catalogue/local/local-adapter.js';
import type { Destination } from '../storage/destination.js';
import { UriDestination } from './uri-destination.js';

export class StoredDestinations {
  private readonly open = new Map<string, Destination>();

  constructor(private readonly engine: Engine) {}

  async of(file: CatalogueFile): Promise<Destination> {
    const cached = this.open.get(file.destination);
    if (cached) return cached;
    const d = this.engine.datasetDestinations(file.dataset).get(file.destination);
    if (!d && file.destination === POINTER_DESTINATION) {
      const { hashes, credentials, env } = this.engine.services;
      const pointers = new UriDestination(POINTER_DESTINATION, {
        hashes,
        credentials,
        env,
        policy: uploadPolicySchema.parse({}),
      });
      this.open.set(file.destination, pointers);
      return pointers;
    }
    if (!d) {
      throw new BeamdropError({
        code: 'destination-unknown',
        retryable: false,
        dataset: file.dataset,
        message: `dataset "${file.dataset}" was stored on "${file.destination}", which no job in this journal describes.`,
      });
    }
    const dest = await this.engine.openDestination(d, d.policy);
    this.open.set(file.destination, dest);
    return dest;
  }

  async close(): Promise<void> {
    for (const d of this.open.values()) await d.close();
    this.open.clear();
  }
}
