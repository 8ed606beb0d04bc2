// The desktop app's import zones, fed to the real ESLint config: the app backend stays free of
// Electron and of src/main/app, the renderer of zod (eval under the CSP), the preload of main.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('desktop app import zones', () => {
  it('keeps Electron and src/main/app out of the app backend', async () => {
    expect(
      await lint(
        'src/main/app-backend/x.ts',
        "import { app } from 'electron';\nimport { APP_ORIGIN } from '../app/app-protocol.js';\nexport const a = [app, APP_ORIGIN];\n",
      ),
    ).toEqual([
      expect.stringMatching(/no-restricted-imports: .*app-backend never imports electron/),
      expect.stringMatching(/no-restricted-paths: .*Electron-free/),
    ]);
  });

  it('keeps the engine from importing the app backend', async () => {
    expect(
      await lint(
        'src/main/engine/x.ts',
        "import { createBackend } from '../app-backend/create-backend.js';\nexport const a = createBackend;\n",
      ),
    ).toEqual([expect.stringMatching(/must not import the app backend/)]);
  });

  it('keeps zod out of the renderer and main code out of the preload', async () => {
    expect(await lint('src/renderer/x.tsx', "import { z } from 'zod';\nexport const a = z;\n")).toEqual([
      expect.stringMatching(/zod compiles with eval/),
    ]);
    expect(
      await lint('src/preload/x.ts', "import { Engine } from '../main/engine/engine.js';\nexport const a = Engine;\n"),
    ).toEqual([expect.stringMatching(/preload sees only the shared IPC contract/)]);
  });

  it('lets main use the backend and the renderer use shared code', async () => {
    expect(
      await lint(
        'src/main/app/x.ts',
        "import { createBackend } from '../app-backend/create-backend.js';\nexport const a = createBackend;\n",
      ),
    ).toEqual([]);
    expect(
      await lint('src/renderer/x.tsx', "import { formatBytes } from '../shared/sizes.js';\nexport const a = formatBytes;\n"),
    ).toEqual([]);
  });
});
