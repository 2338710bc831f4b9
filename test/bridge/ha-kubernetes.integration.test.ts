/*
 * Two replicas of the compiled bridge, as two real processes sharing one fresh PostgreSQL database, both
 * pointed at the same Mattermost pod through a real kube-apiserver, whose pod logs come from kwok's kubelet
 * (test/kubernetes/harness.ts).
 *
 * Every replica would see the same log streams, so only the leader reads them: each line is counted once.
 * When the leader is killed, the follower takes over the streams from the resume points the leader
 * committed, with neither a gap nor a double count.
 *
 * Needs a running PostgreSQL and the built Kubernetes servers; fails, never skips, without them.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import {openPostgresStore, type PostgresStore} from '../../server/store/postgres';
import {createTestDatabase, type TestDatabase} from '../../server/store/testing/stores';
import {exited} from '../../server/store/testing/support';
import {startKubeCluster, type KubeCluster} from '../kubernetes/harness';
import {spawnCompiledBridge, waitFor, type CompiledBridge} from './helpers';

jest.setTimeout(180_000);

const NS = 'mattermost';
const POD = 'mattermost-6c8f9d7b54-2xq8k';
const KEY = 'push.mattermost.com:443';

interface Replica extends CompiledBridge {
  name: string;
}

let cluster: KubeCluster;
let db: TestDatabase;
let store: PostgresStore;
let dir: string;
const replicas: Replica[] = [];
let sourcePort = 42_000;

function blocked(): string {
  return `[${new Date().toISOString()}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 52.0.10.10:443 10.42.1.23:${sourcePort++} push.mattermost.com -`;
}

function context(): string {
  const bridges = replicas.map(
    (r) => `--- replica ${r.name} (exit: ${r.child.exitCode ?? r.child.signalCode ?? 'running'})\n${r.output().trimEnd().split('\n').slice(-20).join('\n')}`,
  );
  return [...bridges, cluster.logs(10)].join('\n');
}

async function startReplica(name: string, kubeconfig: string): Promise<Replica> {
  const bridge = await spawnCompiledBridge(kubeconfig, NS, {
    EGRESS_ADVISOR_DATABASE_URL: db.url,
    EGRESS_ADVISOR_DATA_DIR: join(dir, `${name}-data`),
    EGRESS_ADVISOR_MESH_CONFIGMAP: 'none',
  });
  const r: Replica = {...bridge, name};
  replicas.push(r);
  await waitFor(
    `replica ${name} to answer`,
    () =>
      fetch(`http://127.0.0.1:${r.port}/healthz`)
        .then((res) => res.ok)
        .catch(() => false),
    {timeoutMs: 30_000, context},
  );
  return r;
}

const count = async (): Promise<number> => (await store.getFinding(KEY))?.count ?? 0;

beforeAll(async () => {
  db = await createTestDatabase('egress_hak8s');
  cluster = await startKubeCluster();
  await cluster.createNamespace(NS);
  await cluster.createPod({namespace: NS, name: POD});
  dir = mkdtempSync(join(tmpdir(), 'egress-hak8s-'));
});

afterAll(async () => {
  for (const r of replicas) await r.stop();
  await store?.close();
  await cluster?.stop();
  await db?.drop();
  if (dir) rmSync(dir, {recursive: true, force: true});
}, 60_000);

test('only the leader reads the shared log streams; the follower takes them over where it stopped', async () => {
  const kubeconfig = cluster.kubeconfig(join(dir, 'kubeconfig'), cluster.adminToken, NS);
  const a = await startReplica('a', kubeconfig);
  await waitFor('replica a to lead', async () => (await a.metric('egress_advisor_leader')) === 1, {context});
  const b = await startReplica('b', kubeconfig);
  store = await openPostgresStore(db.url, {autoPruneMs: 0});

  cluster.appendLog(NS, POD, 'istio-proxy', [blocked(), blocked(), blocked()]);
  await waitFor('three lines counted', async () => (await count()) === 3, {timeoutMs: 30_000, context});
  // Longer than the gauges' interval (5 s): the follower has not read a line, the leader has read each once.
  await new Promise((r) => setTimeout(r, 6_000));
  expect(await count()).toBe(3);
  expect(await b.metric('egress_advisor_leader')).toBe(0);
  expect(await b.metric('egress_advisor_lines_total')).toBeNull();
  expect(await a.metric('egress_advisor_lines_total{verdict="blocked"}')).toBe(3);
  expect(await a.metric(`egress_advisor_source_up{source="kubernetes:${NS}?selector=app=mattermost"}`)).toBe(1);
  expect(await b.metric(`egress_advisor_source_up{source="kubernetes:${NS}?selector=app=mattermost"}`)).toBe(0);

  a.child.kill('SIGKILL');
  await exited(a.child);
  // Written while nobody reads: the new leader must start where the old one's committed point is.
  cluster.appendLog(NS, POD, 'istio-proxy', [blocked(), blocked()]);
  await waitFor('replica b to lead', async () => (await b.metric('egress_advisor_leader')) === 1, {timeoutMs: 30_000, context});
  await waitFor('the two lines written meanwhile', async () => (await count()) === 5, {timeoutMs: 30_000, context});
  cluster.appendLog(NS, POD, 'istio-proxy', [blocked()]);
  await waitFor('a line after the takeover', async () => (await count()) === 6, {timeoutMs: 30_000, context});
  await new Promise((r) => setTimeout(r, 3_000));
  expect(await count()).toBe(6);
});
