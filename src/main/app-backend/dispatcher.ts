// Turns (command, request) into a Result: the command must be in the contract, the request must
// pass its schema, and whatever the handler throws becomes ErrorInfo. Main's IPC handlers and the
// e2e binding both call this, so the renderer sees the same answers in both.
import { toErrorInfo } from '../../shared/errors.js';
import {
  isCommandName,
  parseRequest,
  type COMMAND_REQUESTS,
  type CommandName,
  type CommandResponse,
  type Result,
} from '../../shared/ipc-contract.js';
import type { z } from 'zod';
import type { Logger } from '../engine/log/logger.js';

export type ParsedRequest<C extends CommandName> = z.output<(typeof COMMAND_REQUESTS)[C]>;

export type CommandHandlers = {
  [C in CommandName]: (request: ParsedRequest<C>) => Promise<CommandResponse<C>> | CommandResponse<C>;
};

export type Dispatch = (command: unknown, request: unknown) => Promise<Result<unknown>>;

export function createDispatcher(handlers: CommandHandlers, log: Logger): Dispatch {
  return async (command, request) => {
    if (!isCommandName(command)) {
      return {
        ok: false,
        error: { code: 'permission-denied', retryable: false, message: `"${String(command)}" is not a Beamdrop command.` },
      };
    }
    const parsed = parseRequest(command, request);
    if (!parsed.ok) return parsed;
    try {
      const handler = handlers[command] as (r: unknown) => Promise<unknown> | unknown;
      return { ok: true, value: await handler(parsed.value) };
    } catch (e) {
      const error = toErrorInfo(e);
      if (error.code === 'internal') log.error({ command, err: e }, 'command failed');
      return { ok: false, error };
    }
  };
}
