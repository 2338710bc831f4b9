// MeshWatcher with the real @kubernetes/client-node against the stand-in API server (see
// server/sources/kube/testing): the ServiceEntry and Sidecar lists and watches of networking.istio.io, the
// 404 an older mesh gives for v1, the 403 a namespaced Role gets for a cluster-wide list, and the istio
// ConfigMap. Shapes recorded under test/fixtures/kubernetes; each test says what it reproduces.
import {FakeApiServer} from '../sources/kube/testing/fake-apiserver';
import {fixture, type Json} from '../sources/kube/testing/fixtures';
import {KubeWorker} from '../sources/kube/testing/remote';
import type {MeshAllowances} from './types';

jest.setTimeout(60_000);

let fake: FakeApiServer;
let worker: KubeWorker;
const FAST = {namespace: 'mattermost', backoff: {baseMs: 20, maxMs: 250, factor: 2, jitter: 0}, watchTimeoutSeconds: 60};

beforeEach(async () => {
  fake = await FakeApiServer.start();
  worker = new KubeWorker(fake);
});

afterEach(async () => {
  await worker.stopMesh().catch(() => undefined);
  await worker.terminate();
  await fake.close();
});

function loadEntries(version = 'v1'): void {
  for (const e of fixture<Json>('serviceentries.json').items as Json[]) fake.apply('serviceentries.networking.istio.io', {...e, apiVersion: `networking.istio.io/${version}`});
}

function sources(m: MeshAllowances): string[] {
  return [...new Set(m.hosts.map((h) => h.source))].sort();
}

async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const VISIBLE = ['ServiceEntry istio-egress/smtp-relay', 'ServiceEntry keycloak/sso', 'ServiceEntry logging/elasticsearch', 'ServiceEntry mattermost/mattermost-external-external', 'ServiceEntry mattermost/s3-external'];

describe('MeshWatcher', () => {
  it("reads the namespace's own ServiceEntries and those other namespaces export to it, and ignores the rest", async () => {
    // Reproduces: GET /apis/networking.istio.io/v1/serviceentries (a ServiceEntryList, keys in the order an
    // unstructured object is written), then the watch on it.
    loadEntries();
    fake.apply('sidecars.networking.istio.io', fixture('sidecar-registry-only.json'));
    await worker.startMesh(FAST);
    const m = await worker.allowances();
    expect(m.ready).toBe(true);
    expect(sources(m)).toEqual(VISIBLE);
    expect(m.ignored.map((i) => i.source).sort()).toEqual(['ServiceEntry gitlab/gitlab-only', 'ServiceEntry monitoring/grafana-plugins', 'ServiceEntry nexus/nexus-upstream']);
    expect(m.apiVersions).toEqual({serviceEntries: 'v1', sidecars: 'v1'});
    expect(fake.requestsTo('/apis/networking.istio.io/v1/serviceentries', (r) => r.query.watch === undefined)).toHaveLength(1);
    await eventually(async () => fake.requestsTo('/apis/networking.istio.io/v1/serviceentries', (r) => r.query.watch === 'true').length > 0, 'the watch');
    expect(fake.requestsTo('/apis/networking.istio.io/v1/serviceentries', (r) => r.query.watch === 'true')[0].query.allowWatchBookmarks).toBe('true');
    expect(fake.requestsTo('/apis/networking.istio.io/v1/namespaces/mattermost/sidecars')).not.toHaveLength(0);
    expect(fake.requestsTo('/apis/networking.istio.io/v1/namespaces/istio-system/sidecars')).not.toHaveLength(0);
  });

  it('keeps the picture current through the watches', async () => {
    // Reproduces: ADDED, MODIFIED and DELETED events on the ServiceEntry and Sidecar watches.
    fake.apply('sidecars.networking.istio.io', fixture('sidecar-registry-only.json'));
    await worker.startMesh(FAST);
    expect((await worker.allowances()).outboundMode).toBe('REGISTRY_ONLY');
    loadEntries();
    await eventually(async () => sources(await worker.allowances()).length === VISIBLE.length, 'the entries added');
    fake.apply('sidecars.networking.istio.io', fixture('sidecar-allow-any.json'));
    await eventually(async () => (await worker.allowances()).outboundMode === 'ALLOW_ANY', 'the Sidecar modified');
    fake.delete('serviceentries.networking.istio.io', 'keycloak', 'sso');
    await eventually(async () => !sources(await worker.allowances()).includes('ServiceEntry keycloak/sso'), 'the entry deleted');
  });

  it('falls back to networking.istio.io/v1beta1 where v1 is not served (an older mesh)', async () => {
    // Reproduces: 404 with the API server's "the server could not find the requested resource" Status
    // (status-not-found.json) for every v1 path.
    fake.served.delete('networking.istio.io/v1');
    loadEntries('v1beta1');
    fake.apply('sidecars.networking.istio.io', {...fixture<Json>('sidecar-registry-only.json'), apiVersion: 'networking.istio.io/v1beta1'});
    await worker.startMesh(FAST);
    const m = await worker.allowances();
    expect(m.apiVersions).toEqual({serviceEntries: 'v1beta1', sidecars: 'v1beta1'});
    expect(sources(m)).toEqual(VISIBLE);
    expect(m.outboundMode).toBe('REGISTRY_ONLY');
    await eventually(async () => fake.requestsTo('/apis/networking.istio.io/v1beta1/serviceentries', (r) => r.query.watch === 'true').length > 0, 'a v1beta1 watch');
    fake.apply('serviceentries.networking.istio.io', {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'ServiceEntry',
      metadata: {name: 'push', namespace: 'mattermost'},
      spec: {hosts: ['push.mattermost.com'], ports: [{number: 443, name: 'tls', protocol: 'TLS'}], location: 'MESH_EXTERNAL', resolution: 'DNS'},
    });
    await eventually(async () => (await worker.allowances()).hosts.some((h) => h.host === 'push.mattermost.com'), 'the entry seen through the v1beta1 watch');
  });

  it('says so when Istio’s CRDs are not there at all', async () => {
    fake.served.clear();
    await worker.startMesh(FAST);
    const m = await worker.allowances();
    expect(m.ready).toBe(false);
    expect(m.apiVersions.serviceEntries).toBeNull();
    expect(m.notes.join('\n')).toContain('is not served in v1 or v1beta1');
  });

  it('reads only its own namespace when it may not list the whole cluster, and says what that misses', async () => {
    // Reproduces: a 403 Forbidden Status for the cluster-wide list (status-forbidden.json).
    fake.forbid = (r) => r.key === 'serviceentries.networking.istio.io' && r.namespace === null;
    loadEntries();
    await worker.startMesh(FAST);
    const m = await worker.allowances();
    expect(sources(m)).toEqual(['ServiceEntry mattermost/mattermost-external-external', 'ServiceEntry mattermost/s3-external']);
    expect(m.notes.some((n) => n.includes('cannot be listed') && n.includes('only namespace mattermost is read'))).toBe(true);
    await eventually(async () => fake.requestsTo('/apis/networking.istio.io/v1/namespaces/mattermost/serviceentries', (r) => r.query.watch === 'true').length > 0, 'a namespaced watch');
  });

  it('takes the mode from the mesh config when no Sidecar sets one, and is unknown when that cannot be read', async () => {
    // Reproduces: GET /api/v1/namespaces/istio-system/configmaps/istio (configmap-istio.json), then a 403.
    fake.apply('configmaps', fixture('configmap-istio.json'));
    await worker.startMesh(FAST);
    expect(await worker.allowances()).toMatchObject({outboundMode: 'REGISTRY_ONLY', modeSource: 'the mesh config (outboundTrafficPolicy)'});
    await worker.stopMesh();

    fake.forbid = (r) => r.key === 'configmaps';
    await worker.startMesh(FAST);
    const m = await worker.allowances();
    expect(m.outboundMode).toBe('unknown');
    expect(m.notes.some((n) => n.includes('ConfigMap istio-system/istio') && n.includes('HTTP 403'))).toBe(true);
  });
});
