// vitest globalSetup of the `journeys` project, next to test/support/global-setup.ts (MinIO and
// Apache): one real ActiveMQ broker for every ICAT+ journey, handed over with inject('broker').
// Each journey uses its own queue on it, so that the messages a journey reads are its own.
import type { TestProject } from 'vitest/node';
import { startActiveMq } from './activemq.js';

export interface ProvidedBroker {
  host: string;
  port: number;
  url: string;
  username: string;
  password: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    broker: ProvidedBroker;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const broker = await startActiveMq();
  project.provide('broker', {
    host: broker.host,
    port: broker.port,
    url: broker.url,
    username: broker.username,
    password: broker.password,
  });
  console.log(`[test servers] activemq ${broker.url} (pid ${broker.pid}), ready in ${broker.startMs} ms`);
  return () => (process.env.BEAMDROP_KEEP_TEST_SERVERS === '1' ? broker.stop() : broker.destroy());
}
