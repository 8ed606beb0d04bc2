// One log sink: JSON lines (pino) in the data folder's logs/. Secrets are redacted by field
// name as a second line of defence; the engine never hands secrets to the logger.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(logDir: string, level = process.env.BEAMDROP_LOG_LEVEL ?? 'info'): Logger {
  mkdirSync(logDir, { recursive: true });
  const destination = pino.destination({ dest: join(logDir, 'beamdrop.log'), sync: true, mkdir: true });
  // A line that cannot be written (the disk is full) is dropped, not thrown into whatever was
  // logging: the journal, not the log, is what a rerun continues from, and a full disk stops the
  // job through the journal (SQLITE_FULL) with a message saying so.
  destination.on('error', () => undefined);
  return pino(
    {
      level,
      redact: {
        paths: ['*.secretAccessKey', '*.password', '*.secret', '*.authorization', '*.Authorization', 'credentials'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
