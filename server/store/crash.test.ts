// A batch and its resume point are one transaction: whatever stops the writer, the stored counts equal the
// lines the resume point says were consumed. Proven two ways: a failure injected by the database itself at
// the last statement of the transaction, and a real writer process killed with SIGKILL at random moments.
import Database from 'better-sqlite3';
import {join} from 'node:path';
import {Client} from 'pg';
import {openPostgresStore} from './postgres';
import {openSqliteStore} from './sqlite';
import {exited, forkTs, obs, removeDir, tempDir} from './testing/support';
import {createTestDatabase} from './testing/stores';

const WORKER = join(__dirname, 'testing', 'worker.ts');

// SQLite errors are matched by message, not with toThrow: better-sqlite3 builds them in the context that
// loaded it first, and jest gives every test file its own, so instanceof Error can fail across files.

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => removeDir(dir));

interface Totals {
  position: number;
  findings: number;
  history: number;
  digest: number | null;
}

/** Everything in one read transaction, so a concurrent writer cannot make the numbers disagree. */
function totals(db: Database.Database, sourceId: string): Totals {
  return db.transaction(() => {
    const rp = db.prepare('SELECT position FROM resume_points WHERE source_id = ?').get(sourceId) as {position: string} | undefined;
    const f = db.prepare('SELECT COALESCE(SUM(count), 0) AS n FROM findings').get() as {n: number};
    const h = db.prepare('SELECT COALESCE(SUM(count), 0) AS n FROM finding_history').get() as {n: number};
    const d = db.prepare("SELECT payload FROM outbox WHERE dedupe_key = 'digest' AND state = 'pending'").get() as {payload: string} | undefined;
    return {
      position: Number(rp?.position ?? 0),
      findings: f.n,
      history: h.n,
      digest: d === undefined ? null : Number((JSON.parse(d.payload) as {position: string}).position),
    };
  })();
}

describe('a failure inside the transaction', () => {
  it('rolls back the observations when the resume point cannot be written', async () => {
    const path = join(dir, 'store.db');
    // The checks count history rows of 2024 log times, which pruning by the real clock would remove.
    const store = openSqliteStore(path, {autoPruneMs: 0});
    await store.applyBatch({sourceId: 'file-a', from: null, position: '10', observations: [obs('203.0.113.1:443', 10)]});

    // The trigger fires on the transaction's last statement, after every finding and history row was written.
    const raw = new Database(path);
    raw.exec("CREATE TRIGGER fail_resume BEFORE UPDATE ON resume_points WHEN NEW.position = '25' BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    raw.close();

    await expect(
      store.applyBatch({
        sourceId: 'file-a',
        from: '10',
        position: '25',
        observations: [obs('203.0.113.1:443', 5), obs('203.0.113.9:443', 10)],
        notify: () => [{kind: 'alert-new', payload: {n: 1}, dedupeKey: 'x'}],
      }),
    ).rejects.toMatchObject({message: 'injected failure'});

    expect((await store.getFinding('203.0.113.1:443'))?.count).toBe(10);
    expect(await store.getFinding('203.0.113.9:443')).toBeNull();
    expect(await store.getHistory('203.0.113.1:443')).toEqual([{hour: '2024-05-01T10:00:00.000Z', count: 10}]);
    expect(await store.getHistory('203.0.113.9:443')).toEqual([]);
    expect((await store.getResumePoint('file-a'))?.position).toBe('10');
    expect(await store.outboxDepth()).toBe(0);

    // The same batch goes through once the cause is gone, exactly once.
    const fix = new Database(path);
    fix.exec('DROP TRIGGER fail_resume');
    fix.close();
    const ok = await store.applyBatch({sourceId: 'file-a', from: '10', position: '25', observations: [obs('203.0.113.1:443', 5), obs('203.0.113.9:443', 10)]});
    expect(ok.newKeys).toEqual(['203.0.113.9:443']);
    expect((await store.getFinding('203.0.113.1:443'))?.count).toBe(15);
    await store.close();
  });

  it('rolls back when a later observation of the batch fails to insert', async () => {
    const path = join(dir, 'store.db');
    const store = openSqliteStore(path);
    const raw = new Database(path);
    raw.exec("CREATE TRIGGER fail_insert BEFORE INSERT ON findings WHEN NEW.key = 'bad.example.test:443' BEGIN SELECT RAISE(ABORT, 'disk says no'); END");
    raw.close();
    await expect(
      store.applyBatch({
        sourceId: 's',
        from: null,
        position: '3',
        observations: [obs('203.0.113.1:443', 1), obs('203.0.113.2:443', 1), obs('bad.example.test:443', 1)],
      }),
    ).rejects.toMatchObject({message: 'disk says no'});
    expect((await store.listFindings()).total).toBe(0);
    expect(await store.getResumePoint('s')).toBeNull();
    await store.close();
  });

  it('rolls back when the notification callback throws', async () => {
    const store = openSqliteStore(join(dir, 'store.db'));
    await expect(
      store.applyBatch({
        sourceId: 's',
        from: null,
        position: '1',
        observations: [obs('203.0.113.1:443', 1)],
        notify: () => {
          throw new Error('cannot render');
        },
      }),
    ).rejects.toThrow('cannot render');
    expect(await store.getFinding('203.0.113.1:443')).toBeNull();
    expect(await store.getResumePoint('s')).toBeNull();
    await store.close();
  });
});

describe('a writer process killed with SIGKILL', () => {
  it('leaves counts, history and the outbox equal to the committed resume point, every time', async () => {
    const path = join(dir, 'store.db');
    openSqliteStore(path).closeSync();
    const observer = new Database(path, {readonly: true});
    let previous = 0;
    try {
      for (let round = 0; round < 4; round++) {
        const child = forkTs(dir, WORKER, ['write', path, 'k8s/mattermost-0']);
        let reported = 0;
        let commits = 0;
        child.on('message', (m: {committed?: number}) => {
          if (typeof m.committed === 'number') {
            reported = Math.max(reported, m.committed);
            commits += 1;
          }
        });
        const target = 10 + Math.floor(Math.random() * 30);
        try {
          // While the writer runs, every snapshot a reader takes must be consistent as well.
          while (commits < target) {
            if (child.exitCode !== null) throw new Error(`the writer exited with ${child.exitCode}`);
            const t = totals(observer, 'k8s/mattermost-0');
            expect(t.findings).toBe(t.position);
            expect(t.history).toBe(t.position);
            await new Promise((r) => setTimeout(r, 2));
          }
          await new Promise((r) => setTimeout(r, Math.random() * 20));
        } finally {
          child.kill('SIGKILL');
        }
        expect((await exited(child)).signal).toBe('SIGKILL');

        const t = totals(observer, 'k8s/mattermost-0');
        expect(t.findings).toBe(t.position);
        expect(t.history).toBe(t.position);
        expect(t.digest).toBe(t.position);
        // Nothing the writer saw committed is lost, and the next writer resumed where the last one stopped.
        expect(t.position).toBeGreaterThanOrEqual(reported);
        expect(t.position).toBeGreaterThan(previous);
        previous = t.position;
      }
    } finally {
      observer.close();
    }
    const store = openSqliteStore(path);
    const page = await store.listFindings({limit: 500});
    expect(page.items.reduce((n, f) => n + f.count, 0)).toBe(previous);
    expect((await store.getResumePoint('k8s/mattermost-0'))?.seq).toBeGreaterThan(40);
    await store.close();
  }, 60_000);
});

/** The same totals on PostgreSQL, from one REPEATABLE READ snapshot. */
async function pgTotals(c: Client, sourceId: string): Promise<Totals> {
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const rp = await c.query<{position: string}>('SELECT position FROM resume_points WHERE source_id = $1', [sourceId]);
    const f = await c.query<{n: string}>('SELECT COALESCE(SUM(count), 0) AS n FROM findings');
    const h = await c.query<{n: string}>('SELECT COALESCE(SUM(count), 0) AS n FROM finding_history');
    const d = await c.query<{payload: string}>("SELECT payload FROM outbox WHERE dedupe_key = 'digest' AND state = 'pending'");
    return {
      position: Number(rp.rows[0]?.position ?? 0),
      findings: Number(f.rows[0].n),
      history: Number(h.rows[0].n),
      digest: d.rows.length === 0 ? null : Number((JSON.parse(d.rows[0].payload) as {position: string}).position),
    };
  } finally {
    await c.query('COMMIT');
  }
}

describe('a PostgreSQL writer process killed with SIGKILL', () => {
  it('leaves counts, history and the outbox equal to the committed resume point, every time', async () => {
    const db = await createTestDatabase();
    const observer = new Client({connectionString: db.url});
    let previous = 0;
    try {
      await (await openPostgresStore(db.url)).close();
      await observer.connect();
      for (let round = 0; round < 3; round++) {
        const child = forkTs(dir, WORKER, ['pg-write', db.url, 'k8s/mattermost-0']);
        let reported = 0;
        let commits = 0;
        child.on('message', (m: {committed?: number}) => {
          if (typeof m.committed === 'number') {
            reported = Math.max(reported, m.committed);
            commits += 1;
          }
        });
        const target = 5 + Math.floor(Math.random() * 10);
        try {
          while (commits < target) {
            if (child.exitCode !== null) throw new Error(`the writer exited with ${child.exitCode}`);
            const t = await pgTotals(observer, 'k8s/mattermost-0');
            expect(t.findings).toBe(t.position);
            expect(t.history).toBe(t.position);
            await new Promise((r) => setTimeout(r, 5));
          }
          await new Promise((r) => setTimeout(r, Math.random() * 20));
        } finally {
          child.kill('SIGKILL');
        }
        expect((await exited(child)).signal).toBe('SIGKILL');
        // The server ends the killed client's session, rolling back whatever it had open.
        const t = await pgTotals(observer, 'k8s/mattermost-0');
        expect(t.findings).toBe(t.position);
        expect(t.history).toBe(t.position);
        expect(t.digest).toBe(t.position);
        expect(t.position).toBeGreaterThanOrEqual(reported);
        expect(t.position).toBeGreaterThan(previous);
        previous = t.position;
      }
    } finally {
      await observer.end().catch(() => undefined);
      await db.drop();
    }
  }, 120_000);
});
