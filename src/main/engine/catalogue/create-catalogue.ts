// Builds the adapter the profile's `catalogue:` names. Facility adapters are loaded on demand, so
// a workstation on the local catalogue never loads HTTP or STOMP clients.
import type { CatalogueConfig } from '../../../shared/profile-catalogue-schema.js';
import type { AdapterDeps, CatalogueAdapter } from './catalogue-adapter.js';
import type { LocalCatalogue } from './local-catalogue.js';
import { LocalCatalogueAdapter } from './local/local-adapter.js';

export async function createCatalogueAdapter(
  config: CatalogueConfig,
  deps: AdapterDeps & { local: LocalCatalogue },
): Promise<CatalogueAdapter> {
  const adapterDeps: AdapterDeps = { now: deps.now, dataDir: deps.dataDir };
  switch (config.kind) {
    case 'local':
      return new LocalCatalogueAdapter(deps.local);
    case 'scicat': {
      const { createScicatAdapter } = await import('./scicat/scicat-adapter.js');
      return createScicatAdapter(config, adapterDeps);
    }
    case 'icat': {
      const { createIcatAdapter } = await import('./icat/icat-adapter.js');
      return createIcatAdapter(config, adapterDeps);
    }
    case 'icat-plus': {
      const { createIcatPlusAdapter } = await import('./icat-plus/icat-plus-adapter.js');
      return createIcatPlusAdapter(config, adapterDeps);
    }
  }
}
