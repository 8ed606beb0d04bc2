// Turns icat.server's answers into CatalogueErrors an operator can act on. ICAT answers errors as
// {"code","message","offset"}: SESSION and INSUFFICIENT_PRIVILEGES with 403, NO_SUCH_OBJECT_FOUND
// with 404, OBJECT_ALREADY_EXISTS and VALIDATION with 412, BAD_PARAMETER with 400, INTERNAL 500.
import { describeNetworkError, isTemporaryHttpStatus } from '../../net/network-error.js';
import { CatalogueError, type CatalogueErrorInit, type CatalogueProblem } from '../catalogue-adapter.js';

export interface IcatCallContext {
  /** Base URL of icat.server, as in the profile. */
  server: string;
  /** What was being done, e.g. `creating Dataset "scan-12" in investigation MX-1 (visit 1)`. */
  action: string;
  dataset?: string;
}

export interface IcatErrorBody {
  code: string;
  message: string;
  offset?: number;
}

/** A CatalogueError that remembers ICAT's own code, so callers can react to OBJECT_ALREADY_EXISTS. */
export class IcatCallError extends CatalogueError {
  constructor(
    init: CatalogueErrorInit,
    readonly icatCode: string,
  ) {
    super(init);
  }
}

export function icatCode(e: unknown): string | undefined {
  return e instanceof IcatCallError ? e.icatCode : undefined;
}

function parseBody(status: number, text: string): IcatErrorBody {
  try {
    const b = JSON.parse(text) as Partial<IcatErrorBody>;
    if (typeof b.code === 'string')
      return { code: b.code, message: String(b.message ?? ''), ...(typeof b.offset === 'number' ? { offset: b.offset } : {}) };
  } catch {
    // not JSON: a proxy or the application server answered, not ICAT
  }
  return { code: status >= 500 ? 'INTERNAL' : `HTTP_${status}`, message: text.trim().slice(0, 300) || `HTTP ${status}` };
}

/** "Dataset.name cannot be null", "Dataset: name …" → "Dataset.name". */
function fieldOf(message: string): string | undefined {
  const m = /\b([A-Z][A-Za-z]+)(?:\.|: )([a-z][A-Za-z]*)\b/.exec(message);
  return m === null ? undefined : `${m[1]}.${m[2]}`;
}

export function icatHttpError(status: number, text: string, ctx: IcatCallContext): CatalogueError {
  const body = parseBody(status, text);
  const at = `ICAT at ${ctx.server}`;
  const field = body.code === 'VALIDATION' || body.code === 'BAD_PARAMETER' ? fieldOf(body.message) : undefined;
  const make = (problem: CatalogueProblem, message: string): CatalogueError =>
    new IcatCallError(
      {
        problem,
        message,
        status,
        reason: `${body.code}: ${body.message}`,
        ...(field === undefined ? {} : { field }),
        ...(ctx.dataset === undefined ? {} : { dataset: ctx.dataset }),
      },
      body.code,
    );
  switch (body.code) {
    case 'SESSION':
      return make(
        'needs-login',
        `${at} ended the session while ${ctx.action} (SESSION: ${body.message}); run \`beamdrop login\` again — registration waits and then resumes.`,
      );
    case 'INSUFFICIENT_PRIVILEGES':
      return make(
        'forbidden',
        `${at} refused ${ctx.action} (INSUFFICIENT_PRIVILEGES: ${body.message}); the signed-in user is not allowed to do this — ask the ICAT administrators to add the user to the investigation, or sign in as a member.`,
      );
    case 'NO_SUCH_OBJECT_FOUND': {
      const what = /([A-Z][A-Za-z]+)\[id:(\d+)\]/.exec(body.message);
      const entity = what === null ? 'an entity it refers to' : `${what[1]} ${what[2]}`;
      return make(
        'rejected',
        `${at} could not find ${entity} while ${ctx.action} (NO_SUCH_OBJECT_FOUND: ${body.message}); it may have been deleted in ICAT — check the proposal and dataset there.`,
      );
    }
    case 'OBJECT_ALREADY_EXISTS':
      return make(
        'rejected',
        `${at} already holds what Beamdrop tried to create while ${ctx.action} (OBJECT_ALREADY_EXISTS: ${body.message}).`,
      );
    case 'VALIDATION':
    case 'BAD_PARAMETER':
      return make(
        'rejected',
        `${at} rejected ${ctx.action} (${body.code}: ${body.message}). Correct ${field === undefined ? 'the dataset description' : `"${field}"`} (profile, technique template or metadata), then retry the registration; the uploaded files stay as they are.`,
      );
    default:
      if (isTemporaryHttpStatus(status)) {
        return make('retryable', `${at} failed ${ctx.action} (${body.code}: ${body.message}); registration will be retried.`);
      }
      return make('rejected', `${at} answered HTTP ${status} while ${ctx.action} (${body.code}: ${body.message}).`);
  }
}

export function icatNetworkError(e: unknown, ctx: IcatCallContext): CatalogueError {
  if (e instanceof CatalogueError) return e;
  const why = describeNetworkError(e);
  return new CatalogueError(
    {
      problem: 'retryable',
      reason: why,
      ...(ctx.dataset === undefined ? {} : { dataset: ctx.dataset }),
      message: `cannot reach ICAT at ${ctx.server} (${why}) while ${ctx.action}; check the network and the catalogue URL in the facility profile. Registration will be retried.`,
    },
    { cause: e },
  );
}

/** An error of ours about the request itself (nothing was sent). */
export function icatRejected(message: string, field?: string, dataset?: string): CatalogueError {
  return new CatalogueError({
    problem: 'rejected',
    message,
    ...(field === undefined ? {} : { field }),
    ...(dataset === undefined ? {} : { dataset }),
  });
}
