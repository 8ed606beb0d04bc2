// Sign-in, the investigation picker, technique templates and registrations, as the app backend
// sees the catalogue. Everything goes through the engine's CatalogueService, so the app, the CLI
// and jobs share one signed-in session (kept in the OS keychain) and one outbox. With a facility
// catalogue the operator may also "continue with the local catalogue": jobs then record locally
// only, and the profile the jobs get says so (profileFor()).
import type { InvestigationView, RegistrationView, SessionView, TechniqueTemplateView } from '../../shared/app-model.js';
import { BeamdropError, isBeamdropError } from '../../shared/errors.js';
import type { CatalogueConfig } from '../../shared/profile-catalogue-schema.js';
import type { DatasetIdentity } from '../../shared/model.js';
import type { FacilityProfile } from '../../shared/profile-schema.js';
import type { CatalogueSession } from '../engine/catalogue/catalogue-adapter.js';
import type { CatalogueLink } from '../engine/catalogue/catalogue-service.js';
import { localUser } from '../engine/catalogue/local/local-adapter.js';
import { allTechniques, resolveTechnique } from '../engine/catalogue/techniques/technique-templates.js';
import type { OperationDeps } from '../engine/engine.js';
import type { AppSettingsStore } from './app-settings.js';
import { templateView } from './techniques.js';

const LOCAL: CatalogueConfig = { kind: 'local' };
const NAMES: Record<CatalogueConfig['kind'], string> = {
  local: 'Local catalogue',
  scicat: 'SciCat',
  icat: 'ICAT',
  'icat-plus': 'ICAT+',
};

/** An investigation id becomes {proposal} in storage keys: one safe path segment. */
export function checkInvestigationId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id) || id.includes('..')) {
    throw new BeamdropError({
      code: 'dataset-name-invalid',
      retryable: false,
      field: 'id',
      message:
        'An investigation id uses letters, digits, ".", "_" and "-" (it becomes part of the storage path), e.g. "MX-2026-0142".',
    });
  }
}

/** The engine's catalogue links (sessions, outbox) and the local catalogue. */
export type CatalogueGatewayDeps = Pick<OperationDeps, 'catalogues' | 'local'>;

export class CatalogueGateway {
  constructor(
    private readonly d: CatalogueGatewayDeps,
    private readonly store: AppSettingsStore,
    private readonly profile: () => FacilityProfile,
  ) {}

  private get config(): CatalogueConfig {
    return this.profile().catalogue;
  }
  private get remote(): boolean {
    return this.config.kind !== 'local';
  }
  /** Working with the local catalogue: the profile's is local, or the operator chose it. */
  get localMode(): boolean {
    return !this.remote || this.store.get().session === 'local';
  }

  /** The profile the jobs run with: the local catalogue when the operator chose it. */
  profileFor(p: FacilityProfile): FacilityProfile {
    return this.localMode && p.catalogue.kind !== 'local' ? { ...p, catalogue: LOCAL } : p;
  }

  private link(config: CatalogueConfig = this.localMode ? LOCAL : this.config): Promise<CatalogueLink> {
    return this.d.catalogues.link(config, { retries: this.profile().upload.retries });
  }

  private async remoteSession(): Promise<CatalogueSession | null> {
    if (!this.remote) return null;
    const link = await this.link(this.config);
    const s = link.sessions.current() ?? (await link.sessions.reload());
    return s && (s.expiresAt === null || s.expiresAt > Date.now()) ? s : null;
  }

  async session(): Promise<SessionView> {
    const c = this.config;
    const catalogue = {
      kind: c.kind,
      name: c.kind === 'local' ? NAMES.local : `${NAMES[c.kind]}`,
      url: c.kind === 'local' ? null : c.url,
      signInRequired: c.kind !== 'local',
    };
    const signed = await this.remoteSession();
    if (signed && this.store.get().session !== 'local') {
      const link = await this.link(c);
      const allow = c.kind !== 'local' && 'allowCreateProposal' in c && c.allowCreateProposal && link.adapter.canCreateProposals;
      return {
        catalogue,
        state: 'signed-in',
        user: signed.user.displayName ?? signed.user.username,
        canCreateInvestigation: !!allow,
      };
    }
    return {
      catalogue,
      state: this.store.get().session === 'local' ? 'local' : 'signed-out',
      user: null,
      canCreateInvestigation: true,
    };
  }

  async signIn(username: string, password: string): Promise<SessionView> {
    if (!this.remote)
      throw new BeamdropError({
        code: 'usage',
        retryable: false,
        message: 'The facility profile names no facility catalogue: continue with the local catalogue.',
      });
    const link = await this.link(this.config);
    try {
      await link.sessions.login({ username, password });
    } catch (e) {
      if (isBeamdropError(e) && (e.code === 'credentials-rejected' || e.code === 'permission-denied')) {
        throw new BeamdropError(
          {
            code: e.code,
            retryable: false,
            field: 'password',
            message: `${NAMES[this.config.kind]} refused the sign-in: ${e.message}`,
          },
          { cause: e },
        );
      }
      throw e;
    }
    this.store.update((s) => ({ ...s, session: null }));
    link.start();
    return this.session();
  }

  async useLocal(): Promise<SessionView> {
    this.store.update((s) => ({ ...s, session: 'local' }));
    return this.session();
  }

  async signOut(): Promise<SessionView> {
    if (this.remote && this.store.get().session !== 'local') await (await this.link(this.config)).sessions.logout();
    this.store.update((s) => ({ ...s, session: null }));
    return this.session();
  }

  async investigations(query: string): Promise<InvestigationView[]> {
    const link = await this.link();
    const session = this.localMode ? localSession() : await link.sessions.require();
    const source = this.localMode ? ('local' as const) : ('catalogue' as const);
    return (await link.adapter.proposals(session, query.trim() || undefined)).map((p) => ({
      id: p.id,
      title: p.title === p.id ? '' : p.title,
      source,
      ...(p.principalInvestigator ? { principalInvestigator: p.principalInvestigator } : {}),
    }));
  }

  async createInvestigation(id: string, title: string): Promise<InvestigationView> {
    checkInvestigationId(id);
    const link = await this.link();
    if (this.localMode) {
      const p = await link.adapter.createProposal(localSession(), { id, title: title.trim() || id, ownerGroup: '', email: '' });
      return { id: p.id, title: p.title, source: 'local' };
    }
    const c = this.config;
    if (c.kind === 'local' || !('allowCreateProposal' in c) || !c.allowCreateProposal || !link.adapter.canCreateProposals) {
      throw new BeamdropError({
        code: 'permission-denied',
        retryable: false,
        field: 'id',
        message: `The facility profile does not let operators create proposals in ${NAMES[c.kind]}; ask the user office, or pick an existing one.`,
      });
    }
    const session = await link.sessions.require();
    const ownerGroup = c.ownerGroup ?? session.user.groups[0];
    const email = session.user.email ?? c.contactEmail;
    if (!ownerGroup || !email) {
      throw new BeamdropError({
        code: 'profile-invalid',
        retryable: false,
        field: 'id',
        message: `A new proposal needs an owner group and a contact email; ${session.user.username} has ${ownerGroup ? 'no email' : 'no group'} in ${NAMES[c.kind]} and the profile sets none (catalogue.ownerGroup / contactEmail).`,
      });
    }
    const p = await link.adapter.createProposal(session, { id, title: title.trim() || id, ownerGroup, email });
    return { id: p.id, title: p.title, source: 'catalogue' };
  }

  async techniques(): Promise<TechniqueTemplateView[]> {
    const p = this.profile();
    return Object.keys(allTechniques(p))
      .sort((a, b) => a.localeCompare(b))
      .map((name) => {
        const t = resolveTechnique(p, name);
        return templateView(t.name, allTechniques(p)[name]?.description, t.fields);
      });
  }

  /** Where one dataset (its identity: name, proposal, visit) is recorded and registered. */
  async registrations(dataset: DatasetIdentity): Promise<RegistrationView[]> {
    const out: RegistrationView[] = [];
    const local = this.d.local.lookup(dataset);
    if (local)
      out.push({
        catalogue: 'local',
        pid: null,
        state: local.status === 'complete' ? 'recorded (complete)' : 'recorded',
        detail: `local catalogue #${local.id}, ${local.files} file(s)`,
      });
    if (this.remote) {
      const link = await this.link(this.config);
      const regs = link.store.list({
        catalogue: link.identity,
        dataset: dataset.name,
        proposal: dataset.proposal,
        visit: dataset.visit,
      });
      for (const s of regs.map((r) => link.store.status(r))) {
        const detail = `${s.filesRegistered} of ${s.filesQueued} file(s) registered${s.lastError ? `; ${s.lastError.message}` : ''}`;
        out.push({ catalogue: s.catalogue, pid: s.remoteId, state: s.state, detail });
      }
    }
    return out;
  }

  /** A facility catalogue needs a signed-in user before a job starts (the dataset's owner). */
  async checkCanStart(): Promise<void> {
    if (this.localMode) return;
    const link = await this.link(this.config);
    try {
      await link.sessions.require();
    } catch (e) {
      throw new BeamdropError(
        {
          code: 'credentials-missing',
          retryable: false,
          field: 'catalogue',
          message: `Sign in to ${NAMES[this.config.kind]} first (Change, top right), or continue with the local catalogue: datasets are registered under the signed-in user.`,
        },
        { cause: e },
      );
    }
  }
}

function localSession(): CatalogueSession {
  return { token: '', user: localUser(), expiresAt: null };
}
