/*
 * The chart's RBAC, judged by the real authorizer: build/chart/egress-advisor rendered by the pinned Helm
 * client, its ServiceAccount, Roles, ClusterRoles and bindings applied to a real kube-apiserver
 * (test/kubernetes/harness.ts), then
 *
 * - SubjectAccessReviews, in each value combination, for every read the bridge makes (allowed) and for what
 *   it must not be able to do (denied): Secrets, writes, exec, other namespaces where the values say so;
 * - the compiled bridge run as that ServiceAccount, with a token the API server issued for it, not as an
 *   admin: it follows the Mattermost pod's logs, and a ServiceEntry another namespace exports to Mattermost
 *   resolves a finding with the cluster-wide ClusterRole; where the cluster refused that ClusterRole it falls
 *   back to Mattermost's own namespace (the README's promise): an entry there resolves a finding, an entry
 *   another namespace exports to it is not seen.
 *
 * Fails, never skips, without helm or the Kubernetes servers (test/chart/build-helm.sh,
 * test/kubernetes/build.sh).
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {spawnCompiledBridge, waitFor, type CompiledBridge} from '../bridge/helpers';
import {startKubeCluster, type Json, type KubeCluster} from '../kubernetes/harness';
import {renderChart, type Obj} from './helm';

jest.setTimeout(300_000);

const RELEASE_NS = 'egress';
const MM_NS = 'mattermost';
const ISTIO_NS = 'istio-system';
const OTHER_NS = 'shared-egress';
const POD = 'mattermost-6c8f9d7b54-2xq8k';
const RBAC_KINDS = new Set(['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);

let cluster: KubeCluster;
let dir: string;
const bridges: CompiledBridge[] = [];

interface Access {
  verb: string;
  resource: string;
  namespace?: string;
  group?: string;
  subresource?: string;
  name?: string;
}

const describeAccess = (a: Access): string =>
  `${a.verb} ${a.group ? `${a.resource}.${a.group}` : a.resource}${a.subresource ? `/${a.subresource}` : ''}${a.name ? ` ${a.name}` : ''} in ${a.namespace ?? 'all namespaces'}`;

/** What the real authorizer says about a ServiceAccount doing `a`, as a SubjectAccessReview asks it. */
async function allowed(serviceAccount: string, a: Access): Promise<boolean> {
  const review = await cluster.create<{status: {allowed: boolean}}>({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${RELEASE_NS}:${serviceAccount}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${RELEASE_NS}`, 'system:authenticated'],
      resourceAttributes: {
        verb: a.verb,
        resource: a.resource,
        group: a.group ?? '',
        namespace: a.namespace ?? '',
        subresource: a.subresource ?? '',
        name: a.name ?? '',
      },
    },
  });
  return review.status.allowed;
}

/** The access in `list` the authorizer decides differently than `expected`. */
async function mismatches(serviceAccount: string, list: Access[], expected: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const a of list) if ((await allowed(serviceAccount, a)) !== expected) out.push(describeAccess(a));
  return out;
}

const ISTIO = 'networking.istio.io';
const reads = (resource: string, namespace: string | undefined, group = ''): Access[] =>
  ['get', 'list', 'watch'].map((verb) => ({verb, resource, namespace, group}));
const writes = (resource: string, namespace: string | undefined, group = ''): Access[] =>
  ['create', 'update', 'patch', 'delete', 'deletecollection'].map((verb) => ({verb, resource, namespace, group}));

interface Combination {
  release: string;
  values: Obj;
  clusterWide: boolean;
  meshConfig: boolean;
  namespaceLabels: boolean;
  istioNamespaces: string[];
}

const COMBINATIONS: Combination[] = [
  {release: 'ea-default', values: {}, clusterWide: true, meshConfig: true, namespaceLabels: true, istioNamespaces: []},
  {
    release: 'ea-narrow',
    values: {rbac: {clusterWideServiceEntries: false, meshConfig: false, namespaceLabels: false}},
    clusterWide: false,
    meshConfig: false,
    namespaceLabels: false,
    istioNamespaces: [],
  },
  {
    release: 'ea-extra',
    values: {rbac: {clusterWideServiceEntries: false, meshConfig: false, istioNamespaces: [ISTIO_NS, OTHER_NS]}},
    clusterWide: false,
    meshConfig: false,
    namespaceLabels: true,
    istioNamespaces: [ISTIO_NS, OTHER_NS],
  },
];

/** Every read the bridge makes with these values. */
function needed(c: Combination): Access[] {
  const out = [
    ...reads('pods', MM_NS),
    {verb: 'get', resource: 'pods', subresource: 'log', namespace: MM_NS},
    ...reads('serviceentries', MM_NS, ISTIO),
    ...reads('sidecars', MM_NS, ISTIO),
  ];
  if (c.clusterWide) out.push(...reads('serviceentries', undefined, ISTIO));
  if (c.meshConfig) out.push({verb: 'get', resource: 'configmaps', namespace: ISTIO_NS, name: 'istio'}, ...reads('sidecars', ISTIO_NS, ISTIO));
  if (c.namespaceLabels) out.push({verb: 'get', resource: 'namespaces', name: MM_NS});
  for (const ns of c.istioNamespaces) out.push(...reads('serviceentries', ns, ISTIO), ...reads('sidecars', ns, ISTIO));
  return out;
}

/** What the ServiceAccount must not be able to do with these values. */
function forbidden(c: Combination): Access[] {
  const out: Access[] = [];
  for (const ns of [MM_NS, RELEASE_NS, ISTIO_NS, OTHER_NS, undefined]) out.push(...reads('secrets', ns));
  out.push(...writes('pods', MM_NS), ...writes('serviceentries', MM_NS, ISTIO), ...writes('sidecars', MM_NS, ISTIO), ...writes('configmaps', ISTIO_NS));
  out.push(
    {verb: 'create', resource: 'pods', subresource: 'exec', namespace: MM_NS},
    {verb: 'create', resource: 'pods', subresource: 'portforward', namespace: MM_NS},
    {verb: 'create', resource: 'pods', subresource: 'eviction', namespace: MM_NS},
    {verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: RELEASE_NS},
    {verb: 'get', resource: 'configmaps', namespace: MM_NS},
    {verb: 'list', resource: 'configmaps', namespace: ISTIO_NS},
    {verb: 'get', resource: 'configmaps', namespace: ISTIO_NS, name: 'istio-ca-root-cert'},
    {verb: 'list', resource: 'namespaces'},
    {verb: 'get', resource: 'namespaces', name: OTHER_NS},
    {verb: 'update', resource: 'namespaces', name: MM_NS},
    {verb: 'list', resource: 'nodes'},
    {verb: 'create', resource: 'roles', group: 'rbac.authorization.k8s.io', namespace: MM_NS},
    {verb: 'create', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', namespace: RELEASE_NS},
    {verb: 'create', resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io'},
    {verb: 'escalate', resource: 'clusterroles', group: 'rbac.authorization.k8s.io'},
    ...reads('pods', RELEASE_NS),
    ...reads('pods', OTHER_NS),
    {verb: 'get', resource: 'pods', subresource: 'log', namespace: OTHER_NS},
    ...reads('pods', undefined),
  );
  if (!c.clusterWide) {
    out.push(...reads('serviceentries', undefined, ISTIO));
    if (!c.istioNamespaces.includes(OTHER_NS)) out.push(...reads('serviceentries', OTHER_NS, ISTIO));
  }
  if (c.clusterWide) out.push(...writes('serviceentries', undefined, ISTIO));
  if (!c.meshConfig) out.push({verb: 'get', resource: 'configmaps', namespace: ISTIO_NS, name: 'istio'});
  if (!c.meshConfig && !c.istioNamespaces.includes(ISTIO_NS)) out.push(...reads('sidecars', ISTIO_NS, ISTIO));
  if (!c.namespaceLabels) out.push({verb: 'get', resource: 'namespaces', name: MM_NS});
  return out;
}

// The chart requires the API server's address for its NetworkPolicy (no default); any will do for RBAC.
const chartValues = (c: Combination): Obj => ({
  ...c.values,
  networkPolicy: {...((c.values.networkPolicy as Obj | undefined) ?? {}), kubeApiServer: {cidrs: ['10.0.0.10/32']}},
  mattermost: {namespace: MM_NS, token: 'not-used-here'},
});

/** The name of the ServiceAccount the chart renders. */
function serviceAccountOf(objects: Obj[]): string {
  const sa = objects.find((o) => o.kind === 'ServiceAccount');
  if (sa === undefined) throw new Error('the chart rendered no ServiceAccount');
  return sa.metadata.name as string;
}

/** Renders the chart and applies its RBAC objects, leaving out those `refuse` picks; returns the render. */
async function install(c: Combination, refuse: (o: Obj) => boolean = () => false): Promise<Obj[]> {
  const objects = renderChart(c.release, RELEASE_NS, chartValues(c));
  for (const o of objects) {
    if (!RBAC_KINDS.has(o.kind as string) || refuse(o)) continue;
    await cluster.create(
      o.metadata.namespace === undefined && !String(o.kind).startsWith('Cluster') ? {...o, metadata: {...o.metadata, namespace: RELEASE_NS}} : o,
    );
  }
  return objects;
}

function blocked(host: string, ip: string, port: number): string {
  return `[${new Date().toISOString()}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - ${ip}:443 10.42.1.17:${port} ${host} -`;
}

const entry = (namespace: string, name: string, host: string): Json => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'ServiceEntry',
  metadata: {name, namespace},
  spec: {hosts: [host], location: 'MESH_EXTERNAL', ports: [{number: 443, name: 'tls', protocol: 'TLS'}], resolution: 'DNS'},
});

/** The compiled bridge with the environment the chart's Deployment gives it, signed in as the release's ServiceAccount. */
async function bridgeAs(c: Combination, objects: Obj[], name: string): Promise<CompiledBridge> {
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const env = Object.fromEntries(
    ((deployment?.spec.template.spec.containers[0].env ?? []) as {name: string; value?: string}[])
      .filter((e) => e.value !== undefined && /^EGRESS_ADVISOR_(SOURCES|ISTIO_NAMESPACE|MESH_)/.test(e.name))
      .map((e) => [e.name, e.value as string]),
  );
  expect(env.EGRESS_ADVISOR_MESH_CLUSTER_WIDE).toBe(String(c.clusterWide));
  const token = await cluster.serviceAccountToken(RELEASE_NS, serviceAccountOf(objects));
  const kubeconfig = cluster.kubeconfig(join(dir, `${name}.kubeconfig`), token, MM_NS);
  const bridge = await spawnCompiledBridge(kubeconfig, MM_NS, {
    ...env,
    EGRESS_ADVISOR_DATA_DIR: join(dir, `${name}-data`),
    EGRESS_ADVISOR_RESOLVE_SECONDS: '1',
  });
  bridges.push(bridge);
  return bridge;
}

beforeAll(async () => {
  cluster = await startKubeCluster();
  for (const ns of [RELEASE_NS, MM_NS, ISTIO_NS, OTHER_NS]) await cluster.createNamespace(ns);
  await cluster.create({apiVersion: 'v1', kind: 'Secret', metadata: {name: 'mattermost-db', namespace: MM_NS}, stringData: {url: 'postgres://secret'}});
  await cluster.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {name: 'istio', namespace: ISTIO_NS},
    data: {mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\nrootNamespace: istio-system\n'},
  });
  await cluster.createPod({namespace: MM_NS, name: POD});
  dir = mkdtempSync(join(tmpdir(), 'egress-rbac-'));
});

afterAll(async () => {
  for (const b of bridges) await b.stop();
  await cluster?.stop();
  if (dir) rmSync(dir, {recursive: true, force: true});
});

describe.each(COMBINATIONS)('the chart with $release values', (c) => {
  it('lets its ServiceAccount make every read the bridge needs, and nothing else', async () => {
    const sa = serviceAccountOf(await install(c));
    expect(await mismatches(sa, needed(c), true)).toEqual([]);
    expect(await mismatches(sa, forbidden(c), false)).toEqual([]);
  });
});

describe('the compiled bridge as the chart’s ServiceAccount', () => {
  const context = (): string => `${bridges.map((b) => b.output().trimEnd().split('\n').slice(-25).join('\n')).join('\n---\n')}\n${cluster.logs(10)}`;

  it('follows the logs, and counts a ServiceEntry another namespace exports to Mattermost, with the cluster-wide ClusterRole', async () => {
    // The defaults, all of their RBAC applied.
    const c: Combination = {...COMBINATIONS[0], release: 'ea-wide'};
    const objects = await install(c);
    expect(await allowed(serviceAccountOf(objects), {verb: 'list', resource: 'serviceentries', group: ISTIO})).toBe(true);
    await cluster.createPod({namespace: MM_NS, name: `${POD}-a`});
    cluster.appendLog(MM_NS, `${POD}-a`, 'istio-proxy', [
      blocked('shared.example.net', '192.0.2.20', 40_001),
      blocked('own.example.net', '192.0.2.21', 40_002),
    ]);
    const bridge = await bridgeAs(c, objects, 'wide');
    await waitFor('both findings', () => /blocked: shared\.example\.net:443/.test(bridge.output()) && /blocked: own\.example\.net:443/.test(bridge.output()), {
      timeoutMs: 60_000,
      context,
    });

    // Another namespace's entry, exported to every namespace (no exportTo), and one of Mattermost's own.
    await cluster.create(entry(OTHER_NS, 'shared', 'shared.example.net'));
    await cluster.create(entry(MM_NS, 'own', 'own.example.net'));
    await waitFor(
      'both resolved',
      () =>
        /resolved: shared\.example\.net:443 allowed by ServiceEntry shared-egress\/shared/.test(bridge.output()) &&
        /resolved: own\.example\.net:443/.test(bridge.output()),
      {timeoutMs: 60_000, context},
    );
    expect(bridge.output()).not.toMatch(/HTTP 403|Forbidden/);
    expect(bridge.output()).not.toContain(cluster.adminToken);
    await bridge.stop();
  });

  it('falls back to Mattermost’s namespace when the cluster-wide ClusterRole is refused, and goes on working', async () => {
    // The defaults, installed by an administrator whose cluster refuses the ClusterRole (and its binding).
    const c: Combination = {...COMBINATIONS[0], release: 'ea-refused'};
    const objects = await install(c, (o) => String(o.metadata.name).endsWith('-serviceentries'));
    const sa = serviceAccountOf(objects);
    expect(await allowed(sa, {verb: 'list', resource: 'serviceentries', group: ISTIO})).toBe(false);
    expect(await mismatches(sa, needed({...c, clusterWide: false}), true)).toEqual([]);

    await cluster.createPod({namespace: MM_NS, name: `${POD}-b`});
    cluster.appendLog(MM_NS, `${POD}-b`, 'istio-proxy', [
      blocked('elsewhere.example.net', '192.0.2.30', 40_003),
      blocked('mine.example.net', '192.0.2.31', 40_004),
    ]);
    await cluster.create(entry(OTHER_NS, 'elsewhere', 'elsewhere.example.net'));
    await cluster.create(entry(MM_NS, 'mine', 'mine.example.net'));
    const bridge = await bridgeAs(c, objects, 'refused');
    // Its log stream works, so every finding of the pods is read (the earlier pods' too: a fresh store).
    await waitFor(
      'the mine.example.net finding resolved',
      () => /resolved: mine\.example\.net:443 allowed by ServiceEntry mattermost\/mine/.test(bridge.output()),
      {timeoutMs: 60_000, context},
    );
    await new Promise((r) => setTimeout(r, 3_000));
    // The other namespace's entry is not visible to it: that finding stays open.
    expect(bridge.output()).not.toMatch(/resolved: elsewhere\.example\.net/);
    expect(await bridge.metric('egress_advisor_findings{status="open",verdict="blocked"}')).toBeGreaterThanOrEqual(1);
    expect(bridge.output()).not.toContain(cluster.adminToken);
  });
});
