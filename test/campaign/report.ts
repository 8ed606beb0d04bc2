// The campaign's figures as printed: kills, kills per phase, faults, the four figures that must
// be 0 (files lost, corrupted, duplicated, orphaned) and the journal–catalogue disagreements, the
// time to recover, what was checked, and every problem with its round.
import type { Figures } from './run-campaign.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function recovery(xs: number[]): string {
  const m = median(xs);
  return m === null ? 'no killed round' : `median ${seconds(m)}, max ${seconds(Math.max(...xs))} (${xs.length} rounds)`;
}

const row = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, n]) => `${k} ${n}`)
    .join(' · ');

export function formatFigures(f: Figures): string {
  const wall = `${Math.floor(f.wallMs / 60_000)}m${String(Math.round((f.wallMs % 60_000) / 1000)).padStart(2, '0')}s`;
  const lines = [
    `Crash campaign — seed ${f.seed} (rerun with --seed ${f.seed})`,
    `  rounds             ${f.rounds} (${f.calibrationRounds} calibration rounds, not killed) · wall ${wall} · ${f.kills ? seconds(f.wallMs / f.kills) : '-'} per kill`,
    `  typical run        ${row(Object.fromEntries(Object.entries(f.runMs).map(([k, v]) => [k, Math.round(v)])))} (ms; kills drawn uniformly over these)`,
    `  kills              ${f.kills} SIGKILLs of the beamdrop CLI (${f.missedKills} more drawn after the run had ended)`,
    `  kills per phase    ${row(f.killsPerPhase)}`,
    `  phases in flight   ${row(f.phasesInFlight)}`,
    `  faults             ${row(f.faults)}`,
    `  files lost         ${f.lost}`,
    `  files corrupted    ${f.corrupted}`,
    `  duplicated         ${f.duplicated}`,
    `  orphaned           ${f.orphaned}`,
    `  disagreements      ${f.disagreements} (journal vs catalogue, dataset not finalised once)`,
    `  time to recover    batch ${recovery(f.recovery.batch)}; sync ${recovery(f.recovery.sync)} (rerun to done and registered; sync includes the rest of the acquisition)`,
    `  checked            ${f.filesChecked} files (sha256sum), ${f.rcloneHashed} objects read back by rclone, ${f.catalogueEntries} catalogue entries`,
    `  sent twice         ${f.sentTwice} file(s) uploaded again after a kill (wasted bytes, not stored twice)`,
  ];
  if (f.problems.length) lines.push('problems:', ...f.problems.map((p) => `  - ${p}`));
  if (f.notes.length)
    lines.push('notes (unexpected ends, refusals):', ...f.notes.map((n) => `  - ${n.replaceAll('\n', '\n    ')}`));
  return lines.join('\n');
}
