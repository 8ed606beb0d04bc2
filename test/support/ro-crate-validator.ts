// The `ro-crate` package's validator (GPL-3.0: used in tests only, never shipped), run the same way
// by every test that checks a crate: parse, root data entity, files.
import { createRequire } from 'node:module';

const { Validator } = createRequire(import.meta.url)('ro-crate') as {
  Validator: new () => {
    parseJSON(j: unknown): void;
    rootDataEntity(): void;
    checkFiles(f: Record<string, unknown>): void;
    results: { status: string; message: string; id: string }[];
  };
};

export interface CrateCheck {
  /** Ids of the checks that passed. */
  passed: string[];
  errors: { id: string; message: string }[];
}

export function validateCrate(json: unknown): CrateCheck {
  const v = new Validator();
  v.parseJSON(json);
  v.rootDataEntity();
  v.checkFiles({});
  return {
    passed: v.results.filter((r) => r.status === 'success').map((r) => r.id),
    errors: v.results.filter((r) => r.status === 'error').map((r) => ({ id: r.id, message: r.message })),
  };
}
