// The bridge with a `kubernetes:` source, as the chart runs it: the compiled service in its own process,
// credentials from a kubeconfig, against a real kube-apiserver whose pod logs come from kwok's kubelet
// (test/kubernetes/harness.ts). Envoy does not run here: the access-log lines are Istio's default TEXT
// format, written to the sidecar's CRI log file.
//
// Across a restart of the bridge (stopped, or killed) nothing is lost or counted twice: it resumes each log
// from the position it committed with the findings, in its data folder, as a pod's volume keeps it.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {openSqliteStore} from '../../server/store';
import {exited} from '../../server/store/testing/support';
import {startKubeCluster, type KubeCluster} from '../kubernetes/harness';
import {spawnCompiledBridge, waitFor, type CompiledBridge} from './helpers';

jest.setTimeout(180_000);

const NS = 'mattermost';
const POD = 'mattermost-6c8f9d7b54-2xq8k';
const KEY = 'push.mattermost.com:443';
const BLOCKED = 'egress_advisor_lines_total{verdict="blocked"}';

let sourcePort = 40_000;
function blocked(): string {
  return `[${new Date().toISOString()}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 192.0.2.10:443 10.42.1.17:${sourcePort++} push.mattermost.com -`;
}

const lines = (n: number): string[] => Array.from({length: n}, blocked);

let cluster: KubeCluster;
let dir: string;
let kubeconfig: string;
let bridge: CompiledBridge;
/** Every blocked line written to the Mattermost pod's istio-proxy log. */
let written = 0;
/** The finding's count in the store when the running bridge started. */
let countedBefore = 0;

const context = (): string => `--- bridge\n${bridge?.output().trimEnd().split('\n').slice(-30).join('\n')}\n${cluster.logs(10)}`;

function append(n: number): void {
  cluster.appendLog(NS, POD, 'istio-proxy', lines(n));
  written += n;
}

function start(): Promise<CompiledBridge> {
  return spawnCompiledBridge(kubeconfig, NS, {EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'), EGRESS_ADVISOR_MESH_CONFIGMAP: 'none'});
}

/** The finding's count in the bridge's store, read while no bridge runs. */
async function storedCount(): Promise<number> {
  const store = openSqliteStore(join(dir, 'data', 'egress-advisor.db'));
  try {
    return (await store.getFinding(KEY))?.count ?? 0;
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  cluster = await startKubeCluster();
  await cluster.createNamespace(NS);
  await cluster.createPod({namespace: NS, name: POD});
  // Not the bridge's pod: its selector must leave this one out.
  await cluster.createPod({namespace: NS, name: 'other-app', labels: {app: 'other'}});
  append(3);
  cluster.appendLog(NS, 'other-app', 'istio-proxy', [blocked()]);
  dir = mkdtempSync(join(tmpdir(), 'egress-k8s-'));
  kubeconfig = cluster.kubeconfig(join(dir, 'kubeconfig'), cluster.adminToken, NS);
  bridge = await start();
});

afterAll(async () => {
  await bridge?.stop();
  await cluster?.stop();
  if (dir) rmSync(dir, {recursive: true, force: true});
});

it("follows the Mattermost pod's istio-proxy log through the API and stores what it finds", async () => {
  await waitFor('three blocked lines counted', async () => (await bridge.metric(BLOCKED)) === 3, {timeoutMs: 60_000, context});
  const open = await waitFor('the finding gauge', async () => bridge.metric('egress_advisor_findings{status="open",verdict="blocked"}'), {context});
  expect(open).toBe(1);
  expect(await bridge.metric(`egress_advisor_source_up{source="kubernetes:${NS}?selector=app=mattermost"}`)).toBe(1);

  // Followed, not read once: a line written now arrives too.
  append(1);
  await waitFor('the appended line', async () => (await bridge.metric(BLOCKED)) === 4, {timeoutMs: 30_000, context});
  // The other app's line never counted.
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await bridge.metric(BLOCKED)).toBe(4);
  expect(bridge.output()).not.toContain(cluster.adminToken);
});

it.each([
  ['stopped', 'SIGTERM'],
  ['killed', 'SIGKILL'],
] as const)('nothing is lost or counted twice when the bridge is %s, lines are written meanwhile, and it starts again', async (_, signal) => {
  await waitFor('every line written so far counted', async () => countedBefore + ((await bridge.metric(BLOCKED)) ?? 0) === written, {
    timeoutMs: 30_000,
    context,
  });
  if (signal === 'SIGTERM') await bridge.stop();
  else {
    bridge.child.kill('SIGKILL');
    await exited(bridge.child);
  }
  expect(await storedCount()).toBe(written);
  countedBefore = written;
  // Written while no bridge reads: the next one starts where the last committed position is.
  append(4);
  bridge = await start();
  await waitFor('the four lines written meanwhile', async () => (await bridge.metric(BLOCKED)) === 4, {timeoutMs: 60_000, context});
  append(2);
  await waitFor('two lines after the restart', async () => (await bridge.metric(BLOCKED)) === 6, {timeoutMs: 30_000, context});
  // Nothing comes twice later either: this process counted exactly what was new to it.
  await new Promise((r) => setTimeout(r, 2_000));
  expect(await bridge.metric(BLOCKED)).toBe(6);
  expect(countedBefore + 6).toBe(written);
});
