/*
 * The bridge recovers from a store that fails under it, on real databases: a SQLite write lock held by
 * another process past the busy timeout, and a PostgreSQL server (a private one, started by this test on
 * its own port and folder, see test/postgres/private.ts) restarted in the middle of ingest. The source that
 * stopped restarts from its committed resume point; readiness says so while it is down; every line
 * appended is counted exactly once. Liveness fails only when a store write hangs (a table lock held in
 * PostgreSQL), and comes back when it settles.
 *
 * The bridge runs in this process (startBridge), without Mattermost; the log lines are Istio's TEXT format.
 */
import {spawn} from 'node:child_process';
import {appendFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Client} from 'pg';
import pino from 'pino';

import {loadConfig} from '../../server/bridge/config';
import {startBridge, type Bridge, type StartOptions} from '../../server/bridge/service';
import {createBridgeLogger} from '../../server/http';
import {startPrivatePostgres, type PrivatePostgres} from '../postgres/private';
import {blockedTls, freePort, waitFor} from './helpers';

jest.setTimeout(180_000);

const HOSTS = ['s3.us-gov-west-1.amazonaws.com', 'push.example.net', 'hooks.example.com'];
const unhandled: string[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(String(reason));
process.on('unhandledRejection', onUnhandled);

interface Run {
  dir: string;
  logFile: string;
  bridgeLog: string;
  bridge: Bridge;
  appended: number;
}

async function startRun(extraEnv: Record<string, string>, start: StartOptions = {}): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-recovery-'));
  const logFile = join(dir, 'istio-proxy.log');
  const bridgeLog = join(dir, 'bridge.log');
  writeFileSync(logFile, '');
  writeFileSync(bridgeLog, '');
  const config = loadConfig({
    EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'),
    EGRESS_ADVISOR_SOURCES: `file:${logFile}`,
    EGRESS_ADVISOR_LISTEN: `127.0.0.1:${await freePort()}`,
    EGRESS_ADVISOR_DIGEST_SECONDS: '1',
    LOG_LEVEL: 'debug',
    ...extraEnv,
  });
  const logger = createBridgeLogger({level: 'debug', destination: pino.destination({dest: bridgeLog, sync: true, append: true})});
  const bridge = await startBridge(config, logger, start);
  return {dir, logFile, bridgeLog, bridge, appended: 0};
}

function append(run: Run, lines: number): void {
  const text = Array.from(
    {length: lines},
    (_, i) => `${blockedTls(`203.0.113.${50 + ((run.appended + i) % HOSTS.length)}`, 443, HOSTS[(run.appended + i) % HOSTS.length])}\n`,
  ).join('');
  appendFileSync(run.logFile, text);
  run.appended += lines;
}

async function counted(run: Run): Promise<number> {
  let n = 0;
  for (const h of HOSTS) n += (await run.bridge.store.getFinding(`${h}:443`))?.count ?? 0;
  return n;
}

async function get(run: Run, path: string): Promise<{status: number; body: string}> {
  const r = await fetch(`${run.bridge.url}${path}`);
  return {status: r.status, body: await r.text()};
}

async function allCounted(run: Run, what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(what, async () => (await counted(run)) === run.appended, {timeoutMs, context: () => `counted ${run.appended} appended`});
  // Nothing more arrives later either: counted twice would show as more than appended.
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await counted(run)).toBe(run.appended);
}

async function restart(run: Run, extraEnv: Record<string, string>): Promise<void> {
  await run.bridge.stop();
  const config = loadConfig({
    EGRESS_ADVISOR_DATA_DIR: join(run.dir, 'data'),
    EGRESS_ADVISOR_SOURCES: `file:${run.logFile}`,
    EGRESS_ADVISOR_LISTEN: '127.0.0.1:0',
    ...extraEnv,
  });
  run.bridge = await startBridge(config, createBridgeLogger({level: 'debug', destination: pino.destination({dest: run.bridgeLog, sync: true, append: true})}));
}

async function finish(run: Run): Promise<void> {
  await run.bridge.stop();
  rmSync(run.dir, {recursive: true, force: true});
}

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

test('a SQLite write lock held past the busy timeout: the source restarts and nothing is lost or counted twice', async () => {
  const run = await startRun({});
  try {
    append(run, 30);
    await allCounted(run, 'the first lines counted');
    const db = join(run.dir, 'data', 'egress-advisor.db');
    // Another process holds the write lock for 9 s; the store waits 5 s (its busy timeout), then fails.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(db)}); db.exec('BEGIN IMMEDIATE'); console.log('locked'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 9000);`,
      ],
      {cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit']},
    );
    const exited = new Promise<number | null>((resolve) => holder.on('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    append(run, 20);
    const down = await waitFor('/readyz to say the source restarts', async () => {
      const r = await get(run, '/readyz');
      return r.status === 503 && r.body.includes('restarts from its committed resume point') ? r : null;
    });
    expect(down.body).toMatch(/source file:.*istio-proxy\.log/);
    // Restarting the process would not help: the bridge is alive.
    expect((await get(run, '/healthz')).status).toBe(200);
    expect(await exited).toBe(0);
    append(run, 25);
    await allCounted(run, 'every line appended during and after the lock counted once');
    await waitFor('/readyz ready again', async () => (await get(run, '/readyz')).status === 200);
    const metrics = (await get(run, '/metrics')).body;
    expect(Number(/egress_advisor_source_restarts_total\{source="[^"]+"\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);

    // What the bridge has seen of the mesh survives its restart, though no new line arrives.
    expect((await run.bridge.status()).hardening.state).toBe('registry-only');
    await restart(run, {});
    const after = await run.bridge.status();
    expect(after.hardening.state).toBe('registry-only');
    expect(after.counts.byStatus.open).toBe(HOSTS.length);
    expect(await counted(run)).toBe(run.appended);
  } finally {
    await finish(run);
  }
});

test('a flood of 60,000 IP-only destinations does not bury one blocked named host, and the overflow shows', async () => {
  const run = await startRun({});
  try {
    const flood: string[] = [];
    for (let i = 0; i < 60_000; i++) flood.push(`${blockedTls(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 8443, '-')}\n`);
    appendFileSync(run.logFile, flood.join(''));
    appendFileSync(run.logFile, `${blockedTls('203.0.113.42', 443, 's3.us-gov-west-1.amazonaws.com')}\n`);
    const s3 = await waitFor('the S3 finding after the flood', () => run.bridge.store.getFinding('s3.us-gov-west-1.amazonaws.com:443'), {timeoutMs: 120_000});
    expect(s3.count).toBe(1);
    const status = await run.bridge.status();
    expect(status.store).toMatchObject({maxFindings: 50_000});
    expect(status.store!.findings).toBeLessThanOrEqual(50_001);
    // Every line of the flood is either in a finding or counted as not kept.
    // Every flood destination is a finding, was removed to make room for S3, or is counted as not kept.
    expect(status.store!.findings - 1 + status.store!.evictedFindings + status.store!.overflowDestinations).toBe(60_000);
    expect(status.store!.evictedFindings).toBe(1);
    expect(status.store!.overflowLines).toBe(status.store!.overflowDestinations);
    await waitFor(
      'the overflow in /metrics',
      async () => /egress_advisor_store_overflow\{what="destinations"\} [1-9]/.test((await get(run, '/metrics')).body),
      {timeoutMs: 15_000},
    );
  } finally {
    await finish(run);
  }
}, 240_000);

describe('on a PostgreSQL server of its own', () => {
  let pg: PrivatePostgres;
  beforeAll(async () => {
    pg = await startPrivatePostgres();
  }, 120_000);
  afterAll(() => pg?.destroy());

  async function createDatabase(name: string): Promise<string> {
    const c = new Client({connectionString: pg.url});
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    return pg.url.replace(/\/postgres$/, `/${name}`);
  }

  test('a restart of PostgreSQL in the middle of ingest: nothing lost, nothing counted twice', async () => {
    const url = await createDatabase('restart_mid_ingest');
    const run = await startRun({EGRESS_ADVISOR_DATABASE_URL: url}, {leaderIntervalMs: 500});
    try {
      append(run, 40);
      await allCounted(run, 'the first lines counted');
      // Lines keep arriving while the server goes down and comes back.
      const writer = setInterval(() => append(run, 7), 50);
      await new Promise((r) => setTimeout(r, 500));
      pg.stopServer();
      const down = await waitFor('/readyz to say the source restarts', async () => {
        const r = await get(run, '/readyz');
        return r.status === 503 ? r : null;
      });
      expect(down.body).toContain('restarts from its committed resume point');
      expect((await get(run, '/healthz')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2_000));
      pg.startServer();
      await new Promise((r) => setTimeout(r, 1_000));
      clearInterval(writer);
      append(run, 13);
      await allCounted(run, 'every line counted once after the restart', 90_000);
      await waitFor('/readyz ready again', async () => (await get(run, '/readyz')).status === 200, {timeoutMs: 30_000});
    } finally {
      await finish(run);
    }
  });

  test('a store write that hangs makes /healthz fail until it settles', async () => {
    const url = await createDatabase('hanging_write');
    const run = await startRun({EGRESS_ADVISOR_DATABASE_URL: url}, {stuckMs: 2_000});
    const locker = new Client({connectionString: url});
    try {
      append(run, 5);
      await allCounted(run, 'the first lines counted');
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE resume_points IN ACCESS EXCLUSIVE MODE');
      append(run, 5);
      const wedged = await waitFor('/healthz to fail', async () => {
        const r = await get(run, '/healthz');
        return r.status === 503 ? r : null;
      });
      expect(JSON.parse(wedged.body)).toMatchObject({code: 'not_alive'});
      await locker.query('COMMIT');
      await waitFor('/healthz alive again', async () => (await get(run, '/healthz')).status === 200);
      await allCounted(run, 'the held lines counted once');
    } finally {
      await locker.end().catch(() => undefined);
      await finish(run);
    }
  });
});

test('no promise was left rejected', () => {
  expect(unhandled).toEqual([]);
});
