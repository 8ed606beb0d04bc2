// One measurement of the sync benchmark's scan part, in its own process so that its peak RSS is
// its own. Modes:
//   walk  TREE            the folder walk alone (worker listing + tree state, nothing journaled),
//                         then one folder check (one stat per folder) and one full rescan of the
//                         unchanged tree: the cost of polling a 100,000-file share
//   watch TREE HOME       `Engine.watch` on the tree until its first scan is done and journaled
//                         (scan-done), then a pause; run twice on the same HOME for a restart
// Times start at the call (Node's start-up and module loading are not counted); RSS is the
// process's peak.
// Prints one JSON line.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [mode, tree, home] = process.argv.slice(2);
const dist = new URL('../../dist/', import.meta.url);
let t0 = performance.now();
const out = { mode };

if (mode === 'walk') {
  const { FsClient } = await import(new URL('main/engine/sync/fs-client.js', dist));
  const { FolderScanner } = await import(new URL('main/engine/sync/folder-scanner.js', dist));
  const { createSyncFilter } = await import(new URL('main/engine/sync/sync-rules.js', dist));
  const { DEFAULT_FOLDER_RULES } = await import(new URL('shared/profile-sync-schema.js', dist));
  const { DEFAULT_EXCLUDE } = await import(new URL('shared/profile-globs.js', dist));
  const fs = new FsClient(false);
  let observed = 0;
  const folder = { path: tree, rules: DEFAULT_FOLDER_RULES, inner: [] };
  const scanner = new FolderScanner(
    folder,
    createSyncFilter(folder, { include: [], exclude: [...DEFAULT_EXCLUDE] }),
    {
      fs,
      now: () => Date.now(),
      stopped: () => false,
      onChanges: (_f, c) => {
        observed += c.observed.length;
      },
    },
    null,
  );
  t0 = performance.now(); // the walk itself, not Node's start-up and module loading
  await scanner.fullScan();
  out.walkMs = performance.now() - t0;
  out.files = observed;
  let t = performance.now();
  await scanner.checkFolders(0);
  out.folderCheckMs = performance.now() - t;
  t = performance.now();
  await scanner.fullScan();
  out.rescanMs = performance.now() - t;
  await fs.close();
} else {
  const { Engine } = await import(new URL('main/engine/engine.js', dist));
  const { profileSchema } = await import(new URL('shared/profile-schema.js', dist));
  mkdirSync(join(home, 'archive'), { recursive: true });
  const engine = Engine.open({ home });
  const profile = profileSchema.parse({
    destinations: { archive: { kind: 'filesystem', root: join(home, 'archive') } },
    defaultDestination: 'archive',
    // A quiet period of an hour: nothing becomes complete, so only the scan is measured.
    sync: { quietPeriod: '1h' },
  });
  const pause = new AbortController();
  t0 = performance.now(); // from the call, not Node's start-up and module loading
  await engine.watch(profile, {
    folders: [tree],
    dataset: 'scan',
    pauseSignal: pause.signal,
    onEvent: (e) => {
      if (e.type === 'scan-done') {
        out.scanMs = performance.now() - t0;
        out.files = e.files;
        out.rssAtScanDoneMB = process.memoryUsage().rss / 1048576;
        pause.abort();
      }
    },
  });
  await engine.close();
}
out.peakRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify(out) + '\n');
