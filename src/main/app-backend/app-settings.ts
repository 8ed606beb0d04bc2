// The operator's own settings, kept beside the journal in app-settings.json: overrides of the
// profile's upload policy (concurrency, bandwidth), destinations added in Settings, the login
// item and the catalogue choice. The facility profile itself is
// the admins' file and is never written. Secrets are not here: they go to the OS keychain.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { destinationSchema, type FacilityProfile } from '../../shared/profile-schema.js';

const storedSchema = z.object({
  concurrency: z.int().min(1).max(64).optional(),
  partConcurrency: z.int().min(1).max(32).optional(),
  bandwidth: z.string().optional(),
  defaultDestination: z.string().optional(),
  startAtLogin: z.boolean().default(false),
  destinations: z.record(z.string(), z.unknown()).default({}),
  /** 'local': the operator chose to work with the local catalogue (no sign-in asked again). */
  session: z.enum(['local']).nullable().default(null),
});
export type StoredSettings = z.output<typeof storedSchema>;

export class AppSettingsStore {
  private value: StoredSettings;
  readonly file: string;

  constructor(
    dataDir: string,
    private readonly onProblem: (message: string) => void = () => undefined,
  ) {
    this.file = join(dataDir, 'app-settings.json');
    this.value = this.load();
  }

  private load(): StoredSettings {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return storedSchema.parse({});
    }
    try {
      const parsed = storedSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
      this.onProblem(`${this.file} has invalid settings (${parsed.error.issues[0]?.message}); using defaults.`);
    } catch (e) {
      this.onProblem(`${this.file} is not JSON (${(e as Error).message}); using defaults.`);
    }
    return storedSchema.parse({});
  }

  get(): StoredSettings {
    return this.value;
  }

  /** Applies a change and writes the file atomically (temporary file, then rename). */
  update(change: (s: StoredSettings) => StoredSettings): StoredSettings {
    const next = storedSchema.parse(change(structuredClone(this.value)));
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
    this.value = next;
    return next;
  }
}

/** The profile jobs run with: the facility's, plus the operator's destinations and overrides. */
export function effectiveProfile(base: FacilityProfile, s: StoredSettings): FacilityProfile {
  const destinations = { ...base.destinations };
  for (const [name, raw] of Object.entries(s.destinations)) {
    if (name in base.destinations) continue;
    const parsed = destinationSchema.safeParse(raw);
    if (parsed.success) destinations[name] = parsed.data;
  }
  const upload = {
    ...base.upload,
    ...(s.concurrency !== undefined ? { concurrency: s.concurrency } : {}),
    ...(s.partConcurrency !== undefined ? { partConcurrency: s.partConcurrency } : {}),
    ...(s.bandwidth !== undefined ? { bandwidth: s.bandwidth } : {}),
  };
  const defaultDestination =
    s.defaultDestination && s.defaultDestination in destinations ? s.defaultDestination : base.defaultDestination;
  return { ...base, destinations, upload, ...(defaultDestination !== undefined ? { defaultDestination } : {}) };
}
