// The type-aware rules of eslint.config.js are on: a promise nobody awaits, or one handed to a
// callback that ignores it, is a lint error (checked on a real file's path, where types exist).
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

// typescript-eslint builds one program per run and ignores text handed to lintText when it infers
// a single run (it does under CI=true): this test lints text that is not on disk, so it opts out.
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: { languageOptions: { parserOptions: { disallowAutomaticSingleRunInference: true } } },
});

async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

const code = `async function work(): Promise<number> {
  return 1;
}
export function caller(): void {
  work();
  [1].forEach(async () => {
    await work();
  });
}
export function handled(): void {
  void work().catch(() => undefined);
}
`;

describe('type-aware lint', () => {
  it.each(['src/main/engine/scan/filters.ts', 'src/renderer/format.ts', 'test/unit/lint-typed.test.ts'])(
    'refuses floating and misused promises in %s',
    async (file) => {
      expect(await lint(file, code)).toEqual([
        expect.stringMatching(/^@typescript-eslint\/no-floating-promises: Promises must be awaited/),
        expect.stringMatching(/^@typescript-eslint\/no-misused-promises: /),
      ]);
    },
  );
});
