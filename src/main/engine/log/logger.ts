// One log sink: JSON lines (pino) in the data folder's logs/. Secrets are redacted by field
// name as a second line of defence; the engine never hands secrets to the logger.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(logDir: string, level = process.env.BEAMDROP_LOG_LEVEL ?? 'info'): Logger {
  mkdirSync(logDir, { recursive: true });
  return pino(
    {
      level,
      redact: {
        paths: ['*.secretAccessKey', '*.password', '*.secret', '*.authorization', '*.Authorization', 'credentials'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: join(logDir, 'beamdrop.log'), sync: true, mkdir: true }),
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
