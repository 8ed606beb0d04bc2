// Opens the destinations that a dataset's recorded files live on, once each, from the settings
// of the jobs that stored them (the catalogue keeps only the destination's name).
import { BeamdropError } from '../../../shared/errors.js';
import type { CatalogueFile } from '../catalogue/local-catalogue.js';
import type { Engine } from '../engine.js';
import type { Destination } from '../storage/destination.js';

export class StoredDestinations {
  private readonly open = new Map<string, Destination>();

  constructor(private readonly engine: Engine) {}

  async of(file: CatalogueFile): Promise<Destination> {
    const cached = this.open.get(file.destination);
    if (cached) return cached;
    const d = this.engine.datasetDestinations(file.dataset).get(file.destination);
    if (!d) {
      throw new BeamdropError({ code: 'destination-unknown', retryable: false, dataset: file.dataset, message: `dataset "${file.dataset}" was stored on "${file.destination}", which no job in this journal describes.` });
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
