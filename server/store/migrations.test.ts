import Database from 'better-sqlite3';
import {join} from 'node:path';
import {SchemaTooNewError} from './errors';
import {MIGRATIONS, SCHEMA_VERSION, migrate, type Migration} from './migrations';
import {openSqliteStore} from './sqlite';
import {removeDir, tempDir} from './testing/support';

let dir: string;
let path: string;
beforeEach(() => {
  dir = tempDir();
  path = join(dir, 'store.db');
});
afterEach(() => removeDir(dir));

function versions(p: string): number[] {
  const db = new Database(p, {readonly: true});
  try {
    return (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {version: number}[]).map((r) => r.version);
  } finally {
    db.close();
  }
}

function tables(p: string): string[] {
  const db = new Database(p, {readonly: true});
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as {name: string}[]).map(
      (r) => r.name,
    );
  } finally {
    db.close();
  }
}

const addColumn: Migration = {version: 2, name: 'finding notes', up: (db) => db.exec('ALTER TABLE findings ADD COLUMN note TEXT')};

describe('migrations', () => {
  it('creates the schema on an empty file, in WAL mode, and records each version', () => {
    const store = openSqliteStore(path);
    store.closeSync();
    expect(versions(path)).toEqual([SCHEMA_VERSION]);
    expect(tables(path)).toEqual(['decisions', 'finding_history', 'findings', 'meta', 'outbox', 'resume_points', 'schema_migrations']);
    const db = new Database(path, {readonly: true});
    expect(db.pragma('journal_mode', {simple: true})).toBe('wal');
    db.close();
  });

  it('applies nothing when reopened at the current version', () => {
    openSqliteStore(path).closeSync();
    const db = new Database(path);
    expect(migrate(db)).toEqual({from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: []});
    db.close();
    openSqliteStore(path).closeSync();
    expect(versions(path)).toEqual([1]);
  });

  it('moves forward one numbered step at a time and keeps the data', async () => {
    const v1 = openSqliteStore(path);
    await v1.setMeta('bot-user-id', 'abc');
    await v1.close();
    const v2 = openSqliteStore(path, {migrations: [...MIGRATIONS, addColumn]});
    expect(await v2.getMeta('bot-user-id')).toBe('abc');
    await v2.close();
    expect(versions(path)).toEqual([1, 2]);
    const db = new Database(path, {readonly: true});
    expect((db.prepare('PRAGMA table_info(findings)').all() as {name: string}[]).map((c) => c.name)).toContain('note');
    db.close();
  });

  it('refuses a database written by a newer release, with a clear error, and leaves it untouched', () => {
    openSqliteStore(path, {migrations: [...MIGRATIONS, addColumn]}).closeSync();
    let error: unknown;
    try {
      openSqliteStore(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect((error as SchemaTooNewError).databaseVersion).toBe(2);
    expect((error as SchemaTooNewError).codeVersion).toBe(1);
    expect((error as Error).message).toMatch(/schema version 2.*only knows versions up to 1.*newer release/);
    expect(versions(path)).toEqual([1, 2]);
  });

  it('leaves the previous version in place when a migration fails half-way', () => {
    openSqliteStore(path).closeSync();
    const broken: Migration = {
      version: 2,
      name: 'broken',
      up: (db) => {
        db.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('migration bug');
      },
    };
    expect(() => openSqliteStore(path, {migrations: [...MIGRATIONS, broken]})).toThrow('migration bug');
    expect(versions(path)).toEqual([1]);
    expect(tables(path)).not.toContain('half_done');
    openSqliteStore(path, {migrations: [...MIGRATIONS, addColumn]}).closeSync();
    expect(versions(path)).toEqual([1, 2]);
  });

  it('rejects a migration list with gaps', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [MIGRATIONS[0], {...addColumn, version: 3}])).toThrow(/expected 2/);
    db.close();
  });

  it('applies each migration once when two connections migrate the same file', () => {
    const a = new Database(path);
    const b = new Database(path);
    const counted: Migration = {version: 2, name: 'counted', up: (db) => db.exec('CREATE TABLE counted (x INTEGER)')};
    expect(migrate(a, [...MIGRATIONS, counted]).applied).toEqual([1, 2]);
    expect(migrate(b, [...MIGRATIONS, counted]).applied).toEqual([]);
    a.close();
    b.close();
    expect(versions(path)).toEqual([1, 2]);
  });
});
