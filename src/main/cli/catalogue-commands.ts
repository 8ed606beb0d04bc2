// `beamdrop login|logout` and `beamdrop catalogue status|retry|push|proposals|resend`: the
// signed-in user of the profile's catalogue and the registrations waiting in the outbox.
import type { Command } from 'commander';
import { BeamdropError } from '../../shared/errors.js';
import type { RegistrationStatus } from '../../shared/model.js';
import { bufferedIcatPlusMessages } from '../engine/catalogue/icat-plus/message-buffer.js';
import { catalogueLink, pushOutbox, registrationStatus, retryRegistration } from '../engine/operations/retry-registration.js';
import { collect, parseMetadata, profileFrom, reportError, withEngine } from './context.js';
import { EXIT } from './exit-codes.js';
import { readSecret } from './read-secret.js';

const STATE_TEXT: Record<RegistrationStatus['state'], string> = {
  pending: 'registration pending',
  open: 'registered so far (more files may come)',
  registered: 'registered',
  'needs-attention': 'NEEDS ATTENTION',
  'waiting-login': 'waiting for sign-in',
};

export function registrationLine(s: RegistrationStatus): string {
  const id = s.remoteId ? ` as ${s.remoteId}` : '';
  const files = `${s.filesRegistered}/${s.filesQueued} files`;
  const of = [s.proposal && `proposal ${s.proposal}`, s.visit && `visit ${s.visit}`].filter(Boolean).join(', ');
  const lines = [`${s.dataset}${of ? ` (${of})` : ''}: ${STATE_TEXT[s.state]}${id} in ${s.catalogue} (${files})`];
  if (s.lastError && s.state !== 'registered' && s.state !== 'open') {
    lines.push(`    ${s.lastError.message}`);
    if (s.lastError.reason && !s.lastError.message.includes(s.lastError.reason))
      lines.push(`    server said: ${s.lastError.reason}`);
  }
  if (s.nextAttemptAt) lines.push(`    next try at ${new Date(s.nextAttemptAt).toLocaleTimeString()}`);
  return lines.join('\n') + '\n';
}

function printStatuses(list: RegistrationStatus[], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(list) + '\n');
    return;
  }
  if (!list.length) process.stdout.write('No registrations.\n');
  for (const s of list) process.stdout.write(registrationLine(s));
  process.exitCode = list.some((s) => s.state === 'needs-attention' || s.state === 'waiting-login') ? EXIT.paused : EXIT.ok;
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description("sign in to the profile's catalogue; the session is kept in the OS keychain")
    .option('--profile <file>', 'facility profile')
    .option('--username <name>', 'user name (asked for when absent)')
    .option('--method <method>', 'sign-in method of the catalogue (SciCat local|ldap, ICAT authenticator)')
    .action(async (f: { profile?: string; username?: string; method?: string }) => {
      try {
        const profile = await profileFrom(f.profile);
        await withEngine(async (engine) => {
          const link = await catalogueLink(engine.operationDeps(), profile);
          if (!link.remote) {
            process.stdout.write('The local catalogue needs no sign-in.\n');
            return;
          }
          const username =
            f.username ??
            process.env.BEAMDROP_CATALOGUE_USERNAME ??
            (await readSecret(`user name for ${link.identity}: `)).trim();
          if (!username)
            throw new BeamdropError({
              code: 'credentials-missing',
              retryable: false,
              field: 'username',
              message: 'no user name given; use --username NAME.',
            });
          const password =
            process.env.BEAMDROP_CATALOGUE_PASSWORD ?? (await readSecret(`password of ${username} for ${link.identity}: `));
          const session = await link.sessions.login({ username, password, ...(f.method ? { method: f.method } : {}) });
          const groups = session.user.groups.length ? ` (groups: ${session.user.groups.join(', ')})` : '';
          process.stdout.write(
            `Signed in to ${link.identity} as ${session.user.username}${groups}. The session is kept in the OS keychain until \`beamdrop logout\`.\n`,
          );
          // A sign-in is what registrations waiting for one need: send them now.
          const waiting = link.status().filter((s) => s.state === 'waiting-login');
          if (waiting.length)
            for (const s of await pushOutbox(engine.operationDeps(), profile, 30_000)) process.stdout.write(registrationLine(s));
        });
      } catch (e) {
        reportError(e, false);
      }
    });

  program
    .command('logout')
    .description("sign out of the profile's catalogue and forget the session")
    .option('--profile <file>', 'facility profile')
    .action(async (f: { profile?: string }) => {
      try {
        const profile = await profileFrom(f.profile);
        await withEngine(async (engine) => {
          const link = await catalogueLink(engine.operationDeps(), profile);
          const removed = await link.sessions.logout();
          process.stdout.write(removed ? `Signed out of ${link.identity}.\n` : `Nobody was signed in to ${link.identity}.\n`);
        });
      } catch (e) {
        reportError(e, false);
      }
    });
}

export function registerCatalogue(program: Command): void {
  const cat = program.command('catalogue').description('registrations in the facility catalogue (the outbox)');
  cat
    .command('status')
    .description('where each dataset stands in the catalogue: pending, registered, needs attention, waiting for sign-in')
    .argument('[dataset]', 'one dataset')
    .option('--proposal <id>', 'the dataset of this proposal (when several share its name)')
    .option('--visit <id>', 'the dataset of this visit (when several share its name)')
    .option('--catalogue <catalogue>', 'the dataset of this catalogue, as `find --json` shows it (or its kind when unique)')
    .option('--profile <file>', 'facility profile')
    .option('--json', 'print JSON')
    .action(
      async (
        dataset: string | undefined,
        f: { proposal?: string; visit?: string; catalogue?: string; profile?: string; json?: boolean },
      ) => {
        try {
          const profile = await profileFrom(f.profile);
          const which = dataset ? { name: dataset, proposal: f.proposal, visit: f.visit, catalogue: f.catalogue } : undefined;
          const { list, buffered } = await withEngine(async (engine) => {
            const ops = engine.operationDeps();
            const statuses = registrationStatus(await catalogueLink(ops, profile), which);
            // An ICAT+ message the broker never confirmed counts as handed over, but is still a
            // file here: say so, or nobody knows it waits for `catalogue resend`.
            const waiting =
              profile.catalogue.kind === 'icat-plus'
                ? await bufferedIcatPlusMessages(profile.catalogue, { dataDir: ops.dataDir })
                : [];
            return { list: statuses, buffered: waiting.filter((m) => !dataset || m.dataset === dataset) };
          });
          printStatuses(list, !!f.json);
          if (buffered.length) {
            if (!f.json)
              process.stdout.write(
                `${buffered.length} ICAT+ message(s) wait in the buffer folder, not confirmed by the broker: ${buffered.map((m) => `${m.dataset} (${m.path})`).join(', ')}; run \`beamdrop catalogue resend\` once the broker answers.\n`,
              );
            process.exitCode = EXIT.paused;
          }
        } catch (e) {
          reportError(e, !!f.json);
        }
      },
    );

  cat
    .command('retry')
    .description('try a registration again, optionally with fixed metadata; files are not uploaded again')
    .argument('<dataset>', 'dataset name')
    .option('-p, --param <key=value>', 'corrected metadata (repeatable)', collect)
    .option('--proposal <id>', 'the dataset of this proposal (when several share its name)')
    .option('--visit <id>', 'the dataset of this visit (when several share its name)')
    .option('--catalogue <catalogue>', 'the dataset of this catalogue, as `find --json` shows it (or its kind when unique)')
    .option('--set-proposal <id>', 'corrected proposal (before the dataset exists in the catalogue)')
    .option('--profile <file>', 'facility profile')
    .option('--json', 'print JSON')
    .action(
      async (
        dataset: string,
        f: {
          param?: string[];
          proposal?: string;
          visit?: string;
          catalogue?: string;
          setProposal?: string;
          profile?: string;
          json?: boolean;
        },
      ) => {
        try {
          const profile = await profileFrom(f.profile);
          const list = await withEngine((engine) =>
            retryRegistration(
              engine.operationDeps(),
              profile,
              { name: dataset, proposal: f.proposal, visit: f.visit, catalogue: f.catalogue },
              {
                metadata: parseMetadata(f.param ?? []),
                ...(f.setProposal ? { proposal: f.setProposal } : {}),
              },
            ),
          );
          printStatuses(list, !!f.json);
        } catch (e) {
          reportError(e, !!f.json);
        }
      },
    );

  cat
    .command('push')
    .description('send what waits in the outbox now and wait for the answers')
    .option('--wait <seconds>', 'how long to wait at most', '60')
    .option('--profile <file>', 'facility profile')
    .option('--json', 'print JSON')
    .action(async (f: { wait: string; profile?: string; json?: boolean }) => {
      try {
        const profile = await profileFrom(f.profile);
        const list = await withEngine((engine) =>
          pushOutbox(engine.operationDeps(), profile, Math.max(1, Number(f.wait) || 60) * 1000),
        );
        printStatuses(list, !!f.json);
      } catch (e) {
        reportError(e, !!f.json);
      }
    });

  cat
    .command('proposals')
    .description('proposals (investigations) the signed-in user may add datasets to')
    .argument('[search]', 'text to look for')
    .option('--profile <file>', 'facility profile')
    .option('--json', 'print JSON')
    .action(async (search: string | undefined, f: { profile?: string; json?: boolean }) => {
      try {
        const profile = await profileFrom(f.profile);
        const list = await withEngine(async (engine) => {
          const link = await catalogueLink(engine.operationDeps(), profile);
          const session = link.remote ? await link.sessions.require() : await link.adapter.login({ username: '', password: '' });
          return link.adapter.proposals(session, search);
        });
        if (f.json) process.stdout.write(JSON.stringify(list) + '\n');
        else
          for (const p of list)
            process.stdout.write(
              `${p.id}${p.visit ? ` / ${p.visit}` : ''}  ${p.title}${p.ownerGroup ? `  (owner group ${p.ownerGroup})` : ''}\n`,
            );
      } catch (e) {
        reportError(e, !!f.json);
      }
    });

  cat
    .command('resend')
    .description('ICAT+: send the dataset messages kept in the buffer folder while the broker was unreachable')
    .option('--profile <file>', 'facility profile')
    .action(async (f: { profile?: string }) => {
      try {
        const profile = await profileFrom(f.profile);
        if (profile.catalogue.kind !== 'icat-plus')
          throw new BeamdropError({
            code: 'usage',
            retryable: false,
            field: 'catalogue.kind',
            message: 'only an ICAT+ catalogue keeps a message buffer; this profile uses ' + profile.catalogue.kind + '.',
          });
        const config = profile.catalogue;
        await withEngine(async (engine) => {
          const ops = engine.operationDeps();
          const link = await catalogueLink(ops, profile);
          const session = await link.sessions.reload().catch(() => null);
          const credentials = session?.token ? (JSON.parse(session.token) as { username: string; password: string }) : null;
          const { resendIcatPlusBuffer } = await import('../engine/catalogue/icat-plus/resend.js');
          const report = await resendIcatPlusBuffer(config, { dataDir: ops.dataDir }, credentials);
          for (const s of report.sent) process.stdout.write(`sent ${s}\n`);
          for (const r of report.remaining) process.stdout.write(`still buffered ${r}\n`);
          if (report.error) process.stderr.write(`beamdrop: ${report.error.message}\n`);
          process.stdout.write(`${report.sent.length} message(s) sent, ${report.remaining.length} still in the buffer.\n`);
          process.exitCode = report.remaining.length ? EXIT.paused : EXIT.ok;
        });
      } catch (e) {
        reportError(e, false);
      }
    });
}
