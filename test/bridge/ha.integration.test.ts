/*
 * Two bridge replicas as two real processes (test/bridge/ha-replica.ts) sharing one fresh PostgreSQL
 * database (EGRESS_ADVISOR_DATABASE_URL), against a real Mattermost (test/mattermost/harness.ts).
 *
 * Exactly one replica leads: it sets Mattermost up and posts; both ingest (each its own log file, as two
 * pods each follow the istio-proxy logs they are given) and share findings and outbox. Then the leader is
 * killed with SIGKILL inside a digest window, after the new destination was committed but before its alert
 * was posted: the follower must take over within seconds and the alert must arrive exactly once.
 *
 * Needs the Mattermost server binary and a running PostgreSQL; fails, never skips, without them.
 */
import type {ChildProcess} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {Client4} from '@mattermost/client';
import type {Post} from '@mattermost/types/posts';

import {readAlertData} from '../../common/alert';
import {signatureHeaders} from '../../server/http/signature';
import {openPostgresStore, type PostgresStore} from '../../server/store/postgres';
import {exited, forkTs} from '../../server/store/testing/support';
import {createTestDatabase, type TestDatabase} from '../../server/store/testing/stores';
import {startMattermost, type MattermostServer} from '../mattermost/harness';
import {alertPosts, blockedTls, channelPosts, freePort, waitFor} from './helpers';

jest.setTimeout(180_000);

const REPLICA = join(__dirname, 'ha-replica.ts');
const CHANNEL_NAME = 'egress-advisor';
const DIGEST_SECONDS = 4;
const FIRST = {ip: '203.0.113.61', host: 'api.github.com', key: 'api.github.com:443'};
const SECOND = {ip: '203.0.113.62', host: 'jira.example.org', key: 'jira.example.org:443'};

interface Replica {
  name: string;
  child: ChildProcess;
  port: number;
  logFile: string;
  bridgeLog: string;
  leader: boolean;
  ready: Promise<void>;
  /** Times (ms) this replica became leader. */
  elections: number[];
}

let mm: MattermostServer;
let admin: Client4;
let db: TestDatabase;
let dir: string;
let store: PostgresStore;
const replicas: Replica[] = [];

function context(): string {
  return replicas
    .map((r) => {
      let log: string;
      try {
        log = readFileSync(r.bridgeLog, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
      } catch {
        log = '(no log)';
      }
      return `--- replica ${r.name} (leader: ${r.leader}, exit: ${r.child.exitCode ?? r.child.signalCode ?? 'running'})\n${log}`;
    })
    .join('\n');
}

async function startReplica(name: string): Promise<Replica> {
  const port = await freePort();
  const logFile = join(dir, `${name}-istio-proxy.log`);
  const bridgeLog = join(dir, `${name}-bridge.log`);
  writeFileSync(logFile, '');
  writeFileSync(bridgeLog, '');
  const env = {
    ...process.env,
    EGRESS_ADVISOR_DATABASE_URL: db.url,
    EGRESS_ADVISOR_DATA_DIR: join(dir, `${name}-data`),
    EGRESS_ADVISOR_SOURCES: `file:${logFile}`,
    MATTERMOST_URL: mm.url,
    MATTERMOST_TOKEN: mm.adminToken,
    EGRESS_ADVISOR_TEAM: mm.team.name,
    EGRESS_ADVISOR_LISTEN: `127.0.0.1:${port}`,
    EGRESS_ADVISOR_PUBLIC_URL: `http://127.0.0.1:${port}`,
    EGRESS_ADVISOR_DIGEST_SECONDS: String(DIGEST_SECONDS),
    EGRESS_ADVISOR_UPDATE_SECONDS: '600',
    LOG_LEVEL: 'debug',
    HA_REPLICA_LOG: bridgeLog,
  };
  const real = forkTs(dir, REPLICA, [], env);
  const replica: Replica = {name, child: real, port, logFile, bridgeLog, leader: false, ready: Promise.resolve(), elections: []};
  replica.ready = new Promise<void>((resolve, reject) => {
    real.on('message', (m: {ready?: boolean; leader?: boolean; at?: number}) => {
      if (typeof m.leader === 'boolean') {
        if (m.leader && !replica.leader) replica.elections.push(m.at ?? Date.now());
        replica.leader = m.leader;
      }
      if (m.ready) resolve();
    });
    real.once('exit', (code, signal) => reject(new Error(`replica ${name} exited (${code ?? signal}) before it was ready\n${context()}`)));
  });
  replicas.push(replica);
  await replica.ready;
  return replica;
}

function append(r: Replica, lines: readonly string[]): void {
  appendFileSync(r.logFile, lines.map((l) => `${l}\n`).join(''));
}

async function adminChannelId(): Promise<string> {
  return (await admin.getChannelByName(mm.team.id, CHANNEL_NAME)).id;
}

async function alerts(): Promise<Post[]> {
  return alertPosts(await channelPosts(admin, await adminChannelId()));
}

/** Alert posts that announce `key`. */
async function alertsFor(key: string): Promise<Post[]> {
  return (await alerts()).filter((p) => readAlertData(p.props)?.findings.some((f) => f.key === key));
}

beforeAll(async () => {
  mm = await startMattermost();
  admin = mm.client();
  db = await createTestDatabase('egress_ha');
  dir = mkdtempSync(join(tmpdir(), 'egress-ha-'));
}, 300_000);

afterAll(async () => {
  const problems: string[] = [];
  for (const r of replicas) {
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([exited(r.child), new Promise<null>((res) => (timer = setTimeout(() => res(null), 15_000)))]);
      clearTimeout(timer);
      if (done === null) {
        r.child.kill('SIGKILL');
        await exited(r.child);
        problems.push(`replica ${r.name} did not stop on SIGTERM`);
      }
    }
  }
  await store?.close().catch((err: Error) => problems.push(`store: ${err.message}`));
  await db?.drop().catch((err: Error) => problems.push(`database: ${err.message}`));
  await mm?.stop().catch((err: Error) => problems.push(`Mattermost: ${err.message}`));
  if (dir && process.env.EGRESS_ADVISOR_KEEP_BRIDGE !== '1') rmSync(dir, {recursive: true, force: true});
  if (problems.length) throw new Error(problems.join('; '));
}, 120_000);

test('two replicas: exactly one leads, sets Mattermost up, and posts the alert once', async () => {
  const a = await startReplica('a');
  expect(a.leader).toBe(true);
  const b = await startReplica('b');
  expect(b.leader).toBe(false);
  store = await openPostgresStore(db.url, {autoPruneMs: 0});

  // The leader sets Mattermost up; the secret the plugin signs with is shared through the store.
  await waitFor('the leader to create the admin channel', () => adminChannelId().catch(() => null), {timeoutMs: 60_000, context});
  const hex = await waitFor('the plugin secret in the shared store', () => store.getMeta('plugin-secret'), {timeoutMs: 60_000, context});
  const secret = Buffer.from(hex, 'hex').toString('base64url');

  // The plugin may reach either replica (one Service): the follower answers a call signed with the shared secret.
  const channelId = await adminChannelId();
  const command = (key: string): Promise<Response> => {
    const body = JSON.stringify({command: '/egress status', user_id: mm.admin.id, channel_id: channelId, team_id: mm.team.id});
    const sig = signatureHeaders(key, {
      method: 'POST',
      target: '/mattermost/command',
      userId: mm.admin.id,
      username: mm.admin.username,
      body: Buffer.from(body),
    });
    return fetch(`http://127.0.0.1:${b.port}/mattermost/command`, {method: 'POST', headers: {'content-type': 'application/json', ...sig}, body});
  };
  const answer = await waitFor(
    'the follower to answer /egress',
    async () => {
      const res = await command(secret);
      return res.status === 200 ? ((await res.json()) as {response_type?: string; text?: string}) : null;
    },
    {timeoutMs: 30_000, context},
  );
  expect(answer.response_type).toBe('ephemeral');
  expect(answer.text ?? '').not.toBe('');
  expect((await command('not-the-secret-not-the-secret-not-the-secre')).status).toBe(401);

  // Both replicas read lines of the same destination (two pods of Mattermost, each followed by one replica).
  append(a, [blockedTls(FIRST.ip, 443, FIRST.host), blockedTls(FIRST.ip, 443, FIRST.host)]);
  append(b, [blockedTls(FIRST.ip, 443, FIRST.host)]);
  await waitFor('the findings of both replicas', async () => (await store.getFinding(FIRST.key))?.count === 3, {timeoutMs: 30_000, context});
  await waitFor('the alert', async () => (await alertsFor(FIRST.key)).length > 0, {timeoutMs: 60_000, context});
  // Longer than a digest window and several delivery passes of both replicas: still exactly one.
  await new Promise((r) => setTimeout(r, (DIGEST_SECONDS + 4) * 1000));
  expect(await alertsFor(FIRST.key)).toHaveLength(1);
  expect(await alerts()).toHaveLength(1);
  expect(a.leader).toBe(true);
  expect(b.leader).toBe(false);
  await waitFor('the outbox to drain', async () => (await store.outboxDepth()) === 0, {timeoutMs: 30_000, context});
});

test('the leader killed inside the digest window: the follower takes over and the alert arrives exactly once', async () => {
  const [a, b] = replicas;
  expect(a.leader).toBe(true);
  const before = (await alerts()).length;

  append(a, [blockedTls(SECOND.ip, 443, SECOND.host)]);
  // Committed (finding and its alert in the outbox, due at the end of the window), not yet posted.
  await waitFor(
    'the new destination committed with its alert pending',
    async () => (await store.getFinding(SECOND.key)) !== null && (await store.outboxDepth()) > 0,
    {timeoutMs: 30_000, intervalMs: 50, context},
  );
  expect((await store.getFinding(SECOND.key))?.alertPostId).toBeNull();
  const killedAt = Date.now();
  a.child.kill('SIGKILL');
  expect((await exited(a.child)).signal).toBe('SIGKILL');
  expect(await alertsFor(SECOND.key)).toHaveLength(0);

  await waitFor('the follower to take over', () => b.leader, {timeoutMs: 20_000, intervalMs: 100, context});
  const takeover = (b.elections.at(-1) ?? Date.now()) - killedAt;
  expect(takeover).toBeLessThan(15_000);

  // Traffic goes on at the surviving replica meanwhile.
  append(b, [blockedTls(SECOND.ip, 443, SECOND.host)]);
  await waitFor('the alert from the new leader', async () => (await alertsFor(SECOND.key)).length > 0, {timeoutMs: 60_000, context});
  await waitFor('the finding to name its alert post', async () => (await store.getFinding(SECOND.key))?.alertPostId, {timeoutMs: 30_000, context});
  await new Promise((r) => setTimeout(r, (DIGEST_SECONDS + 4) * 1000));
  const posted = await alertsFor(SECOND.key);
  expect(posted).toHaveLength(1);
  expect(await alerts()).toHaveLength(before + 1);
  expect((await store.getFinding(SECOND.key))?.alertPostId).toBe(posted[0].id);
  expect((await store.getFinding(SECOND.key))?.count).toBe(2);
  expect(b.child.exitCode).toBeNull();
});
