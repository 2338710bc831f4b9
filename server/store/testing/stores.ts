// Runs the store's suites against both implementations: SQLite in a temporary folder, and PostgreSQL in a
// database of its own created on the machine's server (EGRESS_ADVISOR_TEST_PG, default
// postgres://postgres@127.0.0.1:5432/postgres) and dropped afterwards. No server means a loud failure,
// never a skipped suite.
import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {Client} from 'pg';
import {openPostgresStore, type PostgresStoreOptions} from '../postgres';
import {openSqliteStore, type SqliteStoreOptions} from '../sqlite';
import type {Store} from '../types';

export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];

export type CommonStoreOptions = Pick<SqliteStoreOptions & PostgresStoreOptions, 'limits' | 'retention' | 'clock' | 'autoPruneMs'>;

export const ADMIN_URL = process.env.EGRESS_ADVISOR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function urlFor(database: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({connectionString: ADMIN_URL});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database; drop() ends whatever is still connected to it. */
export async function createTestDatabase(prefix = 'egress_test'): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: urlFor(name),
    drop: () =>
      admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
}

/** Empties every store table (identities restart), so each test starts from a fresh store. */
export async function emptyTestDatabase(url: string): Promise<void> {
  const c = new Client({connectionString: url});
  await c.connect();
  try {
    const t = await c.query<{n: number}>("SELECT COUNT(*)::int AS n FROM pg_tables WHERE tablename = 'findings'");
    if (t.rows[0].n > 0)
      await c.query('TRUNCATE findings, finding_history, decisions, resume_points, outbox, meta, alert_state, connection_tests RESTART IDENTITY');
  } finally {
    await c.end();
  }
}

/**
 * Where one test's store lives: a folder for SQLite, a database for PostgreSQL. Created once per test file
 * (beforeAll/afterAll); reset() before each test gives an empty store.
 */
export class TestStoreHome {
  private db: TestDatabase | null = null;
  dir = '';

  constructor(readonly kind: StoreKind) {}

  async setUp(): Promise<void> {
    if (this.kind === 'postgres') this.db = await createTestDatabase();
  }

  async reset(dir: string): Promise<void> {
    this.dir = dir;
    if (this.db !== null) await emptyTestDatabase(this.db.url);
  }

  get url(): string {
    if (this.db === null) throw new Error('not a PostgreSQL home');
    return this.db.url;
  }

  async open(opts: CommonStoreOptions = {}): Promise<Store> {
    if (this.kind === 'sqlite') return openSqliteStore(join(this.dir, 'store.db'), opts);
    return openPostgresStore(this.url, opts);
  }

  async tearDown(): Promise<void> {
    await this.db?.drop();
  }
}
