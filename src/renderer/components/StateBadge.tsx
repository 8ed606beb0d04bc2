// A file or job state as a small labelled badge; the colour is never the only signal (the word
// is always there).
export function StateBadge({ state }: { state: string }) {
  return <span className={`badge badge--${state}`}>{state}</span>;
}
