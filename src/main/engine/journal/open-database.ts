// Opens a SQLite file with the settings every Beamdrop database uses and applies its migrations.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

export function openDatabase(file: string, migrations: readonly string[]): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // WAL: readers (status, UI) never block the writer. synchronous=NORMAL survives a killed
  // process; a power cut may lose the last few state changes, which resume re-derives from
  // the destination (an object already there with the same SHA-256 is not sent again).
  // First, so that a second process opening the same new file waits instead of failing.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Each step in an IMMEDIATE transaction that reads the version again: two processes opening a
  // new journal at the same instant never apply a step twice.
  let current = db.pragma('user_version', { simple: true }) as number;
  while (current < migrations.length) {
    current = db
      .transaction(() => {
        const v = db.pragma('user_version', { simple: true }) as number;
        if (v >= migrations.length) return v;
        db.exec(migrations[v]!);
        db.pragma(`user_version = ${v + 1}`);
        return v + 1;
      })
      .immediate();
  }
  if (current > migrations.length) {
    db.close();
    throw new Error(
      `${file} was written by a newer Beamdrop (schema ${current}, this one knows ${migrations.length}); upgrade Beamdrop.`,
    );
  }
  return db;
}
