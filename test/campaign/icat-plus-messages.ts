// The ICAT+ side of the end checks: the dataset messages are taken off the broker's queue with a
// STOMP client of the test support (as the ICAT+ ingester would consume them) and counted by
// dataset name, so a message sent twice — in this round or any later one — is seen.
import { readQueue } from '../support/activemq.js';
import { ICAT_PLUS_QUEUE, type CampaignWorld } from './campaign-world.js';

const unescape = (s: string) =>
  s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&amp;', '&');

/** The dataset name of a message: <tns:name> outside the nested sample and parameters. */
export function datasetNameOf(xml: string): string | null {
  const outer = xml.replace(/<tns:(sample|parameter)>[\s\S]*?<\/tns:\1>/g, '');
  const m = /<tns:name>([^<]*)<\/tns:name>/.exec(outer);
  return m ? unescape(m[1]!) : null;
}

/** Consumes what is on the queue (waiting for `expect` messages at most timeoutMs) and adds it to the tally. */
export async function takeDatasetMessages(
  world: CampaignWorld,
  tally: Map<string, number>,
  opts: { expect: number; timeoutMs: number; idleMs: number },
): Promise<number> {
  // readQueue waits for CONNECTED without a limit; a broker that closes the socket first (just
  // restarted) would hold the campaign forever, so each try has a deadline and is tried again.
  let got: Awaited<ReturnType<typeof readQueue>> = [];
  for (let attempt = 1; ; attempt++) {
    const read = readQueue(world.broker!, ICAT_PLUS_QUEUE, {
      count: opts.expect,
      timeoutMs: opts.timeoutMs,
      idleMs: opts.idleMs,
    });
    const limit = new Promise<null>((res) => setTimeout(() => res(null), opts.timeoutMs + opts.idleMs + 15_000).unref());
    const r = await Promise.race([read, limit]).catch(() => null);
    if (r) {
      got = r;
      break;
    }
    if (attempt >= 3) throw new Error(`could not read ${ICAT_PLUS_QUEUE} from the broker at ${world.broker!.url} (3 tries)`);
    await new Promise((res) => setTimeout(res, 1_000));
  }
  for (const m of got) {
    const name = datasetNameOf(m.body) ?? '(no name)';
    tally.set(name, (tally.get(name) ?? 0) + 1);
  }
  return got.length;
}
