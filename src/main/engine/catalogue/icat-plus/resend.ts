// `beamdrop catalogue resend`: sends every message waiting in the ICAT+ buffer folder, unchanged
// and oldest first, over one broker connection, removing each file once the broker confirmed it
// (as ESRF's icat-store-from-file does for BLISS's __icat__ folder). Stops at the first failure
// and reports what was sent and what remains, so running it again is always safe.
import type { IcatPlusCatalogueConfig } from '../../../../shared/profile-catalogue-schema.js';
import {
  classifyCatalogueError,
  type AdapterDeps,
  type CatalogueCredentials,
  type CatalogueError,
} from '../catalogue-adapter.js';
import { brokerTarget } from './icat-plus-adapter.js';
import { bufferFolder, MessageBuffer } from './message-buffer.js';
import { withBroker } from './stomp-sender.js';

export interface ResendReport {
  /** Buffer file names delivered now (or found already delivered and cleaned up). */
  sent: string[];
  /** Buffer file names still waiting. */
  remaining: string[];
  error?: CatalogueError;
}

export async function resendIcatPlusBuffer(
  config: IcatPlusCatalogueConfig,
  deps: Pick<AdapterDeps, 'dataDir'>,
  credentials: Pick<CatalogueCredentials, 'username' | 'password'> | null,
): Promise<ResendReport> {
  const buffer = new MessageBuffer(bufferFolder(config, deps));
  const pending = await buffer.list();
  const sent: string[] = [];
  let error: CatalogueError | undefined;
  if (pending.length > 0) {
    const session =
      credentials === null ? null : { token: JSON.stringify({ username: credentials.username, password: credentials.password }) };
    try {
      await withBroker(brokerTarget(config, session), async (c) => {
        for (const m of pending) {
          // Confirmed by the broker before a crash removed the file: do not send it twice.
          if (!(await buffer.wasSent(m.key))) await c.send(await buffer.read(m));
          await buffer.markSent(m.key, m);
          sent.push(m.file);
        }
      });
    } catch (e) {
      error = classifyCatalogueError(e, `ICAT+ (${config.url})`);
    }
  }
  const remaining = (await buffer.list()).map((m) => m.file);
  return { sent, remaining, ...(error === undefined ? {} : { error }) };
}
