// The IPC contract and the dispatcher behind it: unknown commands and malformed requests are
// refused with the field at fault, handler errors keep their ErrorInfo, unknown ones are internal.
import { describe, expect, it } from 'vitest';
import { BeamdropError } from '../../src/shared/errors.js';
import { COMMAND_NAMES, COMMAND_REQUESTS, parseRequest } from '../../src/shared/ipc-contract.js';
import { emptyDefinition } from '../../src/shared/dataset-definition.js';
import { createDispatcher, type CommandHandlers } from '../../src/main/app-backend/dispatcher.js';
import { silentLogger } from '../../src/main/engine/log/logger.js';

describe('IPC contract', () => {
  it('has a schema for every command of the allow-list', () => {
    expect(Object.keys(COMMAND_REQUESTS).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('names the field of a malformed request', () => {
    expect(parseRequest('jobs.files', { jobId: 1, states: ['lost'], offset: 0, limit: 10 })).toMatchObject({
      ok: false,
      error: { code: 'usage', field: 'states.0' },
    });
    expect(parseRequest('jobs.files', { jobId: 1, states: [], offset: 0, limit: 100_000 })).toMatchObject({
      ok: false,
      error: { field: 'limit' },
    });
    expect(parseRequest('jobs.pause', { jobId: 1, extra: true })).toMatchObject({ ok: false });
    expect(parseRequest('app.info', undefined)).toEqual({ ok: true, value: undefined });
  });

  it('accepts a whole dataset definition and refuses one with a wrong field', () => {
    expect(parseRequest('jobs.start', { definition: emptyDefinition() }).ok).toBe(true);
    expect(parseRequest('jobs.start', { definition: { ...emptyDefinition(), mode: 'stream' } })).toMatchObject({
      ok: false,
      error: { field: 'definition.mode' },
    });
  });
});

describe('createDispatcher', () => {
  const handlers = {
    'app.info': () => {
      throw new BeamdropError({
        code: 'destination-unknown',
        retryable: false,
        field: 'destination',
        message: 'no destination "ftp"',
      });
    },
    'jobs.list': (r: { limit: number }) => [r.limit],
    'logs.write': () => {
      throw new TypeError('x is undefined');
    },
  } as unknown as CommandHandlers;
  const dispatch = createDispatcher(handlers, silentLogger());

  it('answers with the value', async () => {
    expect(await dispatch('jobs.list', { limit: 4 })).toEqual({ ok: true, value: [4] });
  });

  it('refuses unknown commands and bad requests without calling a handler', async () => {
    expect(await dispatch('shell.openExternal', {})).toMatchObject({ ok: false, error: { code: 'permission-denied' } });
    expect(await dispatch('jobs.list', { limit: 'all' })).toMatchObject({
      ok: false,
      error: { code: 'usage', field: 'limit' },
    });
  });

  it('keeps a BeamdropError whole and makes anything else internal', async () => {
    expect(await dispatch('app.info', undefined)).toEqual({
      ok: false,
      error: { code: 'destination-unknown', retryable: false, field: 'destination', message: 'no destination "ftp"' },
    });
    expect(await dispatch('logs.write', { level: 'info', message: 'm' })).toEqual({
      ok: false,
      error: { code: 'internal', retryable: false, message: 'x is undefined' },
    });
  });
});
