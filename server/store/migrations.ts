// Numbered, forward-only schema changes. A released migration is never edited: a change is a new number.
// Each runs in its own write transaction together with its row in schema_migrations, so a crash leaves the
// database at the previous version, never half-way.
import type Database from 'better-sqlite3';
import type {ConnectionTestResult} from '../../common/connection-tests';
import {connectionTestRow, LEGACY_HISTORY_META} from './connection-tests';
import {SchemaTooNewError} from './errors';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

function sql(statements: string): (db: Database.Database) => void {
  return (db) => db.exec(statements);
}

// Store times are epoch milliseconds (INTEGER) so that due-time comparisons are numeric; times from log
// lines stay the text they were logged as. Arrays and objects from the engine are JSON text.
const V1 = `
CREATE TABLE findings (
  key               TEXT PRIMARY KEY,
  status            TEXT NOT NULL CHECK (status IN ('open', 'ignored', 'resolved')),
  verdict           TEXT NOT NULL,
  protocol          TEXT NOT NULL,
  host              TEXT,
  ip                TEXT,
  port              INTEGER NOT NULL,
  count             INTEGER NOT NULL CHECK (count >= 0),
  first_seen        TEXT,
  last_seen         TEXT,
  pods              TEXT NOT NULL,
  samples           TEXT NOT NULL,
  attribution       TEXT NOT NULL,
  features          TEXT NOT NULL,
  advice            TEXT NOT NULL,
  rejected_host     TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  status_changed_at INTEGER,
  resolved_at       INTEGER,
  ignored_by_id     TEXT,
  ignored_by_name   TEXT,
  ignored_reason    TEXT,
  ignored_at        INTEGER,
  alert_post_id     TEXT,
  revision          INTEGER NOT NULL
);
CREATE INDEX findings_status_last_seen ON findings (status, last_seen);
CREATE INDEX findings_updated_at ON findings (updated_at);

CREATE TABLE finding_history (
  key   TEXT NOT NULL,
  hour  INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key, hour)
) WITHOUT ROWID;
CREATE INDEX finding_history_hour ON finding_history (hour);

CREATE TABLE decisions (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  key         TEXT NOT NULL,
  action      TEXT NOT NULL CHECK (action IN ('ignore', 'unignore', 'resolve', 'reopen')),
  by_user_id  TEXT,
  by_username TEXT,
  reason      TEXT NOT NULL,
  at          INTEGER NOT NULL
);
CREATE INDEX decisions_key ON decisions (key, id);

CREATE TABLE resume_points (
  source_id  TEXT PRIMARY KEY,
  position   TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- AUTOINCREMENT: an id is never reused after pruning, so a late answer for an old item cannot hit a new one.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  kind            TEXT NOT NULL,
  payload         TEXT NOT NULL,
  dedupe_key      TEXT,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'delivered', 'dead', 'superseded')),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  claimed_until   INTEGER,
  claim_token     TEXT,
  last_error      TEXT,
  delivered_at    INTEGER,
  result          TEXT
);
-- Only a pending item absorbs newer payloads: one being delivered must not change under its worker.
CREATE UNIQUE INDEX outbox_pending_dedupe ON outbox (dedupe_key) WHERE state = 'pending' AND dedupe_key IS NOT NULL;
CREATE INDEX outbox_state_due ON outbox (state, next_attempt_at);

CREATE TABLE meta (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`;

const ANNOUNCED_META = 'announced:';
const RESOLVED_ANNOUNCED_META = 'resolved-announced:';

/** What the alert worker kept as meta strings (`announced:<key>`, `resolved-announced:<key>`) gets a table. */
function alertState(db: Database.Database): void {
  db.exec(`
CREATE TABLE alert_state (
  key                   TEXT PRIMARY KEY,
  announced_count       INTEGER NOT NULL DEFAULT 0,
  announced_pods        TEXT NOT NULL DEFAULT '[]',
  resolved_announced_at INTEGER,
  updated_at            INTEGER NOT NULL
);`);
  const announced = db.prepare(
    `INSERT INTO alert_state (key, announced_count, announced_pods, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET announced_count = excluded.announced_count, announced_pods = excluded.announced_pods`,
  );
  const resolved = db.prepare(
    `INSERT INTO alert_state (key, resolved_announced_at, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET resolved_announced_at = excluded.resolved_announced_at`,
  );
  const rows = db
    .prepare('SELECT key, value, updated_at FROM meta WHERE substr(key, 1, 10) = ? OR substr(key, 1, 19) = ?')
    .all(ANNOUNCED_META, RESOLVED_ANNOUNCED_META) as {
    key: string;
    value: string;
    updated_at: number;
  }[];
  for (const r of rows) {
    if (r.key.startsWith(ANNOUNCED_META)) {
      let count = 0;
      let pods: unknown = [];
      try {
        const v = JSON.parse(r.value) as {count?: unknown; pods?: unknown};
        if (Number.isSafeInteger(v.count)) count = v.count as number;
        if (Array.isArray(v.pods)) pods = v.pods.filter((p) => typeof p === 'string');
      } catch {
        // A value this release did not write: the next thread reply states everything again.
      }
      announced.run(r.key.slice(ANNOUNCED_META.length), count, JSON.stringify(pods), r.updated_at);
    } else {
      const t = Date.parse(r.value);
      if (Number.isFinite(t)) resolved.run(r.key.slice(RESOLVED_ANNOUNCED_META.length), t, r.updated_at);
    }
  }
  db.prepare('DELETE FROM meta WHERE substr(key, 1, 10) = ? OR substr(key, 1, 19) = ?').run(ANNOUNCED_META, RESOLVED_ANNOUNCED_META);
}

/**
 * Connection test results get a row each (they were one JSON array in meta, which two replicas testing at
 * once could overwrite). The array's readable entries are carried over; the meta value goes.
 */
function connectionTests(db: Database.Database): void {
  db.exec(`
CREATE TABLE connection_tests (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  id         TEXT NOT NULL UNIQUE,
  kind       TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  result     TEXT NOT NULL
);
CREATE INDEX connection_tests_kind ON connection_tests (kind, started_at);
CREATE INDEX connection_tests_started ON connection_tests (started_at);`);
  const row = db.prepare<[string], {value: string}>('SELECT value FROM meta WHERE key = ?').get(LEGACY_HISTORY_META);
  let entries: unknown = [];
  try {
    entries = JSON.parse(row?.value ?? '[]');
  } catch {
    // Not JSON: nothing to carry over.
  }
  const insert = db.prepare('INSERT INTO connection_tests (id, kind, started_at, result) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING');
  // Oldest first, so that insertion order agrees with time.
  for (const e of (Array.isArray(entries) ? entries : []).reverse()) {
    try {
      const r = connectionTestRow(e as ConnectionTestResult);
      insert.run(r.id, r.kind, r.started_at, r.result);
    } catch {
      // An entry this release cannot read is left out.
    }
  }
  db.prepare('DELETE FROM meta WHERE key = ?').run(LEGACY_HISTORY_META);
}

export const MIGRATIONS: readonly Migration[] = [
  {version: 1, name: 'initial', up: sql(V1)},
  {version: 2, name: 'alert state', up: alertState},
  {version: 3, name: 'connection tests', up: connectionTests},
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export interface MigrationReport {
  from: number;
  to: number;
  applied: number[];
}

function currentVersion(db: Database.Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {v: number | null};
  return row.v ?? 0;
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
}

/** Brings the database to the newest known version; refuses one written by a newer release. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS, now: () => number = Date.now): MigrationReport {
  checkList(migrations);
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const from = currentVersion(db);
  if (from > latest) throw new SchemaTooNewError(from, latest);
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (m.version <= from) continue;
    // IMMEDIATE takes the write lock before reading the version, so two processes opening the same file at
    // once apply each migration exactly once.
    db.transaction(() => {
      if (currentVersion(db) >= m.version) return;
      m.up(db);
      record.run(m.version, m.name, now());
      applied.push(m.version);
    }).immediate();
  }
  return {from, to: Math.max(from, latest), applied};
}
