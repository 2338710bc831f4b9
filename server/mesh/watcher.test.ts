// MeshWatcher with the real @kubernetes/client-node against a real kube-apiserver with Istio's ServiceEntry
// and Sidecar CRDs (test/kubernetes/harness.ts): the lists and watches of networking.istio.io, the 404 a
// mesh whose CRDs do not serve v1 gives, the 403 a namespaced Role gets for a cluster-wide list (from the
// real RBAC authorizer), and the istio ConfigMap. The watcher runs in a worker thread (see
// server/sources/kube/testing/remote.ts).
import {istioCrds, startKubeCluster, type Json, type KubeCluster} from '../../test/kubernetes/harness';
import {fixture} from '../sources/kube/testing/fixtures';
import {KubeWorker} from '../sources/kube/testing/remote';
import type {MeshAllowances} from './types';

jest.setTimeout(120_000);

const NAMESPACES = ['mattermost', 'istio-system', 'istio-egress', 'keycloak', 'logging', 'gitlab', 'monitoring', 'nexus'];
const FAST = {namespace: 'mattermost', backoff: {baseMs: 20, maxMs: 250, factor: 2, jitter: 0}, watchTimeoutSeconds: 60};
const ISTIO = '/apis/networking.istio.io/v1';

let cluster: KubeCluster;
let worker: KubeWorker | null = null;

beforeAll(async () => {
  cluster = await startKubeCluster();
  for (const ns of NAMESPACES) await cluster.createNamespace(ns);
});

afterAll(async () => {
  await cluster?.stop();
});

afterEach(async () => {
  await worker?.stopMesh().catch(() => undefined);
  await worker?.terminate();
  worker = null;
  for (const ns of NAMESPACES) {
    for (const plural of ['serviceentries', 'sidecars']) await cluster.request('DELETE', `${ISTIO}/namespaces/${ns}/${plural}`);
  }
  await cluster.request('DELETE', '/api/v1/namespaces/istio-system/configmaps/istio');
});

/** A watcher signed in as the admin, or with another token (a ServiceAccount's). */
function startWorker(token = cluster.adminToken): KubeWorker {
  worker = new KubeWorker({url: cluster.url, token, ca: cluster.ca});
  return worker;
}

/** A recorded object as one would apply it: without what the server assigns. */
function applicable(o: Json, apiVersion?: string): Json {
  const {resourceVersion, uid, creationTimestamp, generation, ...meta} = o.metadata as Json;
  void [resourceVersion, uid, creationTimestamp, generation];
  return {...o, ...(apiVersion === undefined ? {} : {apiVersion}), metadata: meta};
}

async function loadEntries(version = 'v1'): Promise<void> {
  for (const e of fixture<Json>('serviceentries.json').items as Json[]) await cluster.create(applicable(e, `networking.istio.io/${version}`));
}

function sources(m: MeshAllowances): string[] {
  return [...new Set(m.hosts.map((h) => h.source))].sort();
}

async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  await cluster.waitFor(what, cond, 20_000);
}

/** A ServiceAccount bound to a Role in each of `namespaces` with these rules; returns its token. */
async function serviceAccount(name: string, grants: Record<string, Json[]>): Promise<string> {
  await cluster.create({apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name, namespace: 'mattermost'}});
  for (const [namespace, rules] of Object.entries(grants)) {
    await cluster.create({apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: {name, namespace}, rules});
    await cluster.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {name, namespace},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name},
      subjects: [{kind: 'ServiceAccount', name, namespace: 'mattermost'}],
    });
  }
  return cluster.serviceAccountToken('mattermost', name);
}

const ISTIO_READ = {apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'sidecars'], verbs: ['get', 'list', 'watch']};
const PUSH = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: {name: 'push', namespace: 'mattermost'},
  spec: {hosts: ['push.mattermost.com'], ports: [{number: 443, name: 'tls', protocol: 'TLS'}], location: 'MESH_EXTERNAL', resolution: 'DNS'},
};

const VISIBLE = [
  'ServiceEntry istio-egress/smtp-relay',
  'ServiceEntry keycloak/sso',
  'ServiceEntry logging/elasticsearch',
  'ServiceEntry mattermost/mattermost-external-external',
  'ServiceEntry mattermost/s3-external',
];

describe('MeshWatcher', () => {
  it("reads the namespace's own ServiceEntries and those other namespaces export to it, and ignores the rest", async () => {
    await loadEntries();
    await cluster.create(applicable(fixture('sidecar-registry-only.json')));
    await startWorker().startMesh(FAST);
    const m = await worker!.allowances();
    expect(m.ready).toBe(true);
    expect(sources(m)).toEqual(VISIBLE);
    expect(m.ignored.map((i) => i.source).sort()).toEqual([
      'ServiceEntry gitlab/gitlab-only',
      'ServiceEntry monitoring/grafana-plugins',
      'ServiceEntry nexus/nexus-upstream',
    ]);
    expect(m.apiVersions).toEqual({serviceEntries: 'v1', sidecars: 'v1'});
    expect(m.outboundMode).toBe('REGISTRY_ONLY');
  });

  it('keeps the picture current through the watches', async () => {
    await cluster.create(applicable(fixture('sidecar-registry-only.json')));
    await startWorker().startMesh(FAST);
    expect((await worker!.allowances()).outboundMode).toBe('REGISTRY_ONLY');
    await loadEntries();
    await eventually(async () => sources(await worker!.allowances()).length === VISIBLE.length, 'the entries added');
    await cluster.apply(applicable(fixture('sidecar-allow-any.json')));
    await eventually(async () => (await worker!.allowances()).outboundMode === 'ALLOW_ANY', 'the Sidecar modified');
    await cluster.delete(`${ISTIO}/namespaces/keycloak/serviceentries/sso`);
    await eventually(async () => !sources(await worker!.allowances()).includes('ServiceEntry keycloak/sso'), 'the entry deleted');
    // A Sidecar in Istio's root namespace is the mesh-wide default; Mattermost's own still decides.
    await cluster.create({...applicable(fixture('sidecar-registry-only.json')), metadata: {name: 'default', namespace: 'istio-system'}});
    await cluster.delete(`${ISTIO}/namespaces/mattermost/sidecars/mattermost-sidecar`);
    await eventually(async () => (await worker!.allowances()).outboundMode === 'REGISTRY_ONLY', 'the root namespace Sidecar applying');
  });

  it('falls back to networking.istio.io/v1beta1 where v1 is not served (an older mesh)', async () => {
    // The CRDs as a mesh before Istio 1.22 has them: v1beta1 stored and served, v1 not served, so the API
    // server answers every v1 path with 404.
    const older = istioCrds().map((crd) => {
      const spec = crd.spec as {versions: Json[]};
      return {...crd, spec: {...spec, versions: spec.versions.map((v) => ({...v, served: v.name !== 'v1', storage: v.name === 'v1beta1'}))}};
    });
    await cluster.deleteCrds(istioCrds());
    try {
      await cluster.createCrds(older);
      await eventually(async () => (await cluster.request('GET', `${ISTIO}/serviceentries`)).status === 404, 'v1 to be unserved');
      await loadEntries('v1beta1');
      await cluster.create(applicable(fixture('sidecar-registry-only.json'), 'networking.istio.io/v1beta1'));
      await startWorker().startMesh(FAST);
      const m = await worker!.allowances();
      expect(m.apiVersions).toEqual({serviceEntries: 'v1beta1', sidecars: 'v1beta1'});
      expect(sources(m)).toEqual(VISIBLE);
      expect(m.outboundMode).toBe('REGISTRY_ONLY');
      await cluster.create({...PUSH, apiVersion: 'networking.istio.io/v1beta1'});
      await eventually(
        async () => (await worker!.allowances()).hosts.some((h) => h.host === 'push.mattermost.com'),
        'the entry seen through the v1beta1 watch',
      );
      await worker!.stopMesh();
    } finally {
      await cluster.deleteCrds(older);
      await cluster.createCrds(istioCrds());
    }
  });

  it('says so when Istio’s CRDs are not there at all', async () => {
    await cluster.deleteCrds(istioCrds());
    try {
      await startWorker().startMesh(FAST);
      const m = await worker!.allowances();
      expect(m.ready).toBe(false);
      expect(m.apiVersions.serviceEntries).toBeNull();
      expect(m.notes.join('\n')).toContain('is not served in v1 or v1beta1');
      await worker!.stopMesh();
    } finally {
      await cluster.createCrds(istioCrds());
    }
  });

  it('reads only its own namespace when it may not list the whole cluster, and says what that misses', async () => {
    // A namespaced Role, as the chart grants without its ClusterRole: the real authorizer refuses the
    // cluster-wide list with 403.
    const token = await serviceAccount('namespaced-reader', {mattermost: [ISTIO_READ], 'istio-system': [ISTIO_READ]});
    await loadEntries();
    await startWorker(token).startMesh(FAST);
    const m = await worker!.allowances();
    expect(sources(m)).toEqual(['ServiceEntry mattermost/mattermost-external-external', 'ServiceEntry mattermost/s3-external']);
    const note = m.notes.find((n) => n.includes('cannot be listed'));
    expect(note).toContain('only namespace mattermost is read');
    expect(note).toContain('HTTP 403');
    expect(note).toContain('system:serviceaccount:mattermost:namespaced-reader');
    // The namespaced watch keeps the picture current.
    await cluster.create(PUSH);
    await eventually(
      async () => (await worker!.allowances()).hosts.some((h) => h.host === 'push.mattermost.com'),
      'the entry seen through the namespaced watch',
    );
  });

  it('takes the mode from the mesh config when no Sidecar sets one, and is unknown when that cannot be read', async () => {
    await cluster.create(applicable(fixture('configmap-istio.json')));
    await startWorker().startMesh(FAST);
    expect(await worker!.allowances()).toMatchObject({outboundMode: 'REGISTRY_ONLY', modeSource: 'the mesh config (outboundTrafficPolicy)'});
    await worker!.stopMesh();
    await worker!.terminate();

    const token = await serviceAccount('no-configmaps', {mattermost: [ISTIO_READ], 'istio-system': [ISTIO_READ]});
    await startWorker(token).startMesh({...FAST, clusterWide: false});
    const m = await worker!.allowances();
    expect(m.outboundMode).toBe('unknown');
    expect(m.notes.some((n) => n.includes('ConfigMap istio-system/istio') && n.includes('HTTP 403'))).toBe(true);
  });
});
