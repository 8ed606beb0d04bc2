// The faults a round may add to its kill, on the real servers: the storage server restarted
// (MinIO or Apache, same port and data), connections cut by the flaky proxy, the ActiveMQ broker
// stopped and started again, the SciCat server taken off the network for a moment. Each starts
// after a delay and resolves once it is over (the server is back), so a round can await it
// before its end checks.
import { setTimeout as sleep } from 'node:timers/promises';
import type { CampaignWorld, CatalogueKind, DestinationKind } from './campaign-world.js';
import type { Rng } from './rng.js';

export const FAULTS = ['storage-restart', 'connection-cuts', 'broker-stop', 'catalogue-down'] as const;
export type Fault = (typeof FAULTS)[number];

export function faultsFor(catalogue: CatalogueKind): Fault[] {
  return ['storage-restart', 'connection-cuts', catalogue === 'icat-plus' ? 'broker-stop' : 'catalogue-down'];
}

export interface RunningFault {
  fault: Fault;
  /** What was done, for the log and the defect notes. */
  detail: string;
  over: Promise<void>;
}

export function startFault(
  world: CampaignWorld,
  fault: Fault,
  where: { destination: DestinationKind },
  delayMs: number,
  rng: Rng,
): RunningFault {
  const downMs = Math.round(rng.between(300, 2500));
  const afterBytes = rng.int(32 * 1024, 4 * 1024 * 1024);
  const times = rng.int(1, 3);
  const details: Record<Fault, string> = {
    'storage-restart': `${where.destination === 's3' ? 'MinIO' : 'Apache'} restarted after ${delayMs} ms`,
    'connection-cuts': `${times} connection(s) to ${where.destination} cut after ${afterBytes} bytes, from ${delayMs} ms`,
    'broker-stop': `ActiveMQ stopped after ${delayMs} ms for ${downMs} ms (plus its start)`,
    'catalogue-down': `SciCat off the network after ${delayMs} ms for ${downMs} ms`,
  };
  const over = (async () => {
    await sleep(delayMs);
    switch (fault) {
      case 'storage-restart':
        await (where.destination === 's3' ? world.minio.restart() : world.dav.restart());
        break;
      case 'connection-cuts':
        world.proxies[where.destination].setMode({ kind: 'cut', afterBytes, times }, { dropExisting: false });
        break;
      case 'broker-stop':
        await world.broker!.stop();
        await sleep(downMs);
        await world.broker!.restart();
        break;
      case 'catalogue-down':
        await world.scicat!.stop();
        await sleep(downMs);
        await world.scicat!.restart();
        break;
    }
  })();
  return { fault, detail: details[fault], over };
}

/** After a round: every proxy passes again (a cut mode may not have used up its cuts). */
export function clearFaults(world: CampaignWorld): void {
  for (const p of Object.values(world.proxies))
    if (p.mode().kind !== 'pass') p.setMode({ kind: 'pass' }, { dropExisting: false });
}
