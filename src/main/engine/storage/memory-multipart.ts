// A MultipartStore that lives only as long as one upload call, for writes that are never resumed
// by another process (the RO-Crate beside a dataset, which is written again when interrupted).
import type { MultipartIntent, MultipartState, MultipartStore } from './destination.js';

export function memoryMultipartStore(): MultipartStore {
  let state: MultipartState | null = null;
  let intents: MultipartIntent[] = [];
  return {
    load: () => state,
    intend: (i) => {
      intents = [{ ...i, at: Date.now() }, ...intents.filter((o) => o.key !== i.key)];
    },
    intents: () => intents,
    heldElsewhere: () => new Set(),
    begin: (s) => {
      state = { ...s, parts: [] };
    },
    partDone: (p) => {
      state?.parts.push(p);
    },
    clear: () => {
      state = null;
      intents = [];
    },
    abandon: () => {
      state = null;
    },
    settled: (key) => {
      intents = intents.filter((i) => i.key !== key);
    },
  };
}
