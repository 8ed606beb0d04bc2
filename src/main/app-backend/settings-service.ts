// Settings: the destinations (the profile's, read-only, and the operator's own), whether each has
// its secret (environment or OS keychain; the secret itself never comes back), a connection
// test, and the upload policy overrides. Every refusal names the field it belongs to.
import type { CredentialStatus, DestinationView, SettingsView } from '../../shared/app-model.js';
import { BeamdropError, isBeamdropError, type ErrorCode } from '../../shared/errors.js';
import { destinationSchema, type DestinationConfig, type FacilityProfile } from '../../shared/profile-schema.js';
import type { OperationDeps } from '../engine/engine.js';
import { resolveDestination } from '../engine/storage/resolve-destination.js';
import { parseBandwidthSchedule } from '../engine/transfer/bandwidth-schedule.js';
import { effectiveProfile, type AppSettingsStore } from './app-settings.js';
import type { ShellPort } from './ports.js';

export interface SettingsUpdate {
  concurrency?: number | undefined;
  partConcurrency?: number | undefined;
  bandwidth?: string | undefined;
  startAtLogin?: boolean | undefined;
  defaultDestination?: string | undefined;
}

const invalid = (field: string, message: string, code: ErrorCode = 'usage') =>
  new BeamdropError({ code, retryable: false, field, message });

/** The data folder (shown), destination secrets (OS keychain or environment), and opening a destination to test it. */
export type SettingsDeps = Pick<OperationDeps, 'dataDir' | 'credentials' | 'openDestination'>;

export class SettingsService {
  constructor(
    private readonly d: SettingsDeps,
    private readonly base: FacilityProfile,
    private readonly profileSource: string,
    private readonly store: AppSettingsStore,
    private readonly shell: ShellPort,
  ) {}

  profile(): FacilityProfile {
    return effectiveProfile(this.base, this.store.get());
  }

  async view(): Promise<SettingsView> {
    const p = this.profile();
    const s = this.store.get();
    return {
      profileSource: this.profileSource,
      facility: p.facility,
      beamline: p.beamline,
      destinations: await Promise.all(Object.entries(p.destinations).map(([name, c]) => this.destinationView(name, c))),
      defaultDestination: p.defaultDestination ?? Object.keys(p.destinations)[0] ?? null,
      concurrency: p.upload.concurrency,
      partConcurrency: p.upload.partConcurrency,
      bandwidth: p.upload.bandwidth,
      startAtLogin: s.startAtLogin,
      dataDir: this.d.dataDir,
    };
  }

  async update(u: SettingsUpdate): Promise<SettingsView> {
    if (u.concurrency !== undefined && (u.concurrency < 1 || u.concurrency > 64))
      throw invalid('concurrency', 'Files at once is a whole number from 1 to 64.');
    if (u.partConcurrency !== undefined && (u.partConcurrency < 1 || u.partConcurrency > 32))
      throw invalid('partConcurrency', 'Parts at once is a whole number from 1 to 32.');
    if (u.bandwidth !== undefined) {
      try {
        parseBandwidthSchedule(u.bandwidth.trim() || 'off');
      } catch (e) {
        throw invalid('bandwidth', (e as Error).message);
      }
    }
    if (u.defaultDestination !== undefined && !(u.defaultDestination in this.profile().destinations))
      throw invalid('defaultDestination', `There is no destination "${u.defaultDestination}".`, 'destination-unknown');
    this.store.update((s) => ({
      ...s,
      ...(u.concurrency !== undefined ? { concurrency: u.concurrency } : {}),
      ...(u.partConcurrency !== undefined ? { partConcurrency: u.partConcurrency } : {}),
      ...(u.bandwidth !== undefined ? { bandwidth: u.bandwidth.trim() || 'off' } : {}),
      ...(u.startAtLogin !== undefined ? { startAtLogin: u.startAtLogin } : {}),
      ...(u.defaultDestination !== undefined ? { defaultDestination: u.defaultDestination } : {}),
    }));
    if (u.startAtLogin !== undefined) this.shell.setStartAtLogin(u.startAtLogin);
    return this.view();
  }

  async saveDestination(name: string, raw: Record<string, unknown>): Promise<SettingsView> {
    if (!/^[A-Za-z0-9_-]+$/.test(name))
      throw invalid('name', 'Destination names use letters, digits, "-" and "_".', 'destination-invalid');
    if (name in this.base.destinations)
      throw invalid('name', `"${name}" is defined by the facility profile; choose another name.`, 'destination-invalid');
    const parsed = destinationSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalid(
        `config.${issue?.path.map(String).join('.') || 'kind'}`,
        issue?.message ?? 'invalid destination',
        'destination-invalid',
      );
    }
    this.store.update((s) => ({ ...s, destinations: { ...s.destinations, [name]: raw } }));
    return this.view();
  }

  async removeDestination(name: string): Promise<SettingsView> {
    if (name in this.base.destinations)
      throw invalid('name', `"${name}" is defined by the facility profile and cannot be removed here.`);
    this.store.update((s) => {
      const { [name]: _gone, ...rest } = s.destinations;
      return { ...s, destinations: rest, ...(s.defaultDestination === name ? { defaultDestination: undefined } : {}) };
    });
    return this.view();
  }

  async setSecret(destination: string, secret: string): Promise<DestinationView> {
    const config = this.requireDestination(destination);
    if (config.kind === 'filesystem') throw invalid('secret', `"${destination}" is a folder and needs no secret.`);
    if (!secret) throw invalid('secret', 'The secret is empty; nothing was stored.');
    await this.d.credentials.set(destination, secret);
    return this.destinationView(destination, config);
  }

  async deleteSecret(destination: string): Promise<DestinationView> {
    const config = this.requireDestination(destination);
    await this.d.credentials.delete(destination).catch(() => false);
    return this.destinationView(destination, config);
  }

  /** Opens the destination the way a job does (reachability and credentials), then closes it. */
  async test(destination: string): Promise<{ ok: true; ms: number }> {
    const p = this.profile();
    const started = Date.now();
    const d = await this.d.openDestination(resolveDestination(p, { destination }), p.upload);
    await d.close();
    return { ok: true, ms: Date.now() - started };
  }

  private requireDestination(name: string): DestinationConfig {
    const c = this.profile().destinations[name];
    if (!c)
      throw new BeamdropError({
        code: 'destination-unknown',
        retryable: false,
        field: 'destination',
        message: `There is no destination "${name}".`,
      });
    return c;
  }

  private async destinationView(name: string, c: DestinationConfig): Promise<DestinationView> {
    const base = {
      name,
      kind: c.kind,
      keyTemplate: c.keyTemplate,
      origin: name in this.base.destinations ? ('profile' as const) : ('operator' as const),
    };
    if (c.kind === 'filesystem') return { ...base, location: c.root, identity: null, credential: 'not-needed' };
    if (c.kind === 's3') {
      return {
        ...base,
        location: `${c.endpoint.replace(/\/+$/, '')}/${c.bucket}`,
        identity: c.credentials?.accessKeyId ?? null,
        credential: await this.status(() => this.d.credentials.s3(name, c)),
      };
    }
    return {
      ...base,
      location: c.url,
      identity: c.credentials?.username ?? null,
      credential: await this.status(async () => ((await this.d.credentials.webdav(name, c)) ? true : null)),
    };
  }

  private async status(probe: () => Promise<unknown>): Promise<CredentialStatus> {
    try {
      return (await probe()) === null ? 'not-needed' : 'available';
    } catch (e) {
      if (isBeamdropError(e) && e.code === 'credentials-missing') return 'missing';
      throw e;
    }
  }
}
