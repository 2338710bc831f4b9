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

const NEXT = SCHEMA_VERSION + 1;
const ALL = MIGRATIONS.map((m) => m.version);
const addColumn: Migration = {version: NEXT, name: 'finding notes', up: (db) => db.exec('ALTER TABLE findings ADD COLUMN note TEXT')};

describe('migrations', () => {
  it('creates the schema on an empty file, in WAL mode, and records each version', () => {
    const store = openSqliteStore(path);
    store.closeSync();
    expect(versions(path)).toEqual(ALL);
    expect(tables(path)).toEqual([
      'alert_state',
      'connection_tests',
      'decisions',
      'finding_history',
      'findings',
      'meta',
      'outbox',
      'resume_points',
      'schema_migrations',
    ]);
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
    expect(versions(path)).toEqual(ALL);
  });

  it('moves forward one numbered step at a time and keeps the data', async () => {
    const v1 = openSqliteStore(path);
    await v1.setMeta('bot-user-id', 'abc');
    await v1.close();
    const v2 = openSqliteStore(path, {migrations: [...MIGRATIONS, addColumn]});
    expect(await v2.getMeta('bot-user-id')).toBe('abc');
    await v2.close();
    expect(versions(path)).toEqual([...ALL, NEXT]);
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
    expect((error as SchemaTooNewError).databaseVersion).toBe(NEXT);
    expect((error as SchemaTooNewError).codeVersion).toBe(SCHEMA_VERSION);
    expect((error as Error).message).toMatch(new RegExp(`schema version ${NEXT}.*only knows versions up to ${SCHEMA_VERSION}.*newer release`));
    expect(versions(path)).toEqual([...ALL, NEXT]);
  });

  it('leaves the previous version in place when a migration fails half-way', () => {
    openSqliteStore(path).closeSync();
    const broken: Migration = {
      version: NEXT,
      name: 'broken',
      up: (db) => {
        db.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('migration bug');
      },
    };
    expect(() => openSqliteStore(path, {migrations: [...MIGRATIONS, broken]})).toThrow('migration bug');
    expect(versions(path)).toEqual(ALL);
    expect(tables(path)).not.toContain('half_done');
    openSqliteStore(path, {migrations: [...MIGRATIONS, addColumn]}).closeSync();
    expect(versions(path)).toEqual([...ALL, NEXT]);
  });

  it('rejects a migration list with gaps', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [...MIGRATIONS, {...addColumn, version: NEXT + 1}])).toThrow(new RegExp(`expected ${NEXT}`));
    db.close();
  });

  it('applies each migration once when two connections migrate the same file', () => {
    const a = new Database(path);
    const b = new Database(path);
    const counted: Migration = {version: NEXT, name: 'counted', up: (db) => db.exec('CREATE TABLE counted (x INTEGER)')};
    expect(migrate(a, [...MIGRATIONS, counted]).applied).toEqual([...ALL, NEXT]);
    expect(migrate(b, [...MIGRATIONS, counted]).applied).toEqual([]);
    a.close();
    b.close();
    expect(versions(path)).toEqual([...ALL, NEXT]);
  });

  it('moves the alert state kept as meta strings by version 1 into its table', async () => {
    const db = new Database(path);
    migrate(db, MIGRATIONS.slice(0, 1));
    const meta = db.prepare('INSERT INTO meta (key, value, updated_at) VALUES (?, ?, 1)');
    meta.run('announced:tls|s3.amazonaws.com:443', JSON.stringify({count: 7, pods: ['mm-0', 'mm-1']}));
    meta.run('resolved-announced:tls|s3.amazonaws.com:443', '2024-05-01T10:00:00.000Z');
    meta.run('announced:tcp|10.0.0.9:25', 'not json');
    meta.run('resolved-announced:tcp|1.2.3.4:80', '2024-05-02T00:00:00.000Z');
    meta.run('bot-user-id', 'abc');
    db.close();
    const store = openSqliteStore(path);
    expect(await store.getAlertState('tls|s3.amazonaws.com:443')).toEqual({
      key: 'tls|s3.amazonaws.com:443',
      announcedCount: 7,
      announcedPods: ['mm-0', 'mm-1'],
      resolvedAnnouncedAt: '2024-05-01T10:00:00.000Z',
    });
    expect(await store.getAlertState('tcp|10.0.0.9:25')).toEqual({key: 'tcp|10.0.0.9:25', announcedCount: 0, announcedPods: [], resolvedAnnouncedAt: null});
    expect((await store.getAlertState('tcp|1.2.3.4:80'))?.resolvedAnnouncedAt).toBe('2024-05-02T00:00:00.000Z');
    expect(await store.getMeta('announced:tls|s3.amazonaws.com:443')).toBeNull();
    expect(await store.getMeta('resolved-announced:tcp|1.2.3.4:80')).toBeNull();
    expect(await store.getMeta('bot-user-id')).toBe('abc');
    await store.close();
  });

  it('moves the connection test history kept as one meta value by version 2 into rows, leaving out what it cannot read', async () => {
    const db = new Database(path);
    migrate(db, MIGRATIONS.slice(0, 2));
    const entry = (id: string, startedAt: unknown) => ({id, kind: 's3', label: 'File storage (S3)', startedAt, outcome: 'passed', findingKeys: []});
    // Newest first, as the bridge wrote it.
    const history = [entry('new', '2026-12-07T12:05:00.000Z'), entry('no-time', 42), 'not an object', entry('old', '2026-12-07T12:00:00.000Z')];
    db.prepare('INSERT INTO meta (key, value, updated_at) VALUES (?, ?, 1)').run('connection-tests', JSON.stringify(history));
    db.prepare('INSERT INTO meta (key, value, updated_at) VALUES (?, ?, 1)').run('bot-user-id', 'abc');
    db.close();
    const store = openSqliteStore(path);
    expect(await store.listConnectionTests()).toEqual([entry('new', '2026-12-07T12:05:00.000Z'), entry('old', '2026-12-07T12:00:00.000Z')]);
    expect(await store.getMeta('connection-tests')).toBeNull();
    expect(await store.getMeta('bot-user-id')).toBe('abc');
    await store.close();
  });

  it('starts an empty connection test history when the meta value was not JSON', async () => {
    const db = new Database(path);
    migrate(db, MIGRATIONS.slice(0, 2));
    db.prepare('INSERT INTO meta (key, value, updated_at) VALUES (?, ?, 1)').run('connection-tests', '[{broken');
    db.close();
    const store = openSqliteStore(path);
    expect(await store.listConnectionTests()).toEqual([]);
    expect(await store.getMeta('connection-tests')).toBeNull();
    await store.close();
  });
});
