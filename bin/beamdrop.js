#!/usr/bin/env node
// Entry point of the `beamdrop` command; the CLI is compiled to dist/ by `npm run build`.
// The Node version is checked before anything else loads, in code any Node runs: the CLI's native
// modules (SQLite, the keychain) are built for Node 24, and an older Node dies loading them.
import { fileURLToPath } from 'node:url';

const REQUIRED = 24;
if (!(Number(process.versions.node.split('.')[0]) >= REQUIRED)) {
  const node = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  process.stderr.write(
    `beamdrop: needs Node.js ${REQUIRED} or newer, but was started by Node.js ${process.version} (${process.execPath}).\n` +
      `\`npm install\` puts Node ${REQUIRED} at ${node}: run \`${node} ${fileURLToPath(import.meta.url)} …\`, ` +
      `or put ${fileURLToPath(new URL('../node_modules/.bin', import.meta.url))} first on the PATH ` +
      '(then `npm link` gives a `beamdrop` command that runs on it).\n',
  );
  process.exit(2);
}
await import('../dist/main/cli/index.js');
