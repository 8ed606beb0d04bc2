// The Logs screen: the tail of the one log file (pino JSON lines), newest first, filtered by
// level and text. Reads only the last few MiB, so a months-old log does not slow the screen.
import { open } from 'node:fs/promises';
import type { LogLevel, LogLine } from '../../shared/app-model.js';

const TAIL_BYTES = 4 * 1024 * 1024;
const LEVELS: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export function levelName(n: number): LogLevel {
  if (n >= 50) return 'error';
  if (n >= 40) return 'warn';
  if (n >= 30) return 'info';
  return 'debug';
}

export async function readRecentLog(
  file: string,
  opts: { minLevel: LogLevel; limit: number; query: string },
): Promise<LogLine[]> {
  let text: string;
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - TAIL_BYTES);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      text = buf.toString('utf8');
      // The first line of a tail is usually cut in the middle.
      if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return [];
    throw e;
  }
  const min = LEVELS[opts.minLevel];
  const q = opts.query.trim().toLowerCase();
  const out: LogLine[] = [];
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0 && out.length < opts.limit; i--) {
    const line = lines[i]!;
    if (!line) continue;
    if (q && !line.toLowerCase().includes(q)) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const level = typeof o.level === 'number' ? o.level : 30;
    if (level < min) continue;
    const { level: _l, time, msg, pid: _p, hostname: _h, ...fields } = o;
    out.push({
      time: typeof time === 'number' ? time : 0,
      level: levelName(level),
      message: typeof msg === 'string' ? msg : '',
      fields,
    });
  }
  return out;
}
