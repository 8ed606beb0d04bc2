// A real Apache httpd with mod_dav / mod_dav_fs for the integration and fault tests, run from a
// generated config in a temporary directory on a free loopback port, with Basic auth.
//
// Apache refuses to serve as root (that needs a -DBIG_SECURITY_HOLE build), so when the tests run
// as root the parent process stays root (it binds the port and writes the logs) and the workers
// drop to `www-data` (or BEAMDROP_DAV_USER), which then owns the whole temporary directory. Files
// that a test writes straight into `root` as root should be handed to `uid`/`gid` if the server
// must later overwrite or delete them. mod_dav_fs keeps dead properties (PROPPATCH) in `.DAV/`
// folders inside `root`: tests listing `root` directly should ignore those.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, probe, spawnLogged, waitUntilReady } from './minio.js';
import { serverLifecycle, type ServerLifecycle } from './server-lifecycle.js';

/** A running Apache mod_dav; destroy() removes its temporary directory. */
export interface DavServer extends ServerLifecycle {
  /** e.g. http://127.0.0.1:PORT/dav (no trailing slash) */
  url: string;
  username: string;
  password: string;
  /** the folder on disk that /dav serves */
  root: string;
  port: number;
  /** the owner of files the server writes (the worker user) */
  uid: number;
  gid: number;
  /** Apache's ErrorLog; the access log is beside it as access.log */
  errorLog: string;
}

const execFileP = promisify(execFile);

export const apacheBin = (): string => process.env.BEAMDROP_APACHE_BIN ?? '/usr/sbin/apache2';
const modulesDir = (): string => process.env.BEAMDROP_APACHE_MODULES ?? '/usr/lib/apache2/modules';

const modules: Array<[string, string]> = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authn_core_module', 'mod_authn_core.so'],
  ['authn_file_module', 'mod_authn_file.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['authz_user_module', 'mod_authz_user.so'],
  ['auth_basic_module', 'mod_auth_basic.so'],
  ['alias_module', 'mod_alias.so'],
  ['mime_module', 'mod_mime.so'],
  ['dav_module', 'mod_dav.so'],
  ['dav_fs_module', 'mod_dav_fs.so'],
];

/** uid/gid of a user from /etc/passwd (Node has no getpwnam). */
function lookupUser(name: string): { uid: number; gid: number } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && f[3] !== undefined) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(p, uid, gid);
    else await chown(p, uid, gid);
  }
}

/**
 * `root`: an existing folder to serve as /dav instead of a fresh one (e.g. a small filesystem
 * mounted by the test); it is handed to the worker user and left in place by destroy().
 */
export async function startApacheDav(opts: { port?: number; root?: string } = {}): Promise<DavServer> {
  const bin = apacheBin();
  const base = await mkdtemp(join(tmpdir(), 'beamdrop-dav-'));
  const root = opts.root ?? join(base, 'root');
  const varDir = join(base, 'var');
  const runDir = join(base, 'run');
  const logDir = join(base, 'logs');
  await Promise.all([...(opts.root ? [] : [root]), varDir, runDir, logDir].map((d) => mkdir(d)));
  const port = opts.port ?? (await freePort());
  const username = 'beamdrop';
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const htpasswdFile = join(base, 'htpasswd');
  const conf = join(base, 'httpd.conf');
  const errorLog = join(logDir, 'error.log');
  const stdoutLog = join(logDir, 'stdout.log');

  await execFileP(process.env.BEAMDROP_HTPASSWD_BIN ?? 'htpasswd', ['-bc', htpasswdFile, username, password]).catch(
    (err: Error) => {
      throw new Error(`htpasswd failed (is apache2-utils installed? run scripts/provision-test-servers.sh): ${err.message}`);
    },
  );

  // Root may not serve pages: workers run as an unprivileged user that owns the directory.
  let uid = process.getuid?.() ?? 0;
  let gid = process.getgid?.() ?? 0;
  let userLines = '';
  if (uid === 0) {
    const name = process.env.BEAMDROP_DAV_USER ?? 'www-data';
    const user = lookupUser(name) ?? lookupUser('nobody');
    if (user === undefined) throw new Error(`no user ${name} (nor nobody) to run the apache workers as`);
    uid = user.uid;
    gid = user.gid;
    userLines = `User #${uid}\nGroup #${gid}\n`;
  }

  const mimeTypes = existsSync('/etc/mime.types') ? '/etc/mime.types' : join(base, 'mime.types');
  if (!existsSync(mimeTypes)) await writeFile(mimeTypes, '');

  const config = `# generated by test/support/apache-dav.ts
ServerRoot "${base}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
${modules.map(([id, file]) => `LoadModule ${id} "${join(modulesDir(), file)}"`).join('\n')}
${userLines}PidFile "${join(runDir, 'httpd.pid')}"
DefaultRuntimeDir "${runDir}"
ErrorLog "${errorLog}"
LogLevel ${process.env.BEAMDROP_DAV_LOGLEVEL ?? 'warn'}
LogFormat "%h %u \\"%r\\" %>s %b %D" beamdrop
CustomLog "${join(logDir, 'access.log')}" beamdrop
TypesConfig "${mimeTypes}"
Timeout 120
KeepAlive On
MaxKeepAliveRequests 0
DavLockDB "${join(varDir, 'DavLock')}"
LimitRequestBody 0
<Directory />
  AllowOverride None
  Require all denied
</Directory>
Alias /dav "${root}"
<Directory "${root}">
  Options None
  AllowOverride None
  Dav On
  AuthType Basic
  AuthName "beamdrop test"
  AuthBasicProvider file
  AuthUserFile "${htpasswdFile}"
  Require valid-user
  LimitRequestBody 0
</Directory>
`;
  await writeFile(conf, config);
  if (process.getuid?.() === 0) {
    await chmod(base, 0o755);
    await chownTree(base, uid, gid);
    if (opts.root) await chownTree(opts.root, uid, gid);
  }

  const url = `http://127.0.0.1:${port}/dav`;
  const authHeader = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const { life, start } = serverLifecycle({
    launch: async (track) => {
      const p = spawnLogged(bin, ['-f', conf, '-DFOREGROUND'], stdoutLog);
      track(p);
      try {
        await waitUntilReady(`apache2 (${bin}) on port ${port}`, p, stdoutLog, async () => {
          const res = await probe(`${url}/`, { method: 'PROPFIND', headers: { Authorization: authHeader, Depth: '0' } }, 1_000);
          return res.status === 207;
        });
      } catch (err) {
        let errors = '';
        try {
          errors = readFileSync(errorLog, 'utf8').split('\n').slice(-20).join('\n');
        } catch {
          errors = '(no error log)';
        }
        throw new Error(`${(err as Error).message}\nlast lines of ${errorLog}:\n${errors}`, { cause: err });
      }
    },
    cleanup: () => rm(base, { recursive: true, force: true }),
  });
  const server: DavServer = Object.assign(life, { url, username, password, root, port, uid, gid, errorLog });
  await start();
  return server;
}
