// Leader election on the machine's PostgreSQL: one leader at a time, a follower takes over when the leader
// stops or its session is killed, and a leader that loses its session steps down.
import {Client} from 'pg';
import {createTestDatabase, type TestDatabase} from '../store/testing/stores';
import {PgLeaderElection, SoleLeader} from './leader';

jest.setTimeout(30_000);

let db: TestDatabase;
const elections: PgLeaderElection[] = [];

function election(): PgLeaderElection {
  const e = new PgLeaderElection(db.url, {intervalMs: 200, checkTimeoutMs: 2_000, key: '4242424242'});
  elections.push(e);
  return e;
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<number> {
  const t0 = Date.now();
  while (!probe()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

beforeAll(async () => {
  db = await createTestDatabase('egress_leader');
}, 30_000);
afterEach(async () => {
  for (const e of elections.splice(0)) await e.stop();
});
afterAll(() => db.drop(), 30_000);

it('elects exactly one of several replicas', async () => {
  const all = [election(), election(), election()];
  await Promise.all(all.map((e) => e.start()));
  await new Promise((r) => setTimeout(r, 600));
  expect(all.filter((e) => e.isLeader())).toHaveLength(1);
});

it('hands over within a few intervals when the leader stops, with events on both sides', async () => {
  const a = election();
  const b = election();
  const events: string[] = [];
  a.on('elected', () => events.push('a elected')).on('deposed', () => events.push('a deposed'));
  b.on('elected', () => events.push('b elected')).on('deposed', () => events.push('b deposed'));
  await a.start();
  await b.start();
  expect(a.isLeader()).toBe(true);
  expect(b.isLeader()).toBe(false);
  await a.stop();
  expect(await until('b to lead', () => b.isLeader())).toBeLessThan(2_000);
  expect(events).toEqual(['a elected', 'a deposed', 'b elected']);
});

it('steps down when its session is killed, and one replica leads again within seconds', async () => {
  const a = election();
  const b = election();
  let deposed = 0;
  a.on('deposed', () => (deposed += 1));
  await a.start();
  await b.start();
  expect(a.isLeader()).toBe(true);
  const c = new Client({connectionString: db.url});
  await c.connect();
  try {
    // The session holding the advisory lock in this database (other suites hold their own elsewhere); the
    // follower's session holds none.
    const r = await c.query<{pid: number}>(
      `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
       WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()`,
    );
    expect(r.rows).toHaveLength(1);
    await c.query('SELECT pg_terminate_backend($1)', [r.rows[0].pid]);
  } finally {
    await c.end();
  }
  await until('a to step down', () => deposed === 1);
  // Whichever replica takes the free lock first (the follower, or the old leader on a new session) leads;
  // never both, never none for long.
  await until('a leader again', () => a.isLeader() || b.isLeader(), 5_000);
  for (let i = 0; i < 20; i++) {
    expect(Number(a.isLeader()) + Number(b.isLeader())).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
  }
});

it('a single process without PostgreSQL always leads', async () => {
  const s = new SoleLeader();
  const seen: string[] = [];
  s.on('elected', () => seen.push('elected'));
  await s.start();
  expect(s.isLeader()).toBe(true);
  await s.stop();
  expect(s.isLeader()).toBe(false);
  expect(seen).toEqual(['elected']);
});
