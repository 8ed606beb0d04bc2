// Turns what a SciCat backend answers (or the network does) into a CatalogueError the outbox can
// act on and an operator can read: which server, what was being done, the server's own reason
// verbatim, and the field it objected to. SciCat has two 400 shapes: the v3 dataset controller
// sends {"status":400,"message":"<JSON of class-validator errors>"}, NestJS's ValidationPipe
// everywhere else {"statusCode":400,"message":["field must be …", …]}.
import { describeNetworkError, isTemporaryHttpStatus } from '../../net/network-error.js';
import { CatalogueError, type CatalogueProblem } from '../catalogue-adapter.js';

export interface ScicatCallContext {
  /** Base URL of the backend, as in the profile. */
  server: string;
  /** What was being done, e.g. `creating dataset "scan-12"`. */
  action: string;
  dataset?: string;
}

interface ValidationErrorJson {
  property?: unknown;
  constraints?: Record<string, string>;
  children?: ValidationErrorJson[];
}

/** The messages and the first offending field path of a class-validator error tree. */
function walk(errors: ValidationErrorJson[], prefix: string, out: { messages: string[]; fields: string[] }): void {
  for (const e of errors) {
    const path =
      typeof e.property === 'string' && e.property !== '' ? (prefix === '' ? e.property : `${prefix}.${e.property}`) : prefix;
    const own = Object.values(e.constraints ?? {});
    if (own.length > 0) {
      out.fields.push(path);
      out.messages.push(...own.map((m) => (prefix === '' ? m : `${prefix}: ${m}`)));
    }
    walk(e.children ?? [], path, out);
  }
}

/** The server's reason and the field it names, from any SciCat error body. */
export function parseScicatError(bodyText: string): { reason: string; field?: string } {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { reason: bodyText.trim().slice(0, 500) };
  }
  const message = (body as { message?: unknown } | null)?.message;
  if (typeof message === 'string') {
    let inner: unknown;
    try {
      inner = JSON.parse(message);
    } catch {
      return { reason: message };
    }
    if (Array.isArray(inner)) {
      const out = { messages: [] as string[], fields: [] as string[] };
      walk(inner as ValidationErrorJson[], '', out);
      return { reason: out.messages.join('; ') || message, ...(out.fields[0] === undefined ? {} : { field: out.fields[0] }) };
    }
    return { reason: message };
  }
  if (Array.isArray(message)) {
    const texts = message.map(String);
    // "property foo should not exist", "dataFileList.0.size must be a number …"
    const m = /^(?:property\s+)?([A-Za-z_$][\w$]*(?:\.[\w$]+)*)\s/.exec(texts[0] ?? '');
    return { reason: texts.join('; '), ...(m?.[1] === undefined ? {} : { field: m[1] }) };
  }
  return { reason: bodyText.trim().slice(0, 500) };
}

export function scicatHttpError(status: number, bodyText: string, ctx: ScicatCallContext): CatalogueError {
  const { reason, field } = parseScicatError(bodyText);
  const at = `SciCat at ${ctx.server}`;
  const base = {
    status,
    reason,
    ...(field === undefined ? {} : { field }),
    ...(ctx.dataset === undefined ? {} : { dataset: ctx.dataset }),
  };
  const make = (problem: CatalogueProblem, message: string): CatalogueError => new CatalogueError({ ...base, problem, message });
  if (status === 401) {
    return make(
      'needs-login',
      `${at} no longer accepts the sign-in while ${ctx.action} (HTTP 401: the token expired or was revoked); run \`beamdrop login\` again — registration waits and then resumes where it stopped.`,
    );
  }
  if (status === 403) {
    return make(
      'forbidden',
      `${at} refused ${ctx.action} (HTTP 403: ${reason}); the signed-in user may not do this for this proposal or group — sign in as a member of the dataset's owner group or ask the SciCat administrators for access.`,
    );
  }
  if (status === 400 || status === 422) {
    const what = field === undefined ? 'the dataset description' : `the field "${field}"`;
    return make(
      'rejected',
      `${at} rejected ${ctx.action} (HTTP ${status}): ${reason}. Correct ${what} (technique template or dataset metadata), then retry the registration; the uploaded files stay as they are.`,
    );
  }
  if (status === 404) {
    return make(
      'rejected',
      `${at} answered "not found" while ${ctx.action} (HTTP 404: ${reason}); check the catalogue URL and apiVersion in the facility profile.`,
    );
  }
  if (status === 409) {
    return make('rejected', `${at} reports a conflict while ${ctx.action} (HTTP 409: ${reason}).`);
  }
  if (isTemporaryHttpStatus(status)) {
    return make('retryable', `${at} failed ${ctx.action} (HTTP ${status}: ${reason}); registration will be retried.`);
  }
  return make('rejected', `${at} answered HTTP ${status} while ${ctx.action}: ${reason}.`);
}

/** A request that got no HTTP answer: refused, reset, timed out. */
export function scicatNetworkError(e: unknown, ctx: ScicatCallContext): CatalogueError {
  if (e instanceof CatalogueError) return e;
  const why = describeNetworkError(e);
  return new CatalogueError(
    {
      problem: 'retryable',
      message: `cannot reach SciCat at ${ctx.server} (${why}) while ${ctx.action}; check the network and the catalogue URL in the facility profile. Registration will be retried.`,
      reason: why,
      ...(ctx.dataset === undefined ? {} : { dataset: ctx.dataset }),
    },
    { cause: e },
  );
}

/** What a body looks like in a message: the text of an HTML page, or the start of anything else. */
function excerpt(bodyText: string): string {
  const text = /^\s*</.test(bodyText)
    ? bodyText
        .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
    : bodyText.trim();
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

/**
 * A 2xx answer that is not SciCat's API: an HTML page (a sign-in portal, the web front end, a
 * proxy's error page), JSON that does not parse, or JSON of another shape (`what` says which).
 * Usually catalogue.url points elsewhere; it may also be a proxy passing, so it stays retryable.
 */
export function notScicatAnswer(bodyText: string, what: string, ctx: ScicatCallContext, cause?: unknown): CatalogueError {
  const html = /^\s*</.test(bodyText);
  const said = html ? `an HTML page ("${excerpt(bodyText)}")` : `${what} (${excerpt(bodyText)})`;
  return new CatalogueError(
    {
      problem: 'retryable',
      reason: excerpt(bodyText),
      message: `SciCat at ${ctx.server} answered ${said} while ${ctx.action}, not SciCat's API; check catalogue.url in the facility profile (the SciCat backend, whose API is under /api/v3, not the web front end or a sign-in portal).`,
      ...(ctx.dataset === undefined ? {} : { dataset: ctx.dataset }),
    },
    cause === undefined ? undefined : { cause },
  );
}
