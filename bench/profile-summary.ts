// Where the time of a profiled Beamdrop run went: self time per function, per thread, from the
// .cpuprofile files that `BEAMDROP_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"` leaves.
// Usage: node out/bench/bench/profile-summary.js DIR [TOP]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [dir, topArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: profile-summary.js DIR [TOP]');
  process.exit(2);
}
const top = Number(topArg ?? 12);

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort()) {
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const n = byId.get(id)!;
    const where = n.callFrame.url
      ? `${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/out\/bench\//, '')}:${n.callFrame.lineNumber + 1}`
      : '';
    const name = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
  });
  const idle = (self.get('(idle)') ?? 0) + (self.get('(program)') ?? 0) * 0;
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled, ${((total - idle) / 1e6).toFixed(1)} s busy`);
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${(us / 1e6).toFixed(2).padStart(7)} s  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
}
