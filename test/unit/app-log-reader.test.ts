// The Logs screen reads the tail of the JSON-lines log, newest first, filtered by level and text.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { levelName, readRecentLog } from '../../src/main/app-backend/log-reader.js';

const line = (level: number, msg: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level, time: 1000 + level, pid: 1, hostname: 'h', msg, ...extra });

describe('readRecentLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bd-log-'));
  const file = join(dir, 'beamdrop.log');
  writeFileSync(
    file,
    [
      line(20, 'debug thing'),
      line(30, 'job started', { jobId: 1 }),
      'not json',
      line(40, 'file failed', { file: 'a.h5' }),
      line(50, 'boom'),
      '',
    ].join('\n'),
  );

  it('lists newest first with level, message and the other fields', async () => {
    expect(await readRecentLog(file, { minLevel: 'info', limit: 10, query: '' })).toEqual([
      { time: 1050, level: 'error', message: 'boom', fields: {} },
      { time: 1040, level: 'warn', message: 'file failed', fields: { file: 'a.h5' } },
      { time: 1030, level: 'info', message: 'job started', fields: { jobId: 1 } },
    ]);
  });

  it('filters by level, text and count', async () => {
    expect((await readRecentLog(file, { minLevel: 'debug', limit: 10, query: '' })).length).toBe(4);
    expect((await readRecentLog(file, { minLevel: 'warn', limit: 1, query: '' })).map((l) => l.message)).toEqual(['boom']);
    expect((await readRecentLog(file, { minLevel: 'debug', limit: 10, query: 'A.H5' })).map((l) => l.message)).toEqual([
      'file failed',
    ]);
  });

  it('is empty when there is no log yet', async () => {
    expect(await readRecentLog(join(dir, 'none.log'), { minLevel: 'info', limit: 10, query: '' })).toEqual([]);
    expect([10, 20, 30, 40, 50, 60].map(levelName)).toEqual(['debug', 'debug', 'info', 'warn', 'error', 'error']);
  });
});
