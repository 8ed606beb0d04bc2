// Lint with the import zones of DESIGN.md: shared imports nothing of the app, the renderer only
// shared, the engine never electron, cli/app stay on top of the engine. A test feeds forbidden
// imports to this config and expects errors (test/unit/lint-zones.test.ts).
import { existsSync } from 'node:fs';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'child_process',
  'crypto',
  'stream',
  'stream/*',
  'worker_threads',
  'http',
  'https',
  'net',
  'url',
  'util',
  'events',
  'buffer',
];

const zone = (target, from, message) => ({ target, from, message });

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.test-artifacts/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    // Type information: every .ts/.tsx file belongs to tsconfig.json (engine, app, preload, shared,
    // tests, bench, root configs) or tsconfig.web.json (renderer). Program-based rather than the
    // project service, which finds only files named tsconfig.json and would miss the renderer's.
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json', './tsconfig.web.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its rejection (an unhandled rejection ends the CLI) and its
      // order: await it, or write `void` where fire-and-forget is meant and errors are handled.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // No type information for plain JavaScript (bin/, bench/*.mjs, this file) nor for text linted
    // under a path that is not on disk (an editor's new buffer, test/unit/lint-zones.test.ts).
    files: ['**/*.js', '**/*.mjs', (file) => !existsSync(file)],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    plugins: { 'import-x': importX },
    // Resolves `./x.js` specifiers to the `.ts` sources, so the zones see every relative import.
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({ project: ['tsconfig.json', 'tsconfig.web.json'], noWarnOnMultipleProjects: true }),
      ],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            zone('./src/shared', './src/main', 'src/shared is pure: it must not import main code.'),
            zone('./src/shared', './src/renderer', 'src/shared is pure: it must not import renderer code.'),
            zone('./src/shared', './src/preload', 'src/shared is pure: it must not import preload code.'),
            zone('./src/renderer', './src/main', 'The renderer talks to main only through the preload API.'),
            zone('./src/renderer', './src/preload', 'The renderer uses window.beamdrop, not preload modules.'),
            zone('./src/main/engine', './src/main/app', 'The engine is plain Node: it must not import the Electron app.'),
            zone('./src/main/engine', './src/main/cli', 'The engine must not import the CLI.'),
            zone(
              './src/main/engine',
              './src/main/app-backend',
              'The engine must not import the app backend (it is built on the engine).',
            ),
            // Operations (verify, fetch, reconcile, import, register, retry) sit on top of the engine's
            // services; the core below them (journal, jobs, storage, catalogue, sync) never reaches up.
            zone(
              ['./src/main/engine/!(operations)/**', './src/main/engine/*.ts'],
              './src/main/engine/operations',
              'Operations are built on the engine core: the core must not import src/main/engine/operations.',
            ),
            zone(
              './src/main/app-backend',
              './src/main/app',
              'The app backend is Electron-free: it must not import src/main/app.',
            ),
            zone('./src/main/app-backend', './src/main/cli', 'The app backend must not import the CLI.'),
            zone('./src/main/cli', './src/main/app', 'The CLI must not import the Electron app.'),
            zone('./src/main/app', './src/main/cli', 'The app must not import the CLI.'),
            zone('./src/preload', './src/main', 'The preload sees only the shared IPC contract.'),
          ],
        },
      ],
    },
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...nodeBuiltins, 'electron', 'react', 'react-dom'],
              message: 'src/shared must stay pure TypeScript (no Node, DOM or Electron).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/engine/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'src/main/engine never imports electron: keep the engine plain Node.' },
          ],
        },
      ],
    },
  },
  {
    // The app backend runs in main and in the e2e harness (plain Node): Electron stays in src/main/app.
    files: ['src/main/app-backend/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['electron', 'electron/*'],
              message: 'src/main/app-backend never imports electron: put Electron behind a port (ports.ts) in src/main/app.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...nodeBuiltins, 'electron', 'electron/*'],
              message: 'src/renderer never imports Node or Electron: use the preload API.',
            },
            {
              group: ['zod', 'zod/*'],
              message: 'zod compiles with eval, which the renderer CSP forbids: validate with src/shared/dataset-definition.ts.',
            },
          ],
        },
      ],
    },
  },
);
