// The bridge with a `kubernetes:` source, as the chart runs it: the compiled service in its own process,
// credentials from a kubeconfig, against a real kube-apiserver whose pod logs come from kwok's kubelet
// (test/kubernetes/harness.ts). Envoy does not run here: the access-log lines are Istio's default TEXT
// format, written to the sidecar's CRI log file.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startKubeCluster, type KubeCluster} from '../kubernetes/harness';
import {spawnCompiledBridge, waitFor, type CompiledBridge} from './helpers';

jest.setTimeout(180_000);

const NS = 'mattermost';
const POD = 'mattermost-6c8f9d7b54-2xq8k';

function blocked(i: number): string {
  return `[2026-11-28T08:00:0${i}.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 192.0.2.10:443 10.42.1.17:4000${i} push.mattermost.com -`;
}

let cluster: KubeCluster;
let dir: string;
let bridge: CompiledBridge;

const context = (): string => `--- bridge\n${bridge?.output().trimEnd().split('\n').slice(-30).join('\n')}\n${cluster.logs(10)}`;

beforeAll(async () => {
  cluster = await startKubeCluster();
  await cluster.createNamespace(NS);
  await cluster.createPod({namespace: NS, name: POD});
  // Not the bridge's pod: its selector must leave this one out.
  await cluster.createPod({namespace: NS, name: 'other-app', labels: {app: 'other'}});
  cluster.appendLog(NS, POD, 'istio-proxy', [blocked(1), blocked(2), blocked(3)]);
  cluster.appendLog(NS, 'other-app', 'istio-proxy', [blocked(4)]);
  dir = mkdtempSync(join(tmpdir(), 'egress-k8s-'));
  const kubeconfig = cluster.kubeconfig(join(dir, 'kubeconfig'), cluster.adminToken, NS);
  bridge = await spawnCompiledBridge(kubeconfig, NS, {EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'), EGRESS_ADVISOR_MESH_CONFIGMAP: 'none'});
});

afterAll(async () => {
  await bridge?.stop();
  await cluster?.stop();
  if (dir) rmSync(dir, {recursive: true, force: true});
});

it("follows the Mattermost pod's istio-proxy log through the API and stores what it finds", async () => {
  await waitFor('three blocked lines counted', async () => (await bridge.metric('egress_advisor_lines_total{verdict="blocked"}')) === 3, {timeoutMs: 60_000, context});
  const open = await waitFor('the finding gauge', async () => bridge.metric('egress_advisor_findings{status="open",verdict="blocked"}'), {context});
  expect(open).toBe(1);
  expect(await bridge.metric(`egress_advisor_source_up{source="kubernetes:${NS}?selector=app=mattermost"}`)).toBe(1);

  // Followed, not read once: a line written now arrives too.
  cluster.appendLog(NS, POD, 'istio-proxy', [blocked(5)]);
  await waitFor('the appended line', async () => (await bridge.metric('egress_advisor_lines_total{verdict="blocked"}')) === 4, {timeoutMs: 30_000, context});
  // The other app's line never counted.
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await bridge.metric('egress_advisor_lines_total{verdict="blocked"}')).toBe(4);
  expect(bridge.output()).not.toContain(cluster.adminToken);
});
