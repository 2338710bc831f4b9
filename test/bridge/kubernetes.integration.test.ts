// The bridge with a `kubernetes:` source, as the chart runs it: the compiled service in its own process,
// credentials from a kubeconfig, pointed at a local server that reproduces the Kubernetes API's recorded
// behaviour (pod list and watch, followed container logs with kubelet time stamps, the Istio CRDs; see
// test/fixtures/kubernetes/README.md). The API server itself cannot run here.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {FakeApiServer} from '../../server/sources/kube/testing/fake-apiserver';
import {fixture, type Json} from '../../server/sources/kube/testing/fixtures';
import {spawnCompiledBridge, writeKubeconfig, type CompiledBridge} from './helpers';

jest.setTimeout(120_000);

const NS = 'mattermost';
const POD = 'mattermost-6c8f9d7b54-2xq8k';

async function eventually<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function blocked(i: number): string {
  return `[2026-11-28T08:00:0${i}.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 192.0.2.10:443 10.42.1.17:4000${i} push.mattermost.com -`;
}

let fake: FakeApiServer;
let dir: string;
let bridge: CompiledBridge;

beforeAll(async () => {
  fake = await FakeApiServer.start();
  fake.apply('namespaces', fixture('namespace-mattermost.json'));
  const pod = fixture<Json>('pod-mattermost-sidecar.json');
  (pod.metadata as Json).name = POD;
  fake.apply('pods', pod);
  fake.logs.append(`${NS}/${POD}/istio-proxy`, [blocked(1), blocked(2), blocked(3)]);
  dir = mkdtempSync(join(tmpdir(), 'egress-k8s-'));
  const kubeconfig = writeKubeconfig(dir, fake, NS);
  bridge = await spawnCompiledBridge(kubeconfig, NS, {EGRESS_ADVISOR_DATA_DIR: join(dir, 'data')});
});

afterAll(async () => {
  await bridge?.stop();
  await fake?.close();
  rmSync(dir, {recursive: true, force: true});
});

it("follows the Mattermost pod's istio-proxy log through the API and stores what it finds", async () => {
  const lines = await eventually('three blocked lines counted', async () => {
    const n = await bridge.metric('egress_advisor_lines_total{verdict="blocked"}');
    return n !== null && n >= 3 ? n : null;
  });
  expect(lines).toBe(3);
  const logCalls = fake.requests.filter((r) => r.path.endsWith(`/pods/${POD}/log`));
  expect(logCalls.some((r) => r.query.container === 'istio-proxy' && r.query.follow === 'true' && r.query.timestamps === 'true')).toBe(true);
  expect(fake.requests.some((r) => r.path === `/api/v1/namespaces/${NS}/pods` && r.query.labelSelector === 'app=mattermost')).toBe(true);
  const open = await eventually('the finding gauge', async () => bridge.metric('egress_advisor_findings{status="open",verdict="blocked"}'));
  expect(open).toBe(1);
});

it('reads the ServiceEntries and Sidecars that apply, for suggestions that leave out what the mesh allows', async () => {
  await eventually('a ServiceEntry list', async () => (fake.requests.some((r) => r.path.includes('/serviceentries')) ? true : null));
  expect(fake.requests.some((r) => r.path.includes('/sidecars'))).toBe(true);
  expect(bridge.output()).not.toContain(fake.token);
});
