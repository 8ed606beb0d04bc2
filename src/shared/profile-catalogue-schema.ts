// The facility profile's catalogue parts: `catalogue:` (which catalogue, where, how to sign in)
// and `techniques:` (metadata templates). Merged into profileSchema by one line in
// profile-schema.ts. Messages say what to write instead, for `beamdrop config check`.
import { z } from 'zod';

// ---- catalogue

const url = (example: string) => z.url({ error: `write the catalogue URL, e.g. ${example}` });

/** Who owns new datasets when the proposal does not say (SciCat ownerGroup, accessGroups). */
const ownership = {
  ownerGroup: z.string().min(1).optional(),
  accessGroups: z.array(z.string().min(1)).default([]),
  /** Fallback contact when the signed-in user has no email. */
  contactEmail: z.email({ error: 'write an email address, e.g. contactEmail: beamline@facility.example' }).optional(),
};

const localCatalogue = z.strictObject({
  kind: z.literal('local'),
});

const scicatCatalogue = z.strictObject({
  kind: z.literal('scicat'),
  /** Base URL of the backend, without /api (e.g. https://scicat.facility.example). */
  url: url('https://scicat.facility.example'),
  apiVersion: z.enum(['v3', 'v4'], { error: 'write apiVersion: v3 or apiVersion: v4' }).default('v3'),
  /** POST /auth/login ("local") or /auth/ldap ("ldap"). */
  loginMethod: z.enum(['local', 'ldap'], { error: 'write loginMethod: local or loginMethod: ldap' }).default('local'),
  allowCreateProposal: z.boolean().default(false),
  /** Files per OrigDatablock; SciCat ingestors keep blocks well under its limits. */
  blockFiles: z.int({ error: 'write a whole number of files per block, 1 to 10000' }).min(1).max(10_000).default(10_000),
  ...ownership,
});

const icatCatalogue = z.strictObject({
  kind: z.literal('icat'),
  /** Base URL of icat.server, e.g. https://icat.facility.example (the /icat prefix is added). */
  url: url('https://icat.facility.example'),
  /** ICAT Facility.name that investigations belong to. */
  facility: z.string({ error: 'write the ICAT facility name, e.g. facility: ESRF' }).min(1),
  /** Authenticator plugin of POST /icat/session. */
  authenticator: z.string().min(1).default('db'),
  allowCreateProposal: z.boolean().default(false),
  /** DatasetType.name for new datasets. */
  datasetType: z.string().min(1).default('raw'),
  /** InvestigationType.name for proposals Beamdrop creates (allowCreateProposal); adapter default if absent. */
  investigationType: z.string().min(1).optional(),
  blockFiles: z.int({ error: 'write a whole number of files per batch, 1 to 10000' }).min(1).max(10_000).default(1000),
  ...ownership,
});

const icatPlusCatalogue = z.strictObject({
  kind: z.literal('icat-plus'),
  /** STOMP broker, e.g. stomp://activemq.facility.example:61613. */
  url: z
    .string({ error: 'write the STOMP broker URL, e.g. stomp://broker.facility.example:61613' })
    .regex(/^stomp(\+ssl)?:\/\/[^/\s:]+(:\d+)?\/?$/, {
      error: 'write the STOMP broker as stomp://HOST:PORT (or stomp+ssl://HOST:PORT)',
    }),
  queue: z.string().startsWith('/', { error: 'write a destination such as /queue/icatIngest' }).default('/queue/icatIngest'),
  /** Broker login (not the password: `beamdrop login` keeps it in the OS keychain). */
  username: z.string().min(1).optional(),
  /** Where messages wait while the broker is unreachable; default: <data folder>/icat-plus-buffer. */
  bufferFolder: z.string().min(1).optional(),
  ...ownership,
});

export const catalogueSchema = z.discriminatedUnion('kind', [localCatalogue, scicatCatalogue, icatCatalogue, icatPlusCatalogue], {
  error: 'write kind: local, kind: scicat, kind: icat or kind: icat-plus',
});
export type CatalogueConfig = z.output<typeof catalogueSchema>;
export type ScicatCatalogueConfig = z.output<typeof scicatCatalogue>;
export type IcatCatalogueConfig = z.output<typeof icatCatalogue>;
export type IcatPlusCatalogueConfig = z.output<typeof icatPlusCatalogue>;

// ---- technique templates

export const FIELD_TYPES = ['number', 'integer', 'string', 'boolean', 'date'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const techniqueFieldSchema = z
  .strictObject({
    /** Key of -p KEY=VALUE and of scientificMetadata. */
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, { error: 'field names start with a letter and use letters, digits, "_", "-", "."' }),
    type: z.enum(FIELD_TYPES, { error: `write type: ${FIELD_TYPES.join(', ')}` }).default('string'),
    unit: z.string().min(1).optional(),
    required: z.boolean().default(false),
    /** The only values accepted, when given. */
    allowed: z.array(scalar).min(1).optional(),
    default: scalar.optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    description: z.string().optional(),
  })
  .superRefine((f, ctx) => {
    if ((f.min !== undefined || f.max !== undefined) && f.type !== 'number' && f.type !== 'integer') {
      ctx.addIssue({
        code: 'custom',
        path: ['min'],
        message: `min/max apply to number and integer fields; "${f.name}" is a ${f.type}`,
      });
    }
  });
export type TechniqueField = z.output<typeof techniqueFieldSchema>;

export const techniqueSchema = z
  .strictObject({
    description: z.string().optional(),
    /** Extends a built-in or earlier template (its fields first, then these). */
    extends: z.string().optional(),
    fields: z.array(techniqueFieldSchema).default([]),
  })
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.fields.forEach((f, i) => {
      if (seen.has(f.name))
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'name'], message: `field "${f.name}" is defined twice; keep one` });
      seen.add(f.name);
    });
  });
export type TechniqueTemplate = z.output<typeof techniqueSchema>;

/** The catalogue keys of profileSchema (spread into it). */
export const profileCatalogueShape = {
  catalogue: catalogueSchema.default({ kind: 'local' }),
  /** Technique name → template; built-in SAXS, MX and cryo-EM need no entry here. */
  /** The license stated in every dataset's RO-Crate: an SPDX/URL or the words of the facility's data policy. */
  license: z.string().min(1).default('The data policy of the facility applies.'),
  techniques: z
    .record(z.string().regex(/^[A-Za-z0-9_-]+$/, { error: 'technique names use letters, digits, "-" and "_"' }), techniqueSchema)
    .default({}),
};
