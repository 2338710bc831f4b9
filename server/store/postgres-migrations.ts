// The PostgreSQL schema, numbered and forward-only like migrations.ts (a released migration is never
// edited). Each runs in its own transaction together with its row in schema_migrations, under a
// transaction-level advisory lock, so replicas starting at once apply each migration exactly once.
//
// The tables mirror the SQLite ones: store times are epoch milliseconds (BIGINT), log times stay text,
// engine arrays and objects are JSON text (not jsonb, which rejects the \u0000 escape JSON.stringify
// writes for NUL). Text columns use the "C" collation so that sorting is by code point, as in SQLite.
import type {PoolClient} from 'pg';
import {SchemaTooNewError} from './errors';

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/** Key of the advisory lock that serialises migrations (two-int form: namespace, purpose). */
const MIGRATION_LOCK = [0x45475241, 1] as const;

const V1 = `
CREATE TABLE findings (
  key               TEXT COLLATE "C" PRIMARY KEY,
  status            TEXT NOT NULL CHECK (status IN ('open', 'ignored', 'resolved')),
  verdict           TEXT NOT NULL,
  protocol          TEXT NOT NULL,
  host              TEXT COLLATE "C",
  ip                TEXT COLLATE "C",
  port              INTEGER NOT NULL,
  count             BIGINT NOT NULL CHECK (count >= 0),
  first_seen        TEXT COLLATE "C",
  last_seen         TEXT COLLATE "C",
  pods              TEXT NOT NULL,
  samples           TEXT NOT NULL,
  attribution       TEXT NOT NULL,
  features          TEXT NOT NULL,
  advice            TEXT NOT NULL,
  rejected_host     TEXT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  status_changed_at BIGINT,
  resolved_at       BIGINT,
  ignored_by_id     TEXT,
  ignored_by_name   TEXT,
  ignored_reason    TEXT,
  ignored_at        BIGINT,
  alert_post_id     TEXT,
  revision          BIGINT NOT NULL
);
CREATE INDEX findings_status_last_seen ON findings (status, last_seen);
CREATE INDEX findings_updated_at ON findings (updated_at);

CREATE TABLE finding_history (
  key   TEXT COLLATE "C" NOT NULL,
  hour  BIGINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (key, hour)
);
CREATE INDEX finding_history_hour ON finding_history (hour);

CREATE TABLE decisions (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key         TEXT COLLATE "C" NOT NULL,
  action      TEXT NOT NULL CHECK (action IN ('ignore', 'unignore', 'resolve', 'reopen')),
  by_user_id  TEXT,
  by_username TEXT,
  reason      TEXT NOT NULL,
  at          BIGINT NOT NULL
);
CREATE INDEX decisions_key ON decisions (key, id);

CREATE TABLE resume_points (
  source_id  TEXT COLLATE "C" PRIMARY KEY,
  position   TEXT NOT NULL,
  seq        BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- An identity never hands out an id twice, so a late answer for a pruned item cannot hit a new one.
CREATE TABLE outbox (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind            TEXT NOT NULL,
  payload         TEXT NOT NULL,
  dedupe_key      TEXT COLLATE "C",
  state           TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'delivered', 'dead', 'superseded')),
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  attempts        INTEGER NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  claimed_until   BIGINT,
  claim_token     TEXT,
  last_error      TEXT,
  delivered_at    BIGINT,
  result          TEXT
);
CREATE UNIQUE INDEX outbox_pending_dedupe ON outbox (dedupe_key) WHERE state = 'pending' AND dedupe_key IS NOT NULL;
CREATE INDEX outbox_state_due ON outbox (state, next_attempt_at);

CREATE TABLE meta (
  key        TEXT COLLATE "C" PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
`;

// What the alert worker kept as meta strings (announced:<key> holding {"count","pods"} JSON,
// resolved-announced:<key> holding an ISO time) moves into a table of its own.
const V2 = `
CREATE TABLE alert_state (
  key                   TEXT COLLATE "C" PRIMARY KEY,
  announced_count       BIGINT NOT NULL DEFAULT 0,
  announced_pods        TEXT NOT NULL DEFAULT '[]',
  resolved_announced_at BIGINT,
  updated_at            BIGINT NOT NULL
);
INSERT INTO alert_state (key, announced_count, announced_pods, updated_at)
  SELECT substr(key, 11), COALESCE((value::json->>'count')::bigint, 0), COALESCE((value::json->'pods')::text, '[]'), updated_at
  FROM meta WHERE left(key, 10) = 'announced:';
INSERT INTO alert_state (key, resolved_announced_at, updated_at)
  SELECT substr(key, 20), (extract(epoch FROM value::timestamptz) * 1000)::bigint, updated_at
  FROM meta WHERE left(key, 19) = 'resolved-announced:'
  ON CONFLICT (key) DO UPDATE SET resolved_announced_at = EXCLUDED.resolved_announced_at;
DELETE FROM meta WHERE left(key, 10) = 'announced:' OR left(key, 19) = 'resolved-announced:';
`;

// Connection test results get a row each (see migrations.ts). The meta array's entries are carried over
// when they have an id, a kind and an ISO start time; a value PostgreSQL cannot read as such carries nothing
// rather than failing the migration.
const V3 = `
CREATE TABLE connection_tests (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id         TEXT COLLATE "C" NOT NULL UNIQUE,
  kind       TEXT COLLATE "C" NOT NULL,
  started_at BIGINT NOT NULL,
  result     TEXT NOT NULL
);
CREATE INDEX connection_tests_kind ON connection_tests (kind, started_at);
CREATE INDEX connection_tests_started ON connection_tests (started_at);
DO $$
BEGIN
  INSERT INTO connection_tests (id, kind, started_at, result)
    SELECT e->>'id', e->>'kind', (extract(epoch FROM (e->>'startedAt')::timestamptz) * 1000)::bigint, e::text
    FROM (SELECT value FROM meta WHERE key = 'connection-tests') AS m, LATERAL json_array_elements(m.value::json) WITH ORDINALITY AS a(e, n)
    WHERE json_typeof(e) = 'object'
      AND length(e->>'id') BETWEEN 1 AND 64
      AND length(e->>'kind') BETWEEN 1 AND 64
      AND (e->>'startedAt') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$'
    ORDER BY n DESC
    ON CONFLICT (id) DO NOTHING;
EXCEPTION WHEN OTHERS THEN
  -- Not a JSON array, or a time PostgreSQL cannot read: nothing is carried over, and the migration goes on.
  RAISE NOTICE 'connection test history not carried over: %', SQLERRM;
END $$;
DELETE FROM meta WHERE key = 'connection-tests';
`;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {version: 1, name: 'initial', sql: V1},
  {version: 2, name: 'alert state', sql: V2},
  {version: 3, name: 'connection tests', sql: V3},
];

export interface PgMigrationReport {
  from: number;
  to: number;
  applied: number[];
}

async function currentVersion(c: PoolClient): Promise<number> {
  const r = await c.query<{v: number | null}>('SELECT MAX(version) AS v FROM schema_migrations');
  return r.rows[0]?.v ?? 0;
}

/** Brings the database to the newest known version; refuses one written by a newer release. */
export async function migratePostgres(
  c: PoolClient,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
  now: () => number = Date.now,
): Promise<PgMigrationReport> {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  const applied: number[] = [];
  await c.query('BEGIN');
  try {
    await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...MIGRATION_LOCK]);
    await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK');
    throw e;
  }
  const from = await currentVersion(c);
  if (from > latest) throw new SchemaTooNewError(from, latest);
  for (const m of migrations) {
    if (m.version <= from) continue;
    await c.query('BEGIN');
    try {
      await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...MIGRATION_LOCK]);
      if ((await currentVersion(c)) < m.version) {
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now()]);
        applied.push(m.version);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK');
      throw e;
    }
  }
  return {from, to: Math.max(from, latest), applied};
}
