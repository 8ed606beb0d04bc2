// The renderer's way to main: typed calls over window.beamdrop that resolve with the value or
// reject with a UiError carrying the whole ErrorInfo (code, field, file), so screens can put a
// message next to the field it belongs to.
import type { ErrorInfo } from '../shared/errors.js';
import type {
  BeamdropApi,
  CommandName,
  CommandRequest,
  CommandResponse,
  EventName,
  EventPayloads,
  Unsubscribe,
} from '../shared/ipc-contract.js';

export class UiError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
    this.name = 'UiError';
  }
}

export function errorInfoOf(e: unknown): ErrorInfo {
  if (e instanceof UiError) return e.info;
  return { code: 'internal', retryable: false, message: e instanceof Error ? e.message : String(e) };
}

export class ApiClient {
  constructor(private readonly api: BeamdropApi) {}

  async call<C extends CommandName>(command: C, request: CommandRequest<C>): Promise<CommandResponse<C>> {
    const r = await this.api.invoke(command, request);
    if (!r.ok) throw new UiError(r.error);
    return r.value;
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): Unsubscribe {
    return this.api.on(event, listener);
  }

  /** Sends a line to main's log (the one log sink); never throws. */
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, context?: Record<string, unknown>): void {
    void this.api
      .invoke('logs.write', { level, message: message.slice(0, 10_000), ...(context ? { context } : {}) })
      .catch(() => undefined);
  }
}
