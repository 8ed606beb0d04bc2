// The import zones of DESIGN.md are enforced by ESLint: feed forbidden imports to the real config.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint import zones', () => {
  it('rejects electron in the engine', async () => {
    expect(await lint('src/main/engine/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toEqual([
      expect.stringMatching(/no-restricted-imports: .*never imports electron/),
    ]);
  });

  it('rejects Node built-ins and main code in the renderer', async () => {
    const msgs = await lint(
      'src/renderer/x.ts',
      "import { readFile } from 'node:fs';\nimport { Engine } from '../main/engine/engine.js';\nexport const a = [readFile, Engine];\n",
    );
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/no-restricted-imports: .*never imports Node/),
        expect.stringMatching(/import-x\/no-restricted-paths: .*preload API/),
      ]),
    );
  });

  it('keeps shared pure and the engine free of the CLI and app', async () => {
    expect(await lint('src/shared/x.ts', "import { join } from 'node:path';\nexport const a = join;\n")).toEqual([
      expect.stringMatching(/src\/shared must stay pure/),
    ]);
    expect(
      await lint('src/shared/y.ts', "import { Engine } from '../main/engine/engine.js';\nexport const a = Engine;\n"),
    ).toEqual([expect.stringMatching(/must not import main code/)]);
    expect(
      await lint('src/main/engine/y.ts', "import { buildProgram } from '../cli/index.js';\nexport const a = buildProgram;\n"),
    ).toEqual([expect.stringMatching(/must not import the CLI/)]);
  });

  it('accepts the allowed direction', async () => {
    expect(await lint('src/main/cli/x.ts', "import { Engine } from '../engine/engine.js';\nexport const a = Engine;\n")).toEqual(
      [],
    );
  });

  it('keeps the engine core below its operations', async () => {
    const up = "import { verifyDataset } from '../operations/verify-dataset.js';\nexport const a = verifyDataset;\n";
    expect(await lint('src/main/engine/jobs/x.ts', up)).toEqual([
      expect.stringMatching(/core must not import src\/main\/engine\/operations/),
    ]);
    expect(
      await lint(
        'src/main/engine/x.ts',
        "import { verifyDataset } from './operations/verify-dataset.js';\nexport const a = verifyDataset;\n",
      ),
    ).toEqual([expect.stringMatching(/core must not import/)]);
    expect(
      await lint(
        'src/main/engine/operations/x.ts',
        "import { Journal } from '../journal/journal.js';\nexport const a = Journal;\n",
      ),
    ).toEqual([]);
  });
});
