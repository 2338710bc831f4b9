// The Kubernetes harness itself: a real kube-apiserver on etcd, with kwok as the node's kubelet. What the
// suites rely on is checked here against the servers, so a broken harness fails here first and plainly.
import {startKubeCluster, type Json, type KubeCluster} from './harness';

jest.setTimeout(180_000);

const NS = 'harness';
let cluster: KubeCluster;

beforeAll(async () => {
  cluster = await startKubeCluster();
  await cluster.createNamespace(NS);
});

afterAll(async () => {
  await cluster?.stop();
});

it('answers /readyz and /version as kube-apiserver v1.34.4, and refuses an unknown token', async () => {
  expect((await cluster.request('GET', '/readyz')).status).toBe(200);
  expect(await cluster.get('/version')).toMatchObject({gitVersion: 'v1.34.4', major: '1', minor: '34'});
  expect((await cluster.request('GET', '/api/v1/namespaces', undefined, {token: 'not-a-token'})).status).toBe(401);
});

it('runs a pod on the kwok node and serves its container logs through the API server, with kubelet time stamps and sinceTime', async () => {
  await cluster.createPod({namespace: NS, name: 'logger'});
  const pod = await cluster.get<Json>(`/api/v1/namespaces/${NS}/pods/logger`);
  const statuses = (pod.status as Json).containerStatuses as {name: string; state: Json}[];
  expect(statuses.map((s) => s.name).sort()).toEqual(['istio-proxy', 'mattermost']);
  expect(statuses.every((s) => s.state.running !== undefined)).toBe(true);

  cluster.appendLog(NS, 'logger', 'istio-proxy', ['first', 'second'], {at: '2026-03-02T09:00:05.250000000Z'});
  cluster.appendLog(NS, 'logger', 'istio-proxy', ['third'], {at: '2026-03-02T09:00:07.000000001Z'});
  cluster.appendLog(NS, 'logger', 'mattermost', ['app line']);
  const log = await cluster.request<string>('GET', `/api/v1/namespaces/${NS}/pods/logger/log?container=istio-proxy&timestamps=true`);
  expect({status: log.status, body: typeof log.body}).toEqual({status: 200, body: 'string'});
  // The kubelet's stamp: RFC 3339 with always nine digits of fraction, then one space.
  expect(log.body).toBe('2026-03-02T09:00:05.250000000Z first\n2026-03-02T09:00:05.250000000Z second\n2026-03-02T09:00:07.000000001Z third\n');
  const since = await cluster.request<string>('GET', `/api/v1/namespaces/${NS}/pods/logger/log?container=istio-proxy&sinceTime=2026-03-02T09:00:06Z`);
  expect(since.body).toBe('third\n');
  const app = await cluster.request<string>('GET', `/api/v1/namespaces/${NS}/pods/logger/log?container=mattermost`);
  expect(app.body).toBe('app line\n');
});

it('serves ServiceEntries from Istio CRDs in v1 and v1beta1, and validates them', async () => {
  await cluster.create({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: {name: 'push', namespace: NS},
    spec: {hosts: ['push.mattermost.com'], location: 'MESH_EXTERNAL', ports: [{number: 443, name: 'tls', protocol: 'TLS'}], resolution: 'DNS'},
  });
  const beta = await cluster.get<Json>(`/apis/networking.istio.io/v1beta1/namespaces/${NS}/serviceentries/push`);
  expect(beta.apiVersion).toBe('networking.istio.io/v1beta1');
  expect((beta.spec as Json).hosts).toEqual(['push.mattermost.com']);
  const bad = await cluster.request('POST', `/apis/networking.istio.io/v1/namespaces/${NS}/serviceentries`, {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: {name: 'bad'},
    spec: {hosts: ['x.example'], ports: [{number: 99999, name: 'p'}]},
  });
  expect(bad.status).toBe(422);
});

it('issues ServiceAccount tokens that the API server authenticates, under RBAC', async () => {
  await cluster.create({apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'reader', namespace: NS}});
  const token = await cluster.serviceAccountToken(NS, 'reader');
  const pods = await cluster.request('GET', `/api/v1/namespaces/${NS}/pods`, undefined, {token});
  expect(pods.status).toBe(403);
  expect(JSON.stringify(pods.body)).toContain(`system:serviceaccount:${NS}:reader`);
});
