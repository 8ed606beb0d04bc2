// stop / restart / destroy of a test server around its own launch function, shared by the MinIO,
// Apache and ActiveMQ starters (fault tests restart them on the same port and data).
import { stopProcess, type ManagedProcess } from './minio.js';

export interface ServerLifecycle {
  /** pid of the current process (changes on restart) */
  pid: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** stop, then remove what the starter created */
  destroy(): Promise<void>;
}

export interface LifecycleOptions {
  /** Spawns and waits until ready; calls `track` as soon as the process exists, so a failed start can be stopped. */
  launch(track: (p: ManagedProcess) => void): Promise<void>;
  cleanup(): Promise<void>;
  /** SIGTERM grace before SIGKILL. */
  graceMs?: number;
}

export function serverLifecycle(o: LifecycleOptions): { life: ServerLifecycle; start: () => Promise<void> } {
  let proc: ManagedProcess | undefined;
  const start = async (): Promise<void> => {
    await o.launch((p) => {
      proc = p;
    });
    life.pid = proc?.pid ?? -1;
  };
  const life: ServerLifecycle = {
    pid: -1,
    stop: async () => {
      if (proc !== undefined) await stopProcess(proc, o.graceMs);
    },
    restart: async () => {
      await life.stop();
      await start();
    },
    destroy: async () => {
      await life.stop();
      await o.cleanup();
    },
  };
  return { life, start };
}
