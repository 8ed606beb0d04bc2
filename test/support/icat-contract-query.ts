// The query side of the ICAT contract server: a small, honest parser and evaluator for the
// JPQL-like queries of GET /icat/entityManager that our adapter sends —
//   SELECT [DISTINCT] alias | path | COUNT(alias) FROM Entity alias [JOIN alias.rel alias2]...
//   [WHERE cond AND (cond OR cond) ...] [ORDER BY path [ASC|DESC], ...] [LIMIT offset, count]
// with =, <>, IN (...), LIKE, IS [NOT] NULL and 'quoted '' strings'. Anything else is refused
// with BAD_PARAMETER, so an adapter that sends other syntax fails here instead of in production.
import { IcatError, SCHEMA, type Entity, type FieldDef, type IcatStore } from './icat-contract-store.js';

type Tok = { t: 'id' | 'str' | 'num' | 'sym'; v: string };
type Value = string | number | boolean | null;
type Cond =
  | { op: 'cmp'; path: string; cmp: string; value: Value }
  | { op: 'in'; path: string; values: Value[]; not: boolean }
  | { op: 'like'; path: string; pattern: string; not: boolean }
  | { op: 'null'; path: string; not: boolean }
  | { op: 'or'; parts: Cond[] };

interface Query {
  select: { kind: 'path' | 'count'; path: string };
  distinct: boolean;
  from: { type: string; alias: string };
  joins: { path: string; alias: string }[];
  where: Cond[];
  order: { path: string; desc: boolean }[];
  limit?: { offset: number; count: number };
}

const TOKEN =
  /\s*(?:('(?:[^']|'')*')|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|(<>|!=|<=|>=|[=<>(),]))/y;

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < q.length) {
    if (/^\s*$/.test(q.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(q);
    if (m === null) throw new IcatError('BAD_PARAMETER', `unexpected character in query at ${at}: ${q.slice(at, at + 20)}`);
    if (m[1] !== undefined) out.push({ t: 'str', v: m[1].slice(1, -1).replaceAll("''", "'") });
    else if (m[2] !== undefined) out.push({ t: 'num', v: m[2] });
    else if (m[3] !== undefined) out.push({ t: 'id', v: m[3] });
    else out.push({ t: 'sym', v: m[4] as string });
  }
  return out;
}

export function parseQuery(text: string): Query {
  const toks = tokenize(text);
  let i = 0;
  const peek = (): Tok | undefined => toks[i];
  const kw = (word: string): boolean => {
    const t = peek();
    if (t?.t === 'id' && t.v.toUpperCase() === word) {
      i++;
      return true;
    }
    return false;
  };
  const need = (word: string): void => {
    if (!kw(word)) throw new IcatError('BAD_PARAMETER', `expected ${word} at token ${i} of: ${text}`);
  };
  const sym = (s: string): boolean => {
    if (peek()?.t === 'sym' && peek()?.v === s) {
      i++;
      return true;
    }
    return false;
  };
  const ident = (): string => {
    const t = toks[i++];
    if (t?.t !== 'id') throw new IcatError('BAD_PARAMETER', `expected a name at token ${i - 1} of: ${text}`);
    return t.v;
  };
  const value = (): Value => {
    const t = toks[i++];
    if (t?.t === 'str') return t.v;
    if (t?.t === 'num') return Number(t.v);
    if (t?.t === 'id' && ['TRUE', 'FALSE'].includes(t.v.toUpperCase())) return t.v.toUpperCase() === 'TRUE';
    throw new IcatError('BAD_PARAMETER', `expected a literal at token ${i - 1} of: ${text}`);
  };
  const atom = (): Cond => {
    if (sym('(')) {
      const parts = [atom()];
      while (kw('OR')) parts.push(atom());
      if (!sym(')')) throw new IcatError('BAD_PARAMETER', `expected ) in: ${text}`);
      return parts.length === 1 ? (parts[0] as Cond) : { op: 'or', parts };
    }
    const path = ident();
    if (kw('IS')) {
      const not = kw('NOT');
      need('NULL');
      return { op: 'null', path, not };
    }
    const not = kw('NOT');
    if (kw('IN')) {
      if (!sym('(')) throw new IcatError('BAD_PARAMETER', `expected ( after IN in: ${text}`);
      const values = [value()];
      while (sym(',')) values.push(value());
      if (!sym(')')) throw new IcatError('BAD_PARAMETER', `expected ) after IN list in: ${text}`);
      return { op: 'in', path, values, not };
    }
    if (kw('LIKE')) {
      const v = value();
      if (typeof v !== 'string') throw new IcatError('BAD_PARAMETER', `LIKE needs a string in: ${text}`);
      return { op: 'like', path, pattern: v, not };
    }
    if (not) throw new IcatError('BAD_PARAMETER', `NOT must be followed by IN or LIKE in: ${text}`);
    const t = toks[i++];
    if (t?.t !== 'sym' || !['=', '<>', '!=', '<', '>', '<=', '>='].includes(t.v))
      throw new IcatError('BAD_PARAMETER', `expected a comparison after ${path} in: ${text}`);
    return { op: 'cmp', path, cmp: t.v, value: value() };
  };

  need('SELECT');
  const distinct = kw('DISTINCT');
  let select: Query['select'];
  if (kw('COUNT')) {
    if (!sym('(')) throw new IcatError('BAD_PARAMETER', `expected ( after COUNT in: ${text}`);
    select = { kind: 'count', path: ident() };
    if (!sym(')')) throw new IcatError('BAD_PARAMETER', `expected ) after COUNT( in: ${text}`);
  } else {
    select = { kind: 'path', path: ident() };
  }
  need('FROM');
  const from = { type: ident(), alias: ident() };
  if (SCHEMA[from.type] === undefined)
    throw new IcatError('BAD_PARAMETER', `${from.type} is not an ICAT entity type known to this server`);
  const joins: Query['joins'] = [];
  while (kw('JOIN')) joins.push({ path: ident(), alias: ident() });
  const where: Cond[] = [];
  if (kw('WHERE')) {
    where.push(atom());
    while (kw('AND')) where.push(atom());
  }
  const order: Query['order'] = [];
  if (kw('ORDER')) {
    need('BY');
    do {
      const path = ident();
      const desc = kw('DESC');
      if (!desc) kw('ASC');
      order.push({ path, desc });
    } while (sym(','));
  }
  let limit: Query['limit'];
  if (kw('LIMIT')) {
    const offset = value();
    if (!sym(',')) throw new IcatError('BAD_PARAMETER', `LIMIT takes "offset, count" in: ${text}`);
    const count = value();
    if (typeof offset !== 'number' || typeof count !== 'number')
      throw new IcatError('BAD_PARAMETER', `LIMIT takes numbers in: ${text}`);
    limit = { offset, count };
  }
  if (i < toks.length)
    throw new IcatError(
      'BAD_PARAMETER',
      `the contract server does not understand "${toks
        .slice(i)
        .map((t) => t.v)
        .join(' ')}" in: ${text}`,
    );
  return { select, distinct, from, joins, where, order, ...(limit === undefined ? {} : { limit }) };
}

type Row = Map<string, { type: string; e: Entity }>;

/** Runs a query; entity results come back as ICAT does: [{"Dataset": {...}}]. */
export function runQuery(store: IcatStore, text: string): unknown[] {
  const q = parseQuery(text);
  // Follows a path through refs: "ds.investigation.facility.name".
  const resolve = (row: Row, path: string): { type: string; e: Entity } | Value => {
    const [alias, ...fields] = path.split('.');
    let cur: { type: string; e: Entity } | Value = row.get(alias as string) ?? null;
    if (cur === null) throw new IcatError('BAD_PARAMETER', `unknown alias ${String(alias)} in ${path}`);
    for (const f of fields) {
      if (cur === null || typeof cur !== 'object') throw new IcatError('BAD_PARAMETER', `${path}: cannot go past a value`);
      const type: string = cur.type;
      const e: Entity = cur.e;
      if (f === 'id') {
        cur = e.id;
        continue;
      }
      const def: FieldDef | undefined = SCHEMA[type]?.fields[f];
      if (def === undefined || ['createId', 'modId'].includes(f))
        throw new IcatError('BAD_PARAMETER', `${f} is not a field of ${type}`);
      if (def.kind === 'children') throw new IcatError('BAD_PARAMETER', `${path}: use JOIN for the collection ${type}.${f}`);
      if (def.kind === 'ref') {
        const target: Entity | undefined =
          e[f] === null || e[f] === undefined ? undefined : store.get(def.target as string, e[f] as number);
        cur = target === undefined ? null : { type: def.target as string, e: target };
      } else {
        cur = (e[f] ?? null) as Value;
      }
    }
    return cur;
  };
  const scalar = (row: Row, path: string): Value => {
    const v = resolve(row, path);
    return v !== null && typeof v === 'object' ? v.e.id : v;
  };
  const test = (row: Row, c: Cond): boolean => {
    switch (c.op) {
      case 'or':
        return c.parts.some((p) => test(row, p));
      case 'null':
        return (scalar(row, c.path) === null) !== c.not;
      case 'in':
        return c.values.includes(scalar(row, c.path)) !== c.not;
      case 'like': {
        const re = new RegExp(
          `^${c.pattern
            .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
            .replaceAll('%', '.*')
            .replaceAll('_', '.')}$`,
          's',
        );
        const v = scalar(row, c.path);
        return (typeof v === 'string' && re.test(v)) !== c.not;
      }
      case 'cmp': {
        const v = scalar(row, c.path);
        if (v === null) return false;
        switch (c.cmp) {
          case '=':
            return v === c.value;
          case '<>':
          case '!=':
            return v !== c.value;
          case '<':
            return (v as number) < (c.value as number);
          case '>':
            return (v as number) > (c.value as number);
          case '<=':
            return (v as number) <= (c.value as number);
          default:
            return (v as number) >= (c.value as number);
        }
      }
    }
  };

  let rows: Row[] = [...store.table(q.from.type).values()].map((e) => new Map([[q.from.alias, { type: q.from.type, e }]]));
  for (const j of q.joins) {
    const [alias, field] = j.path.split('.');
    if (field === undefined || j.path.split('.').length !== 2)
      throw new IcatError('BAD_PARAMETER', `JOIN takes alias.field, not ${j.path}`);
    rows = rows.flatMap((row) => {
      const parent = row.get(alias as string);
      if (parent === undefined) throw new IcatError('BAD_PARAMETER', `unknown alias ${String(alias)} in JOIN ${j.path}`);
      const def = SCHEMA[parent.type]?.fields[field];
      if (def?.kind === 'children') {
        return [...store.table(def.target as string).values()]
          .filter((c) => c[def.back as string] === parent.e.id)
          .map((c) => new Map([...row, [j.alias, { type: def.target as string, e: c }]]));
      }
      const v = resolve(row, j.path);
      return v !== null && typeof v === 'object' ? [new Map([...row, [j.alias, v]])] : [];
    });
  }
  rows = rows.filter((row) => q.where.every((c) => test(row, c)));
  if (q.select.kind === 'count') return [rows.length];
  for (const o of [...q.order].reverse()) {
    rows.sort((a, b) => {
      const x = scalar(a, o.path);
      const y = scalar(b, o.path);
      const r = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return o.desc ? -r : r;
    });
  }
  let out: unknown[] = rows.map((row) => {
    const v = resolve(row, q.select.path);
    return v !== null && typeof v === 'object' ? { [v.type]: entityJson(v.type, v.e) } : v;
  });
  if (q.distinct) {
    const seen = new Set<string>();
    out = out.filter((x) => {
      const k = JSON.stringify(x);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  if (q.limit !== undefined) out = out.slice(q.limit.offset, q.limit.offset + q.limit.count);
  return out;
}

/** An entity as ICAT returns it without INCLUDE: its own fields, no related entities. */
function entityJson(type: string, e: Entity): Record<string, unknown> {
  const def = SCHEMA[type]?.fields ?? {};
  return Object.fromEntries(Object.entries(e).filter(([k]) => def[k]?.kind !== 'ref' && def[k]?.kind !== 'children'));
}
