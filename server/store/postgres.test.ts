// What only PostgreSQL has to prove: several replicas (here: several stores, each with its own pool of
// connections) writing one database at once, the NUL escape, failures inside applyBatch's transaction, and
// the migration table. The shared semantics run against both stores in findings/outbox/hostile tests.
import {Client} from 'pg';
import {SchemaTooNewError} from './errors';
import {openPostgresStore, type PostgresStore} from './postgres';
import {escapeNul, unescapeNul} from './postgres-db';
import {PG_MIGRATIONS} from './postgres-migrations';
import {obs} from './testing/support';
import {createTestDatabase, type TestDatabase} from './testing/stores';

let db: TestDatabase;
const open: PostgresStore[] = [];

async function store(opts: Parameters<typeof openPostgresStore>[1] = {}): Promise<PostgresStore> {
  const s = await openPostgresStore(db.url, {autoPruneMs: 0, ...opts});
  open.push(s);
  return s;
}

async function sql<R extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
  const c = new Client({connectionString: db.url});
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

beforeEach(async () => {
  db = await createTestDatabase();
}, 30_000);
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await db.drop();
}, 30_000);

describe('two replicas on one database', () => {
  it('applies the same batch once when both commit it at the same moment', async () => {
    const [a, b] = [await store(), await store()];
    for (const from of [null, '10']) {
      const position = from === null ? '10' : '25';
      const batch = {sourceId: 'k8s/mattermost-0', from, position, observations: [obs('203.0.113.1:443', 5), obs('203.0.113.2:443', 5)]};
      const results = await Promise.allSettled([a.applyBatch(batch), b.applyBatch(batch), a.applyBatch(batch), b.applyBatch(batch)]);
      const applied = results.filter((r) => r.status === 'fulfilled' && r.value.applied);
      const replays = results.filter((r) => r.status === 'fulfilled' && !r.value.applied);
      expect(applied).toHaveLength(1);
      expect(replays).toHaveLength(3);
    }
    expect((await a.getFinding('203.0.113.1:443'))?.count).toBe(10);
    expect(await b.getResumePoint('k8s/mattermost-0')).toMatchObject({position: '25', seq: 2});
  });

  it('adds up concurrent batches of different sources on the same new destinations', async () => {
    const [a, b] = [await store(), await store()];
    const keys = ['203.0.113.1:443', '203.0.113.2:443', 's3.example.test:443', 'x.example.test:80'];
    const run = async (s: PostgresStore, source: string, order: string[]): Promise<void> => {
      let from: string | null = null;
      for (let i = 1; i <= 20; i++) {
        const position = String(i);
        await s.applyBatch({sourceId: source, from, position, observations: order.map((k) => obs(k, 1))});
        from = position;
      }
    };
    await Promise.all([run(a, 'pod-a', keys), run(b, 'pod-b', [...keys].reverse()), run(a, 'pod-c', keys), run(b, 'pod-d', keys)]);
    for (const k of keys) expect((await a.getFinding(k))?.count).toBe(80);
    const history = await sql<{n: number}>('SELECT SUM(count)::int AS n FROM finding_history');
    expect(history[0].n).toBe(320);
  }, 60_000);

  it('hands each outbox item to exactly one replica', async () => {
    const [a, b, c] = [await store(), await store(), await store()];
    const total = 300;
    for (let i = 0; i < total; i++) await a.enqueue({kind: 'notice', payload: {i}});
    const drain = async (s: PostgresStore, name: string): Promise<number[]> => {
      const ids: number[] = [];
      for (;;) {
        const items = await s.claimDue(new Date(), 3, {leaseMs: 600_000});
        if (items.length === 0) return ids;
        await new Promise((r) => setTimeout(r, 1));
        for (const item of items) {
          ids.push(item.id);
          expect(await s.markDelivered(item.id, name)).toBe(true);
        }
      }
    };
    const ids = await Promise.all([drain(a, 'a'), drain(b, 'b'), drain(c, 'c')]);
    const all = ids.flat();
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
    expect(ids.filter((l) => l.length > 0).length).toBeGreaterThan(1);
    const rows = await sql<{state: string; attempts: number; n: number}>('SELECT state, attempts, COUNT(*)::int AS n FROM outbox GROUP BY state, attempts');
    expect(rows).toEqual([{state: 'delivered', attempts: 1, n: total}]);
  }, 60_000);

  it('keeps one pending item per dedupe key however many replicas enqueue at once', async () => {
    const [a, b] = [await store(), await store()];
    const results = await Promise.all(
      Array.from({length: 60}, (_, i) => (i % 2 === 0 ? a : b).enqueue({kind: 'digest-update', payload: {n: i}, dedupeKey: 'digest'})),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => !r.merged)).toHaveLength(1);
    expect(await a.outboxDepth()).toBe(1);
  });

  it('sees the other replica decisions and meta at once', async () => {
    const [a, b] = [await store(), await store()];
    await a.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('203.0.113.1:443', 1)]});
    await b.ignore('203.0.113.1:443', {userId: 'u1', username: 'alice'}, 'known');
    expect((await a.getFinding('203.0.113.1:443'))?.status).toBe('ignored');
    await a.unignore('203.0.113.1:443', {userId: 'u1', username: 'alice'});
    expect((await b.getFinding('203.0.113.1:443'))?.status).toBe('open');
    expect((await b.listDecisions('203.0.113.1:443')).map((d) => d.action)).toEqual(['ignore', 'unignore']);
    expect(await a.setMetaIfAbsent('hmac-key', 'first')).toBe('first');
    expect(await b.setMetaIfAbsent('hmac-key', 'second')).toBe('first');
  });
});

describe('a failure inside applyBatch', () => {
  it('rolls back the observations, history and outbox when the resume point cannot be written', async () => {
    const s = await store();
    await s.applyBatch({sourceId: 'file-a', from: null, position: '10', observations: [obs('203.0.113.1:443', 10)]});
    await sql(`CREATE FUNCTION fail_resume() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.position = '25' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`);
    await sql('CREATE TRIGGER fail_resume BEFORE UPDATE ON resume_points FOR EACH ROW EXECUTE FUNCTION fail_resume()');
    const batch = {
      sourceId: 'file-a',
      from: '10',
      position: '25',
      observations: [obs('203.0.113.1:443', 5), obs('203.0.113.9:443', 10)],
      notify: () => [{kind: 'alert-new' as const, payload: {n: 1}, dedupeKey: 'x'}],
    };
    await expect(s.applyBatch(batch)).rejects.toMatchObject({message: 'injected failure'});
    expect((await s.getFinding('203.0.113.1:443'))?.count).toBe(10);
    expect(await s.getFinding('203.0.113.9:443')).toBeNull();
    expect(await s.getHistory('203.0.113.1:443')).toEqual([{hour: '2024-05-01T10:00:00.000Z', count: 10}]);
    expect((await s.getResumePoint('file-a'))?.position).toBe('10');
    expect(await s.outboxDepth()).toBe(0);
    await sql('DROP TRIGGER fail_resume ON resume_points');
    expect((await s.applyBatch(batch)).newKeys).toEqual(['203.0.113.9:443']);
    expect((await s.getFinding('203.0.113.1:443'))?.count).toBe(15);
  });

  it('survives the database ending its connections, and is whole afterwards', async () => {
    const s = await store();
    await s.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('203.0.113.1:443', 1)]});
    await sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    // The pool drops the dead connections; the next calls open new ones.
    let ok = false;
    for (let i = 0; i < 3 && !ok; i++) {
      try {
        await s.applyBatch({sourceId: 's', from: '1', position: '2', observations: [obs('203.0.113.1:443', 1)]});
        ok = true;
      } catch {
        // a connection that was already dead when it was handed out
      }
    }
    expect(ok).toBe(true);
    expect((await s.getFinding('203.0.113.1:443'))?.count).toBe(2);
  });
});

describe('NUL, which PostgreSQL text cannot hold', () => {
  it('is escaped reversibly, with the escape character itself escaped', () => {
    for (const v of ['', 'plain', '\u0000', 'a\u0000b', '\u0001', '\u00010', '\u0001\u0000\u0001\u0001', '0\u0000\u00010']) {
      expect(unescapeNul(escapeNul(v))).toBe(v);
      expect(escapeNul(v)).not.toContain('\u0000');
    }
    expect(escapeNul('a\u0000b')).not.toBe(escapeNul('a\u00010b'));
  });

  it('is stored escaped and read back as given', async () => {
    const s = await store();
    const key = 'a\u0000b:443';
    await s.applyBatch({sourceId: 'src\u0000', from: null, position: 'p\u0000', observations: [obs(key, 1, {pods: ['\u0000\u0001']})]});
    expect(await s.getFinding(key)).toMatchObject({key, pods: ['\u0000\u0001']});
    expect(await s.getFinding('a\u00010b:443')).toBeNull();
    expect((await s.getResumePoint('src\u0000'))?.position).toBe('p\u0000');
    const raw = await sql<{key: string}>('SELECT key FROM findings');
    expect(raw.map((r) => r.key)).toEqual(['a\u00010b:443']);
  });
});

describe('migrations', () => {
  it('records each version once, even when replicas open the database at the same time', async () => {
    await Promise.all([store(), store(), store()]);
    expect(await sql('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual(PG_MIGRATIONS.map((m) => ({version: m.version, name: m.name})));
  });

  it('moves the alert state kept as meta strings by version 1 into its table', async () => {
    (await store({migrations: PG_MIGRATIONS.slice(0, 1)})).close();
    const meta = 'INSERT INTO meta (key, value, updated_at) VALUES ($1, $2, 1)';
    await sql(meta, ['announced:tls|s3.amazonaws.com:443', JSON.stringify({count: 7, pods: ['mm-0', 'mm-1']})]);
    await sql(meta, ['resolved-announced:tls|s3.amazonaws.com:443', '2024-05-01T10:00:00.000Z']);
    await sql(meta, ['resolved-announced:tcp|1.2.3.4:80', '2024-05-02T00:00:00.000Z']);
    await sql(meta, ['bot-user-id', 'abc']);
    const s = await store();
    expect(await s.getAlertState('tls|s3.amazonaws.com:443')).toEqual({
      key: 'tls|s3.amazonaws.com:443',
      announcedCount: 7,
      announcedPods: ['mm-0', 'mm-1'],
      resolvedAnnouncedAt: '2024-05-01T10:00:00.000Z',
    });
    expect(await s.getAlertState('tcp|1.2.3.4:80')).toEqual({
      key: 'tcp|1.2.3.4:80',
      announcedCount: 0,
      announcedPods: [],
      resolvedAnnouncedAt: '2024-05-02T00:00:00.000Z',
    });
    expect(await s.getMeta('announced:tls|s3.amazonaws.com:443')).toBeNull();
    expect(await s.getMeta('bot-user-id')).toBe('abc');
  });

  it('moves the connection test history kept as one meta value by version 2 into rows, leaving out what it cannot read', async () => {
    (await store({migrations: PG_MIGRATIONS.slice(0, 2)})).close();
    const entry = (id: string, startedAt: unknown) => ({id, kind: 's3', label: 'File storage (S3)', startedAt, outcome: 'passed', findingKeys: []});
    const history = [entry('new', '2026-12-07T12:05:00.000Z'), entry('no-time', 42), 'not an object', entry('old', '2026-12-07T12:00:00.000Z')];
    await sql('INSERT INTO meta (key, value, updated_at) VALUES ($1, $2, 1)', ['connection-tests', JSON.stringify(history)]);
    await sql('INSERT INTO meta (key, value, updated_at) VALUES ($1, $2, 1)', ['bot-user-id', 'abc']);
    const s = await store();
    expect(await s.listConnectionTests()).toEqual([entry('new', '2026-12-07T12:05:00.000Z'), entry('old', '2026-12-07T12:00:00.000Z')]);
    expect(await s.getMeta('connection-tests')).toBeNull();
    expect(await s.getMeta('bot-user-id')).toBe('abc');
  });

  it('starts an empty connection test history when the meta value was not JSON, and the migration still applies', async () => {
    (await store({migrations: PG_MIGRATIONS.slice(0, 2)})).close();
    await sql('INSERT INTO meta (key, value, updated_at) VALUES ($1, $2, 1)', ['connection-tests', '[{broken']);
    const s = await store();
    expect(await s.listConnectionTests()).toEqual([]);
    expect(await s.getMeta('connection-tests')).toBeNull();
    expect((await sql('SELECT MAX(version) AS v FROM schema_migrations'))[0]).toEqual({v: PG_MIGRATIONS.length});
  });

  it('refuses a database written by a newer release', async () => {
    await store();
    await sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)");
    await expect(openPostgresStore(db.url)).rejects.toBeInstanceOf(SchemaTooNewError);
  });

  it('keeps everything across close and reopen', async () => {
    const s = await store();
    await s.applyBatch({
      sourceId: 's',
      from: null,
      position: '1',
      observations: [obs('203.0.113.1:443', 3)],
      notify: () => [{kind: 'digest-update', payload: {t: 3}, dedupeKey: 'd'}],
    });
    await s.setMeta('slash-tokens', '["t"]');
    await s.close();
    const again = await store();
    expect((await again.getFinding('203.0.113.1:443'))?.count).toBe(3);
    expect(await again.getMeta('slash-tokens')).toBe('["t"]');
    expect((await again.claimDue(new Date(), 10)).map((c) => c.payload)).toEqual([{t: 3}]);
  });
});
