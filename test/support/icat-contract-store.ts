// The entity store of the ICAT contract server: the part of ICAT's schema our adapter touches,
// with ICAT's rules — required fields (VALIDATION 412), unique keys (OBJECT_ALREADY_EXISTS 412),
// references {"id":n} that must exist (NO_SUCH_OBJECT_FOUND 404), dates with milliseconds and an
// offset, and one write call as one transaction (an undo log rolls back everything on error).
export type FieldKind = 'string' | 'number' | 'boolean' | 'date' | 'ref' | 'children';

export interface FieldDef {
  kind: FieldKind;
  /** Entity type of a ref or of children. */
  target?: string;
  /** For children: the child's ref field that points back to the parent. */
  back?: string;
  required?: boolean;
}

export interface EntityDef {
  fields: Record<string, FieldDef>;
  unique: string[];
}

const str = (required = false): FieldDef => ({ kind: 'string', required });
const ref = (target: string, required = true): FieldDef => ({ kind: 'ref', target, required });
const kids = (target: string, back: string): FieldDef => ({ kind: 'children', target, back });

export const SCHEMA: Record<string, EntityDef> = {
  Facility: { fields: { name: str(true), fullName: str() }, unique: ['name'] },
  User: { fields: { name: str(true), fullName: str(), email: str() }, unique: ['name'] },
  InvestigationType: { fields: { facility: ref('Facility'), name: str(true), description: str() }, unique: ['name', 'facility'] },
  DatasetType: { fields: { facility: ref('Facility'), name: str(true), description: str() }, unique: ['name', 'facility'] },
  ParameterType: {
    fields: {
      facility: ref('Facility'),
      name: str(true),
      units: str(true),
      valueType: str(true),
      applicableToDataset: { kind: 'boolean' },
    },
    unique: ['facility', 'name', 'units'],
  },
  Investigation: {
    fields: {
      facility: ref('Facility'),
      name: str(true),
      visitId: str(true),
      title: str(true),
      type: ref('InvestigationType'),
      startDate: { kind: 'date' },
      endDate: { kind: 'date' },
      summary: str(),
      investigationUsers: kids('InvestigationUser', 'investigation'),
      datasets: kids('Dataset', 'investigation'),
    },
    unique: ['facility', 'name', 'visitId'],
  },
  InvestigationUser: {
    fields: { investigation: ref('Investigation'), user: ref('User'), role: str(true) },
    unique: ['user', 'investigation', 'role'],
  },
  Dataset: {
    fields: {
      investigation: ref('Investigation'),
      name: str(true),
      type: ref('DatasetType'),
      complete: { kind: 'boolean' },
      location: str(),
      description: str(),
      startDate: { kind: 'date' },
      endDate: { kind: 'date' },
      doi: str(),
      parameters: kids('DatasetParameter', 'dataset'),
      datafiles: kids('Datafile', 'dataset'),
    },
    unique: ['investigation', 'name'],
  },
  // Provenance of derived data: a Job of an Application, with input and output DataCollections.
  Application: {
    fields: { facility: ref('Facility'), name: str(true), version: str(true) },
    unique: ['facility', 'name', 'version'],
  },
  // "It has no constraint fields": identified by its relationship to a Job.
  DataCollection: {
    fields: {
      doi: str(),
      dataCollectionDatasets: kids('DataCollectionDataset', 'dataCollection'),
      jobsAsInput: kids('Job', 'inputDataCollection'),
      jobsAsOutput: kids('Job', 'outputDataCollection'),
    },
    unique: [],
  },
  DataCollectionDataset: {
    fields: { dataCollection: ref('DataCollection'), dataset: ref('Dataset') },
    unique: ['dataCollection', 'dataset'],
  },
  Job: {
    fields: {
      application: ref('Application'),
      arguments: str(),
      inputDataCollection: ref('DataCollection', false),
      outputDataCollection: ref('DataCollection', false),
    },
    unique: [],
  },
  DatasetParameter: {
    fields: {
      dataset: ref('Dataset'),
      type: ref('ParameterType'),
      numericValue: { kind: 'number' },
      stringValue: str(),
      dateTimeValue: { kind: 'date' },
      error: { kind: 'number' },
    },
    unique: ['dataset', 'type'],
  },
  Datafile: {
    fields: {
      dataset: ref('Dataset'),
      name: str(true),
      location: str(),
      fileSize: { kind: 'number' },
      checksum: str(),
      datafileCreateTime: { kind: 'date' },
      datafileModTime: { kind: 'date' },
      description: str(),
    },
    unique: ['dataset', 'name'],
  },
};

export type Entity = Record<string, unknown> & { id: number };

export class IcatError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly offset = 0,
  ) {
    super(message);
  }

  get status(): number {
    return (
      (
        {
          SESSION: 403,
          INSUFFICIENT_PRIVILEGES: 403,
          NO_SUCH_OBJECT_FOUND: 404,
          OBJECT_ALREADY_EXISTS: 412,
          VALIDATION: 412,
          BAD_PARAMETER: 400,
        } as Record<string, number>
      )[this.code] ?? 500
    );
  }
}

/** ICAT wants ISO 8601 with milliseconds and an offset. */
const ICAT_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$/;

/** Who wants to write what; the server plugs its authorization rule in here. */
export type WriteCheck = (action: 'CREATE' | 'UPDATE', type: string, values: Record<string, unknown>) => void;

export class IcatStore {
  readonly tables = new Map<string, Map<number, Entity>>(Object.keys(SCHEMA).map((t) => [t, new Map()]));
  private nextId = 1;
  private undo: (() => void)[] | null = null;

  table(type: string): Map<number, Entity> {
    const t = this.tables.get(type);
    if (t === undefined) throw new IcatError('BAD_PARAMETER', `${type} is not an ICAT entity type known to this server`);
    return t;
  }

  get(type: string, id: number): Entity | undefined {
    return this.table(type).get(id);
  }

  /** One write call: all entities or none. Returns the ids of the top-level entities. */
  write(items: { type: string; values: Record<string, unknown> }[], user: string, check: WriteCheck): number[] {
    this.undo = [];
    try {
      const ids = items.map((it, offset) => {
        try {
          return typeof it.values.id === 'number'
            ? this.update(it.type, it.values, user, check)
            : this.create(it.type, it.values, user, check);
        } catch (e) {
          if (e instanceof IcatError) throw new IcatError(e.code, e.message, offset);
          throw e;
        }
      });
      this.undo = null;
      return ids;
    } catch (e) {
      for (const u of (this.undo ?? []).reverse()) u();
      this.undo = null;
      throw e;
    }
  }

  private create(type: string, values: Record<string, unknown>, user: string, check: WriteCheck): number {
    const def = SCHEMA[type];
    if (def === undefined) throw new IcatError('BAD_PARAMETER', `${type} is not an ICAT entity type known to this server`);
    const row: Entity = { id: 0 };
    const children: [FieldDef, unknown[]][] = [];
    for (const [field, value] of Object.entries(values)) {
      const f = def.fields[field];
      if (f === undefined) throw new IcatError('BAD_PARAMETER', `${field} is not a field of ${type}`);
      if (f.kind === 'children') {
        if (!Array.isArray(value)) throw new IcatError('BAD_PARAMETER', `${type}.${field} must be an array`);
        children.push([f, value]);
      } else {
        row[field] = this.convert(type, field, f, value);
      }
    }
    for (const [field, f] of Object.entries(def.fields)) {
      if (f.required === true && (row[field] === undefined || row[field] === null))
        throw new IcatError('VALIDATION', `${type}.${field} cannot be null`);
    }
    if (type === 'Dataset' && row.complete === undefined) row.complete = false;
    check('CREATE', type, row);
    this.assertUnique(type, row);
    const now = new Date().toISOString();
    row.id = this.nextId++;
    Object.assign(row, { createId: user, createTime: now, modId: user, modTime: now });
    this.table(type).set(row.id, row);
    this.undo?.push(() => this.table(type).delete(row.id));
    for (const [f, list] of children) {
      for (const child of list) {
        if (typeof child !== 'object' || child === null)
          throw new IcatError('BAD_PARAMETER', `children of ${type} must be objects`);
        this.create(
          f.target as string,
          { ...(child as Record<string, unknown>), [f.back as string]: { id: row.id } },
          user,
          check,
        );
      }
    }
    return row.id;
  }

  private update(type: string, values: Record<string, unknown>, user: string, check: WriteCheck): number {
    const def = SCHEMA[type];
    if (def === undefined) throw new IcatError('BAD_PARAMETER', `${type} is not an ICAT entity type known to this server`);
    const id = values.id as number;
    const row = this.table(type).get(id);
    if (row === undefined) throw new IcatError('NO_SUCH_OBJECT_FOUND', `${type}[id:${id}] not found.`);
    const next: Entity = { ...row };
    for (const [field, value] of Object.entries(values)) {
      if (field === 'id') continue;
      const f = def.fields[field];
      if (f === undefined || f.kind === 'children')
        throw new IcatError('BAD_PARAMETER', `${field} is not an updatable field of ${type}`);
      next[field] = this.convert(type, field, f, value);
      if (f.required === true && (next[field] === undefined || next[field] === null))
        throw new IcatError('VALIDATION', `${type}.${field} cannot be null`);
    }
    check('UPDATE', type, next);
    this.assertUnique(type, next);
    const prev = { ...row };
    Object.assign(row, next, { modId: user, modTime: new Date().toISOString() });
    this.undo?.push(() => {
      for (const k of Object.keys(row)) delete row[k];
      Object.assign(row, prev);
    });
    return id;
  }

  private convert(type: string, field: string, f: FieldDef, value: unknown): unknown {
    if (value === null) return null;
    const bad = (want: string): IcatError =>
      new IcatError('BAD_PARAMETER', `${type}.${field} must be ${want}, not ${JSON.stringify(value)}`);
    switch (f.kind) {
      case 'string':
        if (typeof value !== 'string') throw bad('a string');
        return value;
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw bad('a number');
        return value;
      case 'boolean':
        if (typeof value !== 'boolean') throw bad('true or false');
        return value;
      case 'date':
        if (typeof value !== 'string' || !ICAT_DATE.test(value))
          throw bad('a date with milliseconds and an offset, e.g. 2026-03-01T10:00:00.000Z');
        return value;
      case 'ref': {
        const id = (value as { id?: unknown }).id;
        if (typeof value !== 'object' || typeof id !== 'number') throw bad('a reference {"id": n}');
        if (!this.table(f.target as string).has(id))
          throw new IcatError('NO_SUCH_OBJECT_FOUND', `${f.target as string}[id:${id}] not found (${type}.${field}).`);
        return id;
      }
      default:
        throw bad('a value');
    }
  }

  private assertUnique(type: string, row: Entity): void {
    const keys = (SCHEMA[type] as EntityDef).unique;
    if (keys.length === 0) return;
    for (const other of this.table(type).values()) {
      if (other.id !== row.id && keys.every((k) => other[k] === row[k])) {
        throw new IcatError(
          'OBJECT_ALREADY_EXISTS',
          `${type} exists with ${keys.map((k) => `${k} = '${String(row[k])}'`).join(', ')}`,
        );
      }
    }
  }
}
