// The facility profile: one YAML file written by the facility's admins. Every message here says
// what to write instead, because `beamdrop config check` shows them to people editing the file.
import { z } from 'zod';
import { parseSize } from './sizes.js';
import { profileCatalogueShape } from './profile-catalogue-schema.js';
import { DEFAULT_EXCLUDE, globSchema } from './profile-globs.js';
import { DEFAULT_KEY_TEMPLATE } from './key-template-default.js';
import { syncSchema } from './profile-sync-schema.js';

export const TEMPLATE_VARIABLES = ['facility', 'beamline', 'proposal', 'visit', 'dataset', 'date', 'relpath'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

const size = (what: string) =>
  z.union([z.number(), z.string()], { error: `write ${what} as a size such as 16MiB, 512M or 8388608` }).transform((v, ctx) => {
    const n = parseSize(v);
    if (n === null) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a size; write ${what} such as 16MiB, 512M or 8388608` });
      return z.NEVER;
    }
    return n;
  });

const keyTemplate = z
  .string({ error: 'write a key template such as "{proposal}/{visit}/{dataset}/{relpath}"' })
  .superRefine((t, ctx) => {
    const vars = [...t.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '');
    for (const v of vars) {
      if (!(TEMPLATE_VARIABLES as readonly string[]).includes(v)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown variable {${v}}; use only ${TEMPLATE_VARIABLES.map((x) => `{${x}}`).join(' ')}`,
        });
      }
    }
    if (!vars.includes('relpath')) {
      ctx.addIssue({
        code: 'custom',
        message:
          'the template must end with {relpath} so that every file gets its own key, e.g. "{proposal}/{visit}/{dataset}/{relpath}"',
      });
    }
    if (t.startsWith('/') || t.split('/').includes('..')) {
      ctx.addIssue({ code: 'custom', message: 'keys are relative: remove the leading "/" and any ".." segment' });
    }
  });

const noSecrets = {
  error:
    'secrets never go in the profile: remove this field and run `beamdrop credentials set <destination>` (or set the environment variable for headless use)',
} as const;

const s3Destination = z.strictObject({
  kind: z.literal('s3'),
  endpoint: z.url({ error: 'write the S3 endpoint URL, e.g. https://s3.facility.example:9000' }),
  region: z.string().default('us-east-1'),
  bucket: z
    .string({ error: 'write the bucket name, e.g. bucket: raw-data' })
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'bucket names are 3–63 lower-case letters, digits, dots and hyphens' }),
  keyTemplate: keyTemplate.default(DEFAULT_KEY_TEMPLATE),
  credentials: z
    .strictObject({
      accessKeyId: z.string({ error: 'write the access key id (not the secret), e.g. accessKeyId: AKIA…' }),
      secretAccessKey: z.never(noSecrets).optional(),
    })
    .optional(),
});

const webdavDestination = z.strictObject({
  kind: z.literal('webdav'),
  url: z.url({ error: 'write the WebDAV collection URL, e.g. https://dav.facility.example/archive' }),
  keyTemplate: keyTemplate.default(DEFAULT_KEY_TEMPLATE),
  credentials: z
    .strictObject({
      username: z.string({ error: 'write the WebDAV user name, e.g. username: operator' }),
      password: z.never(noSecrets).optional(),
    })
    .optional(),
});

const filesystemDestination = z.strictObject({
  kind: z.literal('filesystem'),
  root: z.string({ error: 'write the absolute folder of the archive, e.g. root: /mnt/archive' }).min(1),
  keyTemplate: keyTemplate.default(DEFAULT_KEY_TEMPLATE),
});

export const destinationSchema = z.discriminatedUnion('kind', [s3Destination, webdavDestination, filesystemDestination], {
  error: 'write kind: s3, kind: webdav or kind: filesystem',
});
export type DestinationConfig = z.output<typeof destinationSchema>;
export type S3DestinationConfig = z.output<typeof s3Destination>;
export type WebdavDestinationConfig = z.output<typeof webdavDestination>;
export type FilesystemDestinationConfig = z.output<typeof filesystemDestination>;

const MiB = 1024 * 1024;

export const uploadPolicySchema = z
  .strictObject({
    concurrency: z.int({ error: 'write how many files go at once, a whole number from 1 to 64' }).min(1).max(64).default(8),
    partConcurrency: z.int({ error: 'write how many parts of one file go at once, 1 to 32' }).min(1).max(32).default(4),
    multipartThreshold: size('multipartThreshold').default(16 * MiB),
    partSize: z
      .strictObject({
        min: size('partSize.min').default(16 * MiB),
        max: size('partSize.max').default(512 * MiB),
      })
      .prefault({})
      .refine((p) => p.min >= 5 * MiB, { message: 'S3 parts are at least 5MiB: write min: 5MiB or more' })
      .refine((p) => p.max <= 5 * 1024 * MiB, { message: 'S3 parts are at most 5GiB: write max: 5GiB or less' })
      .refine((p) => p.min <= p.max, { message: 'min must not be larger than max' }),
    /** rclone timetable, e.g. "Mon-08:00,20M Mon-20:00,off", or one rate such as "50M", or "off". */
    bandwidth: z.string().default('off'),
    retries: z
      .strictObject({
        attempts: z.int().min(1).max(100).default(5),
        baseDelayMs: z.int().min(1).default(500),
        maxDelayMs: z.int().min(1).default(30_000),
      })
      .prefault({}),
    /**
     * A destination out of space (S3/WebDAV 507): no file is failed for it; the job waits, trying
     * one small file with backoff from baseDelayMs to maxDelayMs, and goes on by itself once space
     * is back. A batch upload that stores nothing for waitMs exits paused (0: at once); a sync
     * session waits as long as it runs.
     */
    outOfSpace: z
      .strictObject({
        baseDelayMs: z.int().min(1).default(10_000),
        maxDelayMs: z.int().min(1).default(300_000),
        waitMs: z.int().min(0).default(3_600_000),
      })
      .prefault({}),
  })
  .prefault({});
export type UploadPolicy = z.output<typeof uploadPolicySchema>;

export const profileSchema = z
  .strictObject({
    facility: z.string().default(''),
    beamline: z.string().default(''),
    destinations: z
      .record(
        z.string().regex(/^[A-Za-z0-9_-]+$/, { error: 'destination names use letters, digits, "-" and "_"' }),
        destinationSchema,
      )
      .default({}),
    defaultDestination: z.string().optional(),
    upload: uploadPolicySchema,
    /** Globs of the files a job takes (empty: all); the operator's --include patterns are added. */
    include: z.array(globSchema).default([]),
    /** Globs of files no job takes, added to defaultExclude and to the operator's --exclude. */
    exclude: z.array(globSchema).default([]),
    /** Replaces DEFAULT_EXCLUDE (write [] to take dot, temporary and lock files too). */
    defaultExclude: z.array(globSchema).default([...DEFAULT_EXCLUDE]),
    sync: syncSchema,
    ...profileCatalogueShape,
  })
  .superRefine((p, ctx) => {
    if (p.defaultDestination !== undefined && !(p.defaultDestination in p.destinations)) {
      const names = Object.keys(p.destinations);
      ctx.addIssue({
        code: 'custom',
        path: ['defaultDestination'],
        message: names.length
          ? `no destination named "${p.defaultDestination}"; write one of: ${names.join(', ')}`
          : `no destination named "${p.defaultDestination}"; define it under destinations first`,
      });
    }
  });
export type FacilityProfile = z.output<typeof profileSchema>;
export type FacilityProfileInput = z.input<typeof profileSchema>;
