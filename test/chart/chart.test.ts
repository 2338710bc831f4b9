/*
 * The Helm chart (build/chart/egress-advisor), rendered for real by the pinned Helm client that
 * test/chart/build-helm.sh builds from its Go module, and the container recipe (build/Dockerfile).
 *
 * Every rendered object is validated against the Kubernetes schemas (kubernetes-models), checked for
 * fields the API does not define (unknown-fields.mjs), and the Istio objects against the Istio schemas
 * (@kubernetes-models/istio). Then the properties the chart promises are asserted one by one.
 *
 * Without the helm binary this suite fails and says what to run; it never skips.
 */
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';

import {parse, parseAllDocuments, stringify} from 'yaml';
import {ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount} from 'kubernetes-models/v1';
import {Deployment} from 'kubernetes-models/apps/v1';
import {NetworkPolicy} from 'kubernetes-models/networking.k8s.io/v1';
import {PodDisruptionBudget} from 'kubernetes-models/policy/v1';
import {ClusterRole, ClusterRoleBinding, Role, RoleBinding} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import {AuthorizationPolicy} from '@kubernetes-models/istio/security.istio.io/v1';
import {helmBinary} from './helm';

jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '..', '..');
const CHART = join(ROOT, 'build', 'chart', 'egress-advisor');
const BUILD_SCRIPT = join(__dirname, 'build-helm.sh');
const RELEASE = 'egress-advisor';
const NAMESPACE = 'mattermost';
const FULLNAME = 'egress-advisor'; // the release name contains the chart name
const TOKEN = 'tok3n-e9b1c2d4f6a8h0j2k4m6n8p0';
const TOKEN_B64 = Buffer.from(TOKEN).toString('base64');
const DB_URL = 'postgres://egress:pa55-w0rd-7c1e@postgres.db.svc.cluster.local:5432/egress_advisor';
const DB_URL_B64 = Buffer.from(DB_URL).toString('base64');
const DB_SECRET_PATH = '/var/run/secrets/egress-advisor/database/url';
/** Objects without a namespace. */
const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding']);

// ---------------------------------------------------------------------------------------------------
// Rendering

/** A rendered manifest, loosely typed: the assertions below walk it like the API server would. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

function pinnedVersion(): string {
  const m = /^HELM_VERSION='(v3\.\d+\.\d+)'$/m.exec(readFileSync(BUILD_SCRIPT, 'utf8'));
  if (!m) throw new Error('no HELM_VERSION in build-helm.sh');
  return m[1];
}

let helm = '';
let work = '';

beforeAll(() => {
  helm = helmBinary();
  work = mkdtempSync(join(tmpdir(), 'egress-chart-'));
});

afterAll(() => {
  if (work) rmSync(work, {recursive: true, force: true});
});

interface RenderOptions {
  values?: Obj;
  namespace?: string;
  release?: string;
}

let counter = 0;

function helmArgs({values = {}, namespace = NAMESPACE, release = RELEASE}: RenderOptions): string[] {
  const file = join(work, `values-${++counter}.yaml`);
  writeFileSync(file, stringify(values));
  return ['template', release, CHART, '--namespace', namespace, '--values', file];
}

/** `helm template`, then every document parsed; fails the test on any Helm or YAML error. */
function render(opts: RenderOptions = {}): Obj[] {
  const r = spawnSync(helm, helmArgs(opts), {encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  const out: Obj[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
    const js: unknown = doc.toJS();
    if (js === null || js === undefined) continue;
    out.push(js as Obj);
  }
  return out;
}

function renderText(opts: RenderOptions = {}): string {
  const r = spawnSync(helm, helmArgs(opts), {encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** The error Helm prints when the chart refuses the values. */
function renderError(opts: RenderOptions): string {
  const r = spawnSync(helm, helmArgs(opts), {encoding: 'utf8'});
  if (r.status === 0) throw new Error('helm template succeeded, expected it to refuse the values');
  return r.stderr;
}

/** The API server's address: the chart has no default for it (see the NetworkPolicy tests). */
const API_SERVER = {networkPolicy: {kubeApiServer: {cidrs: ['10.0.0.10/32']}}};
const withToken = (extra: Obj = {}): Obj => merge(merge({mattermost: {token: TOKEN}}, API_SERVER), extra);

function merge(a: Obj, b: Obj): Obj {
  const out: Obj = {...a};
  for (const [k, v] of Object.entries(b)) {
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' ? merge(out[k] as Obj, v as Obj) : v;
  }
  return out;
}

function find(objs: Obj[], kind: string, name?: string): Obj[] {
  return objs.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
}

function one(objs: Obj[], kind: string): Obj {
  const found = find(objs, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

/** The ClusterRole (and its binding) for cluster-wide ServiceEntries; the other one reads one namespace object. */
const SE_READER = `${FULLNAME}-${NAMESPACE}-serviceentries`;
const NS_READER = `${FULLNAME}-${NAMESPACE}-namespace`;
const NS_READER_RULES = [{apiGroups: [''], resources: ['namespaces'], resourceNames: [NAMESPACE], verbs: ['get']}];

function container(objs: Obj[]): Obj {
  const containers = one(objs, 'Deployment').spec.template.spec.containers as Obj[];
  expect(containers).toHaveLength(1);
  return containers[0];
}

function env(objs: Obj[]): Map<string, Obj> {
  return new Map((container(objs).env as Obj[]).map((e) => [e.name as string, e]));
}

function envValue(objs: Obj[], name: string): string | undefined {
  return env(objs).get(name)?.value as string | undefined;
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

// ---------------------------------------------------------------------------------------------------
// Schema validation

/**
 * Validates one object against its schema. networking.istio.io/v1 is the v1beta1 API promoted unchanged
 * (same schema); the models package only ships v1beta1, so the v1 object is checked with that schema.
 */
function validateSchema(obj: Obj): void {
  const key = `${obj.apiVersion} ${obj.kind}`;
  switch (key) {
    case 'v1 ConfigMap':
      return new ConfigMap(obj as never).validate();
    case 'v1 PersistentVolumeClaim':
      return new PersistentVolumeClaim(obj as never).validate();
    case 'v1 Secret':
      return new Secret(obj as never).validate();
    case 'v1 Service':
      return new Service(obj as never).validate();
    case 'v1 ServiceAccount':
      return new ServiceAccount(obj as never).validate();
    case 'apps/v1 Deployment':
      return new Deployment(obj as never).validate();
    case 'networking.k8s.io/v1 NetworkPolicy':
      return new NetworkPolicy(obj as never).validate();
    case 'rbac.authorization.k8s.io/v1 Role':
      return new Role(obj as never).validate();
    case 'rbac.authorization.k8s.io/v1 RoleBinding':
      return new RoleBinding(obj as never).validate();
    case 'rbac.authorization.k8s.io/v1 ClusterRole':
      return new ClusterRole(obj as never).validate();
    case 'rbac.authorization.k8s.io/v1 ClusterRoleBinding':
      return new ClusterRoleBinding(obj as never).validate();
    case 'policy/v1 PodDisruptionBudget':
      return new PodDisruptionBudget(obj as never).validate();
    case 'security.istio.io/v1 AuthorizationPolicy':
      return new AuthorizationPolicy(obj as never).validate();
    default:
      throw new Error(`the chart rendered ${key}, which this suite has no schema for`);
  }
}

function unknownFields(objs: Obj[]): string[] {
  const core = objs.filter((o) => !String(o.apiVersion).includes('istio.io'));
  const out = execFileSync(process.execPath, [join(__dirname, 'unknown-fields.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(core.map((o) => ({kind: o.kind, object: o}))),
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

function expectValid(objs: Obj[]): void {
  expect(objs.length).toBeGreaterThan(0);
  for (const obj of objs) {
    expect(() => validateSchema(obj)).not.toThrow();
    expect(obj.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    if (CLUSTER_SCOPED.has(obj.kind as string)) expect(obj.metadata?.namespace).toBeUndefined();
    else expect(obj.metadata?.namespace).toEqual(expect.any(String));
    expect(obj.metadata?.labels?.['app.kubernetes.io/name']).toBe('egress-advisor');
  }
  expect(unknownFields(objs)).toEqual([]);
  // Two objects of one kind never share a name in one namespace.
  const ids = objs.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
  expect(new Set(ids).size).toBe(ids.length);
}

// ---------------------------------------------------------------------------------------------------
// The scenarios every object is validated in

const SCENARIOS: Array<[string, RenderOptions]> = [
  ['defaults (token from a value)', {values: withToken()}],
  ['existingSecret', {values: merge(API_SERVER, {mattermost: {existingSecret: 'mm-bot-token', existingSecretKey: 'pat'}})}],
  ['Istio off', {values: withToken({istio: {enabled: false}})}],
  ['PVC on', {values: withToken({persistence: {enabled: true, size: '2Gi', storageClass: 'fast'}})}],
  ['existing PVC', {values: withToken({persistence: {enabled: true, existingClaim: 'egress-data'}})}],
  ['NetworkPolicy off', {values: withToken({networkPolicy: {enabled: false}})}],
  ['AuthorizationPolicy on', {values: withToken({istio: {authorizationPolicy: {enabled: true}}})}],
  ['Big Bang values for suggestions', {values: withToken({suggestions: {bigbangValues: 'addons:\n  mattermost:\n    values:\n      routes: {}\n'}})}],
  ['own namespace, more Istio namespaces', {namespace: 'egress-advisor', values: withToken({rbac: {istioNamespaces: ['istio-system']}})}],
  [
    'HA: 3 replicas, URL from an existing Secret, database pods by selector',
    {
      values: withToken({
        replicaCount: 3,
        database: {
          existingSecret: 'egress-db',
          existingSecretKey: 'dsn',
          networkPolicy: {
            namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': 'db'}},
            podSelector: {matchLabels: {'app.kubernetes.io/name': 'postgresql'}},
          },
        },
      }),
    },
  ],
  [
    'HA: 2 replicas, URL from a value, database by CIDR',
    {values: withToken({replicaCount: 2, database: {url: DB_URL, networkPolicy: {cidr: '10.0.5.20/32', port: 6432}}})},
  ],
  ['PostgreSQL with one replica', {values: withToken({database: {existingSecret: 'egress-db', networkPolicy: {cidr: '10.0.5.20/32'}}})}],
  ['mesh reads narrowed', {values: withToken({rbac: {clusterWideServiceEntries: false, meshConfig: false}})}],
  ['RBAC made elsewhere', {values: withToken({rbac: {create: false}})}],
  [
    'everything on',
    {
      values: {
        mattermost: {existingSecret: 'mm-bot-token', team: 'ops'},
        persistence: {enabled: true},
        istio: {authorizationPolicy: {enabled: true}},
        suggestions: {existingConfigMap: 'bb-values', existingConfigMapKey: 'values.yaml'},
        imagePullSecrets: [{name: 'private-registry'}],
        image: {repository: 'registry.example.mil/egress-advisor', digest: 'sha256:' + 'a'.repeat(64)},
        extraEnv: [{name: 'EGRESS_ADVISOR_DIGEST_SECONDS', value: '60'}],
        networkPolicy: {
          kubeApiServer: {cidrs: ['10.0.0.10/32']},
          extraEgress: [{to: [{ipBlock: {cidr: '10.0.0.0/8'}}], ports: [{port: 5432, protocol: 'TCP'}]}],
        },
        nodeSelector: {'kubernetes.io/os': 'linux'},
        tolerations: [{key: 'dedicated', operator: 'Equal', value: 'chat', effect: 'NoSchedule'}],
        podAnnotations: {'example.com/team': 'platform'},
        priorityClassName: 'important',
      },
    },
  ],
];

describe('the pinned Helm client', () => {
  test('build-helm.sh built the exact release it pins', () => {
    const version = execFileSync(helm, ['version', '--template', '{{.Version}}'], {encoding: 'utf8'}).trim();
    expect(version).toBe(pinnedVersion());
  });

  test('helm lint --strict passes', () => {
    const file = join(work, 'lint.yaml');
    writeFileSync(file, stringify(withToken()));
    const r = spawnSync(helm, ['lint', '--strict', CHART, '--values', file], {encoding: 'utf8'});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe.each(SCENARIOS)('every object is valid: %s', (_name, opts) => {
  let objs: Obj[] = [];
  beforeAll(() => {
    objs = render(opts);
  });

  test('against the Kubernetes and Istio schemas, without unknown fields', () => {
    expectValid(objs);
  });

  test('the promises that hold whatever the values', () => {
    const dep = one(objs, 'Deployment');
    const pod = dep.spec.template;
    const c = container(objs);
    // Security.
    expect(pod.spec.securityContext).toMatchObject({runAsNonRoot: true, seccompProfile: {type: 'RuntimeDefault'}});
    expect(pod.spec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: {drop: ['ALL']},
      seccompProfile: {type: 'RuntimeDefault'},
    });
    expect(c.securityContext.capabilities.add).toBeUndefined();
    for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pod.spec[k]).toBeUndefined();
    for (const v of pod.spec.volumes as Obj[]) expect(v.hostPath).toBeUndefined();
    // SQLite: one pod, and the old one stops before the new one starts. PostgreSQL: a rolling update that
    // never has fewer pods than asked for, no claim, and the URL from a mounted Secret key.
    const dbFile = envValue(objs, 'EGRESS_ADVISOR_DATABASE_URL_FILE');
    if (dbFile === undefined) {
      expect(dep.spec.replicas).toBe(1);
      expect(dep.spec.strategy).toEqual({type: 'Recreate'});
    } else {
      expect(dep.spec.replicas).toBeGreaterThanOrEqual(1);
      expect(dep.spec.strategy).toEqual({type: 'RollingUpdate', rollingUpdate: {maxUnavailable: 0, maxSurge: 1}});
      expect(find(objs, 'PersistentVolumeClaim')).toEqual([]);
      for (const v of pod.spec.volumes as Obj[]) expect(v.persistentVolumeClaim).toBeUndefined();
      const mount = (c.volumeMounts as Obj[]).find((m) => dbFile.startsWith(`${m.mountPath}/`));
      expect(mount?.readOnly).toBe(true);
      const vol = (pod.spec.volumes as Obj[]).find((v) => v.name === mount?.name);
      expect(vol?.secret?.items).toEqual([{key: expect.any(String), path: dbFile.slice(`${mount?.mountPath}/`.length)}]);
    }
    // Several pods: a disruption budget that still lets a drain evict one, and pods spread over nodes.
    const pdbs = find(objs, 'PodDisruptionBudget');
    if (dep.spec.replicas > 1) {
      expect(pdbs).toHaveLength(1);
      expect(pdbs[0].spec.selector.matchLabels).toEqual(dep.spec.selector.matchLabels);
      expect(pdbs[0].spec.minAvailable).toBeLessThan(dep.spec.replicas);
      const spread = pod.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
      expect(spread.topologyKey).toBe('kubernetes.io/hostname');
      expect(labelsMatch(spread.labelSelector.matchLabels, pod.metadata.labels)).toBe(true);
    } else {
      expect(pdbs).toEqual([]);
      expect(pod.spec.affinity).toBeUndefined();
    }
    // Labels and selectors agree.
    expect(labelsMatch(dep.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    const svc = one(objs, 'Service');
    expect(labelsMatch(svc.spec.selector, pod.metadata.labels)).toBe(true);
    expect(svc.spec.selector).toEqual(dep.spec.selector.matchLabels);
    for (const np of find(objs, 'NetworkPolicy')) expect(np.spec.podSelector.matchLabels).toEqual(dep.spec.selector.matchLabels);
    for (const ap of find(objs, 'AuthorizationPolicy')) expect(ap.spec.selector.matchLabels).toEqual(dep.spec.selector.matchLabels);
    // The bridge never matches the Mattermost pods' selector (it would read its own logs and be let in as Mattermost).
    expect(labelsMatch({app: 'mattermost'}, pod.metadata.labels)).toBe(false);
    // The Service's target port is the container's port.
    const port = (c.ports as Obj[]).find((p) => p.name === svc.spec.ports[0].targetPort);
    expect(port?.containerPort).toBe(svc.spec.ports[0].port);
    // The token and the database URL are never environment values; they only come from files.
    for (const e of c.env as Obj[]) {
      expect(e.name).not.toBe('MATTERMOST_TOKEN');
      expect(e.name).not.toBe('EGRESS_ADVISOR_DATABASE_URL');
      expect(e.valueFrom?.secretKeyRef).toBeUndefined();
      expect(String(e.value)).not.toMatch(/postgres(ql)?:\/\//);
    }
    expect(c.envFrom).toBeUndefined();
    // No ServiceEntry: the bridge only talks to in-cluster Services.
    expect(find(objs, 'ServiceEntry')).toEqual([]);
    // RBAC reads only: no wildcard, no write, no Secret, in any Role or ClusterRole.
    for (const role of [...find(objs, 'Role'), ...find(objs, 'ClusterRole')]) {
      for (const rule of role.rules as Obj[]) {
        for (const field of ['apiGroups', 'resources', 'verbs']) expect(rule[field]).not.toContain('*');
        expect(rule.resources).not.toContain('secrets');
        expect(rule.nonResourceURLs).toBeUndefined();
        for (const verb of rule.verbs as string[]) expect(['get', 'list', 'watch']).toContain(verb);
      }
    }
    // Cluster-wide, nothing but reading ServiceEntries, and Mattermost's namespace object by name.
    for (const cr of find(objs, 'ClusterRole')) {
      const rules = cr.rules as Obj[];
      if (rules[0]?.resources.includes('namespaces')) {
        expect(rules).toEqual([{apiGroups: [''], resources: ['namespaces'], resourceNames: [expect.any(String)], verbs: ['get']}]);
      } else {
        expect(rules).toEqual([{apiGroups: ['networking.istio.io'], resources: ['serviceentries'], verbs: ['get', 'list', 'watch']}]);
      }
    }
    // Every binding names a rendered role (in its own namespace) and the bridge's ServiceAccount only.
    const subjects = [{kind: 'ServiceAccount', name: pod.spec.serviceAccountName, namespace: dep.metadata.namespace}];
    for (const rb of find(objs, 'RoleBinding')) {
      expect(find(objs, 'Role', rb.roleRef.name).some((r) => r.metadata.namespace === rb.metadata.namespace)).toBe(true);
      expect(rb.subjects).toEqual(subjects);
    }
    for (const crb of find(objs, 'ClusterRoleBinding')) {
      expect(crb.roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: crb.metadata.name});
      expect(find(objs, 'ClusterRole', crb.metadata.name)).toHaveLength(1);
      expect(crb.subjects).toEqual(subjects);
    }
    // The mesh reader asks for what the RBAC grants, whenever the chart makes the RBAC.
    if (find(objs, 'Role').length > 0) {
      const seReader = find(objs, 'ClusterRole').filter((cr) => (cr.rules as Obj[]).some((r) => r.resources.includes('serviceentries')));
      expect(seReader.length > 0).toBe(envValue(objs, 'EGRESS_ADVISOR_MESH_CLUSTER_WIDE') === 'true');
      const configMapRules = find(objs, 'Role').flatMap((r) =>
        (r.rules as Obj[]).filter((rule) => rule.resources.includes('configmaps')).map((rule) => ({namespace: r.metadata.namespace, rule})),
      );
      const meshConfigMap = envValue(objs, 'EGRESS_ADVISOR_MESH_CONFIGMAP');
      if (meshConfigMap === 'none') expect(configMapRules).toEqual([]);
      else {
        expect(configMapRules).toEqual([
          {
            namespace: envValue(objs, 'EGRESS_ADVISOR_ISTIO_NAMESPACE'),
            rule: {apiGroups: [''], resources: ['configmaps'], resourceNames: [meshConfigMap], verbs: ['get']},
          },
        ]);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Defaults, object by object

describe('defaults (Big Bang: namespace mattermost, Mattermost at mattermost.mattermost.svc:8065)', () => {
  let objs: Obj[] = [];
  beforeAll(() => {
    objs = render({values: withToken()});
  });

  test('renders exactly the expected objects', () => {
    const ids = objs.map((o) => `${o.kind} ${o.metadata.namespace ?? '-'}/${o.metadata.name}`).sort();
    expect(ids).toEqual([
      `ClusterRole -/${NS_READER}`,
      `ClusterRole -/${SE_READER}`,
      `ClusterRoleBinding -/${NS_READER}`,
      `ClusterRoleBinding -/${SE_READER}`,
      `Deployment ${NAMESPACE}/${FULLNAME}`,
      `NetworkPolicy ${NAMESPACE}/${FULLNAME}`,
      `Role istio-system/${FULLNAME}-mesh`,
      `Role ${NAMESPACE}/${FULLNAME}`,
      `RoleBinding istio-system/${FULLNAME}-mesh`,
      `RoleBinding ${NAMESPACE}/${FULLNAME}`,
      `Secret ${NAMESPACE}/${FULLNAME}-mattermost-token`,
      `Service ${NAMESPACE}/${FULLNAME}`,
      `ServiceAccount ${NAMESPACE}/${FULLNAME}`,
    ]);
  });

  test('Deployment: image, command, resources and writable volumes', () => {
    const dep = one(objs, 'Deployment');
    const c = container(objs);
    expect(c.image).toBe('egress-advisor:0.1.0');
    expect(c.args).toEqual(['serve']);
    expect(c.command).toBeUndefined(); // the image's ENTRYPOINT runs bin/egress-advisor.js
    expect(c.resources.requests).toEqual({cpu: '50m', memory: '128Mi'});
    expect(c.resources.limits).toEqual({cpu: '500m', memory: '512Mi'});
    const spec = dep.spec.template.spec;
    expect(spec.serviceAccountName).toBe(FULLNAME);
    expect(spec.automountServiceAccountToken).toBe(true);
    expect(spec.securityContext).toMatchObject({runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001});
    // The root filesystem is read-only: the data folder and /tmp are volumes.
    const mounts = new Map((c.volumeMounts as Obj[]).map((m) => [m.mountPath as string, m]));
    const volumes = new Map((spec.volumes as Obj[]).map((v) => [v.name as string, v]));
    expect(volumes.get(mounts.get('/data')?.name)?.emptyDir).toEqual({sizeLimit: '512Mi'});
    expect(volumes.get(mounts.get('/tmp')?.name)?.emptyDir).toBeDefined();
    expect(envValue(objs, 'EGRESS_ADVISOR_DATA_DIR')).toBe('/data');
  });

  test('Deployment: probes on /healthz and /readyz', () => {
    const c = container(objs);
    expect(c.livenessProbe.httpGet).toEqual({path: '/healthz', port: 'http'});
    expect(c.readinessProbe.httpGet).toEqual({path: '/readyz', port: 'http'});
    expect(c.startupProbe.httpGet).toEqual({path: '/healthz', port: 'http'});
    expect(c.ports).toEqual([{name: 'http', containerPort: 8080, protocol: 'TCP'}]);
  });

  test('Deployment: the bridge settings', () => {
    expect(envValue(objs, 'EGRESS_ADVISOR_LISTEN')).toBe('0.0.0.0:8080');
    expect(envValue(objs, 'EGRESS_ADVISOR_SOURCES')).toBe('kubernetes:mattermost?selector=app=mattermost');
    expect(envValue(objs, 'MATTERMOST_URL')).toBe('http://mattermost.mattermost.svc.cluster.local:8065');
    expect(envValue(objs, 'EGRESS_ADVISOR_PUBLIC_URL')).toBe(`http://${FULLNAME}.${NAMESPACE}.svc.cluster.local:8080`);
    expect(envValue(objs, 'EGRESS_ADVISOR_FORMAT')).toBe('bigbang');
    expect(envValue(objs, 'EGRESS_ADVISOR_CHANNEL')).toBe('egress-advisor');
    expect(envValue(objs, 'EGRESS_ADVISOR_TEAM')).toBeUndefined();
    expect(envValue(objs, 'EGRESS_ADVISOR_VALUES_FILE')).toBeUndefined();
    expect(envValue(objs, 'EGRESS_ADVISOR_DATABASE_URL_FILE')).toBeUndefined();
    expect(envValue(objs, 'EGRESS_ADVISOR_ISTIO_NAMESPACE')).toBe('istio-system');
    expect(envValue(objs, 'EGRESS_ADVISOR_MESH_CONFIGMAP')).toBe('istio');
    expect(envValue(objs, 'EGRESS_ADVISOR_MESH_CLUSTER_WIDE')).toBe('true');
    for (const e of container(objs).env as Obj[]) expect(typeof e.value).toBe('string');
  });

  test('the token: a Secret, mounted read-only as a file, named by MATTERMOST_TOKEN_FILE, nowhere else', () => {
    const secret = one(objs, 'Secret');
    expect(secret.type).toBe('Opaque');
    expect(secret.data).toEqual({token: TOKEN_B64});
    const c = container(objs);
    const spec = one(objs, 'Deployment').spec.template.spec;
    const vol = (spec.volumes as Obj[]).find((v) => v.secret !== undefined);
    expect(vol?.secret).toEqual({secretName: secret.metadata.name, defaultMode: 0o440, items: [{key: 'token', path: 'token'}]});
    const mount = (c.volumeMounts as Obj[]).find((m) => m.name === vol?.name);
    expect(mount?.readOnly).toBe(true);
    expect(envValue(objs, 'MATTERMOST_TOKEN_FILE')).toBe(`${mount?.mountPath}/token`);
    // Neither the token nor its base64 form appears in anything but the Secret.
    for (const o of objs.filter((x) => x.kind !== 'Secret')) {
      const text = JSON.stringify(o);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(TOKEN_B64);
    }
    expect(find(objs, 'ConfigMap')).toEqual([]);
  });

  test('Role: exactly pods get/list/watch, pods/log get, ServiceEntries and Sidecars get/list/watch', () => {
    const role = find(objs, 'Role', FULLNAME)[0];
    expect(role.metadata.namespace).toBe(NAMESPACE);
    expect(role.rules).toEqual([
      {apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch']},
      {apiGroups: [''], resources: ['pods/log'], verbs: ['get']},
      {apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'sidecars'], verbs: ['get', 'list', 'watch']},
    ]);
    for (const rule of role.rules as Obj[]) {
      for (const field of ['apiGroups', 'resources', 'verbs']) expect(rule[field]).not.toContain('*');
      expect(rule.resources).not.toContain('secrets');
      expect(rule.resources).not.toContain('pods/exec');
      for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection', 'escalate', 'bind', 'impersonate']) expect(rule.verbs).not.toContain(verb);
      expect(rule.resourceNames).toBeUndefined();
      expect(rule.nonResourceURLs).toBeUndefined();
    }
  });

  test('RoleBinding: that Role to the bridge ServiceAccount', () => {
    const rb = find(objs, 'RoleBinding', FULLNAME)[0];
    const sa = one(objs, 'ServiceAccount');
    expect(rb.metadata.namespace).toBe(NAMESPACE);
    expect(rb.roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: FULLNAME});
    expect(rb.subjects).toEqual([{kind: 'ServiceAccount', name: sa.metadata.name, namespace: NAMESPACE}]);
    expect(sa.automountServiceAccountToken).toBe(false);
  });

  test('ClusterRole: only ServiceEntries get/list/watch, bound to the bridge ServiceAccount', () => {
    const cr = find(objs, 'ClusterRole', SE_READER)[0];
    expect(cr.rules).toEqual([{apiGroups: ['networking.istio.io'], resources: ['serviceentries'], verbs: ['get', 'list', 'watch']}]);
    const crb = find(objs, 'ClusterRoleBinding', SE_READER)[0];
    expect(crb.roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: cr.metadata.name});
    expect(crb.subjects).toEqual([{kind: 'ServiceAccount', name: FULLNAME, namespace: NAMESPACE}]);
  });

  test("Istio's root namespace: the mesh config ConfigMap by name only, and Sidecars", () => {
    const role = find(objs, 'Role', `${FULLNAME}-mesh`)[0];
    expect(role.metadata.namespace).toBe('istio-system');
    expect(role.rules).toEqual([
      {apiGroups: [''], resources: ['configmaps'], resourceNames: ['istio'], verbs: ['get']},
      {apiGroups: ['networking.istio.io'], resources: ['sidecars'], verbs: ['get', 'list', 'watch']},
    ]);
    const rb = find(objs, 'RoleBinding', `${FULLNAME}-mesh`)[0];
    expect(rb.metadata.namespace).toBe('istio-system');
    expect(rb.roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name});
    expect(rb.subjects).toEqual([{kind: 'ServiceAccount', name: FULLNAME, namespace: NAMESPACE}]);
  });

  test('no store but SQLite: one replica, Recreate, no disruption budget, no anti-affinity', () => {
    const dep = one(objs, 'Deployment');
    expect(dep.spec.replicas).toBe(1);
    expect(dep.spec.strategy).toEqual({type: 'Recreate'});
    expect(dep.spec.template.spec.affinity).toBeUndefined();
    expect(find(objs, 'PodDisruptionBudget')).toEqual([]);
  });

  test('Service: ClusterIP on 8080, named http for Istio', () => {
    const svc = one(objs, 'Service');
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP', appProtocol: 'http'}]);
  });

  test('no route from an ingress: the bridge is reached only through the plugin inside Mattermost', () => {
    expect(find(objs, 'VirtualService')).toEqual([]);
    expect(find(objs, 'Gateway')).toEqual([]);
  });

  test('NetworkPolicy: in from Mattermost only, on 8080; out to the API server, Mattermost, DNS, istiod', () => {
    const np = one(objs, 'NetworkPolicy');
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const ns = (name: string) => ({matchLabels: {'kubernetes.io/metadata.name': name}});
    expect(np.spec.ingress).toEqual([
      {from: [{namespaceSelector: ns('mattermost'), podSelector: {matchLabels: {app: 'mattermost'}}}], ports: [{port: 8080, protocol: 'TCP'}]},
    ]);
    expect(np.spec.egress).toEqual([
      {
        to: [{ipBlock: {cidr: '10.0.0.10/32'}}],
        ports: [
          {port: 443, protocol: 'TCP'},
          {port: 6443, protocol: 'TCP'},
        ],
      },
      {to: [{namespaceSelector: ns('mattermost'), podSelector: {matchLabels: {app: 'mattermost'}}}], ports: [{port: 8065, protocol: 'TCP'}]},
      {
        to: [{namespaceSelector: ns('kube-system'), podSelector: {matchLabels: {'k8s-app': 'kube-dns'}}}],
        ports: [
          {port: 53, protocol: 'UDP'},
          {port: 53, protocol: 'TCP'},
        ],
      },
      {to: [{namespaceSelector: ns('istio-system'), podSelector: {matchLabels: {app: 'istiod'}}}], ports: [{port: 15012, protocol: 'TCP'}]},
    ]);
    // No rule opens everything: each names its peers and its ports.
    for (const rule of [...np.spec.ingress, ...np.spec.egress] as Obj[]) {
      expect((rule.from ?? rule.to).length).toBeGreaterThan(0);
      expect(rule.ports.length).toBeGreaterThan(0);
    }
    // The ingress rules open the port the container listens on.
    expect(np.spec.ingress[0].ports[0].port).toBe(container(objs).ports[0].containerPort);
  });

  test('NetworkPolicy: the API server address has no default; without it the chart refuses to render, and nothing opens 0.0.0.0/0', () => {
    expect(renderError({values: {mattermost: {token: TOKEN}}})).toContain('networkPolicy.kubeApiServer.cidrs is required with networkPolicy.enabled');
    // With the policy off, nothing needs the address.
    expect(render({values: {mattermost: {token: TOKEN}, networkPolicy: {enabled: false}}}).some((o) => o.kind === 'NetworkPolicy')).toBe(false);
    const rendered = renderText({values: withToken()});
    expect(rendered).not.toContain('0.0.0.0/0');
  });

  test('the pod annotation that restarts the bridge when the token changes is a hash, not the token', () => {
    const annotations = one(objs, 'Deployment').spec.template.metadata.annotations as Record<string, string>;
    expect(annotations['checksum/mattermost-token']).toMatch(/^[0-9a-f]{64}$/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Variations

describe('variations', () => {
  test('existingSecret: no Secret is created; the file comes from the named Secret and key', () => {
    const objs = render({values: merge(API_SERVER, {mattermost: {existingSecret: 'mm-bot-token', existingSecretKey: 'pat'}})});
    expect(find(objs, 'Secret')).toEqual([]);
    const spec = one(objs, 'Deployment').spec.template.spec;
    const vol = (spec.volumes as Obj[]).find((v) => v.secret !== undefined);
    expect(vol?.secret).toMatchObject({secretName: 'mm-bot-token', items: [{key: 'pat', path: 'token'}]});
    expect(envValue(objs, 'MATTERMOST_TOKEN_FILE')).toBe('/var/run/secrets/egress-advisor/mattermost/token');
    expect(one(objs, 'Deployment').spec.template.metadata.annotations?.['checksum/mattermost-token']).toBeUndefined();
  });

  test('Istio off: no Istio objects and no istiod rule', () => {
    const objs = render({values: withToken({istio: {enabled: false, authorizationPolicy: {enabled: true}}})});
    expect(objs.filter((o) => String(o.apiVersion).includes('istio.io'))).toEqual([]);
    const np = one(objs, 'NetworkPolicy');
    expect(np.spec.ingress).toHaveLength(1);
    expect(np.spec.egress.map((r: Obj) => r.ports[0].port)).toEqual([443, 8065, 53]);
  });

  test('PVC on: a claim of the given size and class holds /data', () => {
    const objs = render({values: withToken({persistence: {enabled: true, size: '2Gi', storageClass: 'fast'}})});
    const pvc = one(objs, 'PersistentVolumeClaim');
    expect(pvc.metadata.name).toBe(`${FULLNAME}-data`);
    expect(pvc.spec).toEqual({accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '2Gi'}}, storageClassName: 'fast'});
    const spec = one(objs, 'Deployment').spec.template.spec;
    const data = (spec.volumes as Obj[]).find((v) => v.name === 'data');
    expect(data).toEqual({name: 'data', persistentVolumeClaim: {claimName: pvc.metadata.name}});
  });

  test('PVC with storageClass "-" asks for no class; an existing claim is used as is', () => {
    const noClass = one(render({values: withToken({persistence: {enabled: true, storageClass: '-'}})}), 'PersistentVolumeClaim');
    expect(noClass.spec.storageClassName).toBe('');
    const defaultClass = one(render({values: withToken({persistence: {enabled: true}})}), 'PersistentVolumeClaim');
    expect(defaultClass.spec.storageClassName).toBeUndefined();
    const objs = render({values: withToken({persistence: {enabled: true, existingClaim: 'egress-data'}})});
    expect(find(objs, 'PersistentVolumeClaim')).toEqual([]);
    const data = (one(objs, 'Deployment').spec.template.spec.volumes as Obj[]).find((v) => v.name === 'data');
    expect(data?.persistentVolumeClaim).toEqual({claimName: 'egress-data'});
  });

  test('NetworkPolicy off: none rendered', () => {
    const objs = render({values: withToken({networkPolicy: {enabled: false}})});
    expect(find(objs, 'NetworkPolicy')).toEqual([]);
    expect(find(objs, 'Deployment')).toHaveLength(1);
  });

  test('NetworkPolicy narrowed to the control plane, with extra rules appended', () => {
    const objs = render({
      values: withToken({
        networkPolicy: {
          kubeApiServer: {cidrs: ['10.0.0.10/32', '10.0.0.11/32'], ports: [6443]},
          extraIngress: [{from: [{namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': 'monitoring'}}}], ports: [{port: 8080, protocol: 'TCP'}]}],
        },
      }),
    });
    const np = one(objs, 'NetworkPolicy');
    expect(np.spec.egress[0]).toEqual({to: [{ipBlock: {cidr: '10.0.0.10/32'}}, {ipBlock: {cidr: '10.0.0.11/32'}}], ports: [{port: 6443, protocol: 'TCP'}]});
    expect(np.spec.ingress).toHaveLength(2);
    expect(np.spec.ingress[1].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('monitoring');
  });

  test("AuthorizationPolicy on: only Mattermost's service account may call the bridge", () => {
    const objs = render({values: withToken({istio: {authorizationPolicy: {enabled: true}}})});
    const ap = one(objs, 'AuthorizationPolicy');
    expect(ap.spec.action).toBe('ALLOW');
    expect(ap.spec.rules).toEqual([{from: [{source: {principals: ['cluster.local/ns/mattermost/sa/mattermost']}}]}]);
    const other = one(
      render({values: withToken({mattermost: {namespace: 'chat', serviceAccount: 'mm'}, istio: {authorizationPolicy: {enabled: true}}})}),
      'AuthorizationPolicy',
    );
    expect(other.spec.rules[0].from[0].source.principals).toEqual(['cluster.local/ns/chat/sa/mm']);
  });

  // `helm template` does not render NOTES.txt (only an install against a cluster does), so its text is read as written.
  test('NOTES: the two steps, and no route or untrusted-connection setting to add', () => {
    const notes = readFileSync(join(CHART, 'templates', 'NOTES.txt'), 'utf8');
    expect(notes).toContain('Two steps in all');
    expect(notes).toContain('Upload the plugin');
    expect(notes).not.toMatch(/VirtualService|virtualService|location \/plugins/);
    expect(notes).not.toMatch(/add its host to\s+ServiceSettings\.AllowedUntrustedInternalConnections/);
  });

  test('Big Bang values for suggestions: a ConfigMap, mounted, named by EGRESS_ADVISOR_VALUES_FILE', () => {
    const values = 'addons:\n  mattermost:\n    values:\n      routes:\n        outbound: {}\n';
    const objs = render({values: withToken({suggestions: {bigbangValues: values}})});
    const cm = one(objs, 'ConfigMap');
    expect(parse(cm.data['values.yaml'] as string)).toEqual(parse(values));
    const c = container(objs);
    const file = envValue(objs, 'EGRESS_ADVISOR_VALUES_FILE');
    const mount = (c.volumeMounts as Obj[]).find((m) => m.name === 'bigbang-values');
    expect(file).toBe(`${mount?.mountPath}/values.yaml`);
    expect(mount?.readOnly).toBe(true);
    const vol = (one(objs, 'Deployment').spec.template.spec.volumes as Obj[]).find((v) => v.name === 'bigbang-values');
    expect(vol?.configMap).toEqual({name: cm.metadata.name, defaultMode: 0o444, items: [{key: 'values.yaml', path: 'values.yaml'}]});
    expect(one(objs, 'Deployment').spec.template.metadata.annotations['checksum/bigbang-values']).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(cm)).not.toContain(TOKEN);
  });

  test('installed in its own namespace: the Role and RoleBinding still sit in the Mattermost namespace', () => {
    const objs = render({namespace: 'egress-advisor', values: withToken({rbac: {istioNamespaces: ['istio-system', 'mattermost']}})});
    const roles = find(objs, 'Role');
    // The root namespace's Role and the istioNamespaces Role in that same namespace are two Roles, not a clash.
    expect(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort()).toEqual([
      'istio-system/egress-advisor-istio',
      'istio-system/egress-advisor-mesh',
      'mattermost/egress-advisor',
    ]);
    expectValid(objs);
    expect(find(objs, 'Role', 'egress-advisor-istio')[0].rules).toEqual([
      {apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'sidecars'], verbs: ['get', 'list', 'watch']},
    ]);
    for (const rb of find(objs, 'RoleBinding')) expect(rb.subjects).toEqual([{kind: 'ServiceAccount', name: FULLNAME, namespace: 'egress-advisor'}]);
    expect(one(objs, 'Deployment').metadata.namespace).toBe('egress-advisor');
    expect(envValue(objs, 'EGRESS_ADVISOR_SOURCES')).toBe('kubernetes:mattermost?selector=app=mattermost');
    expect(envValue(objs, 'EGRESS_ADVISOR_PUBLIC_URL')).toBe(`http://${FULLNAME}.egress-advisor.svc.cluster.local:8080`);
    // Mattermost is still found in its own namespace.
    const np = one(objs, 'NetworkPolicy');
    expect(np.spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('mattermost');
  });

  test('another release name and Mattermost labels flow into names, selectors and the log source', () => {
    const objs = render({
      release: 'chat-tools',
      // null removes the default `app` label (Helm merges maps from values files with the defaults).
      values: withToken({mattermost: {podLabels: {app: null, 'installation.mattermost.com/installation': 'mattermost'}, port: 8066}}),
    });
    expect(one(objs, 'Deployment').metadata.name).toBe('chat-tools-egress-advisor');
    expect(envValue(objs, 'EGRESS_ADVISOR_SOURCES')).toBe('kubernetes:mattermost?selector=installation.mattermost.com/installation=mattermost');
    const np = one(objs, 'NetworkPolicy');
    expect(np.spec.egress[1].ports).toEqual([{port: 8066, protocol: 'TCP'}]);
    expect(np.spec.egress[1].to[0].podSelector.matchLabels).toEqual({'installation.mattermost.com/installation': 'mattermost'});
    expectValid(objs);
  });

  test('no Mattermost URL: no token needed, none mounted', () => {
    const objs = render({values: merge(API_SERVER, {mattermost: {url: ''}})});
    expect(find(objs, 'Secret')).toEqual([]);
    expect(envValue(objs, 'MATTERMOST_URL')).toBeUndefined();
    expect(envValue(objs, 'MATTERMOST_TOKEN_FILE')).toBeUndefined();
    expect(one(objs, 'NetworkPolicy').spec.egress.map((r: Obj) => r.ports[0].port)).toEqual([443, 53, 15012]);
    expectValid(objs);
  });

  test('the token never appears in the rendered text outside the Secret, in any scenario', () => {
    for (const [, opts] of SCENARIOS) {
      const text = renderText(opts);
      const outsideSecret = text
        .split(/^---$/m)
        .filter((doc) => !/^kind: Secret$/m.test(doc))
        .join('\n');
      expect(outsideSecret).not.toContain(TOKEN);
      expect(outsideSecret).not.toContain(TOKEN_B64);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// High availability: the PostgreSQL store

describe('high availability (PostgreSQL store)', () => {
  const DB_CIDR = {cidr: '10.0.5.20/32'};

  /** The Secret volume the database URL file comes from, and its mount. */
  function databaseVolume(objs: Obj[]): {volume: Obj | undefined; mount: Obj | undefined} {
    const spec = one(objs, 'Deployment').spec.template.spec;
    const mount = (container(objs).volumeMounts as Obj[]).find((m) => m.mountPath === DB_SECRET_PATH.replace(/\/url$/, ''));
    return {volume: (spec.volumes as Obj[]).find((v) => v.name === mount?.name), mount};
  }

  test('existing Secret, 3 replicas: disruption budget, rolling update, the URL file from the named key, no claim', () => {
    const objs = render({values: withToken({replicaCount: 3, database: {existingSecret: 'egress-db', existingSecretKey: 'dsn', networkPolicy: DB_CIDR}})});
    expectValid(objs);
    const dep = one(objs, 'Deployment');
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.strategy).toEqual({type: 'RollingUpdate', rollingUpdate: {maxUnavailable: 0, maxSurge: 1}});
    const pdb = one(objs, 'PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.metadata.name).toBe(FULLNAME);
    expect(pdb.spec).toEqual({minAvailable: 1, selector: {matchLabels: dep.spec.selector.matchLabels}});
    // The URL: a file from the named Secret and key, read-only; the Secret is the administrator's.
    expect(envValue(objs, 'EGRESS_ADVISOR_DATABASE_URL_FILE')).toBe(DB_SECRET_PATH);
    const {volume, mount} = databaseVolume(objs);
    expect(mount?.readOnly).toBe(true);
    expect(volume?.secret).toEqual({secretName: 'egress-db', defaultMode: 0o440, items: [{key: 'dsn', path: 'url'}]});
    expect(find(objs, 'Secret').map((x) => x.metadata.name)).toEqual([`${FULLNAME}-mattermost-token`]);
    expect(dep.spec.template.metadata.annotations['checksum/database-url']).toBeUndefined();
    // No claim; the data folder is a bounded emptyDir on the read-only root filesystem.
    expect(find(objs, 'PersistentVolumeClaim')).toEqual([]);
    const data = (dep.spec.template.spec.volumes as Obj[]).find((v) => v.name === 'data');
    expect(data).toEqual({name: 'data', emptyDir: {sizeLimit: '512Mi'}});
    // Spread over nodes, softly.
    expect(dep.spec.template.spec.affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {weight: 100, podAffinityTerm: {topologyKey: 'kubernetes.io/hostname', labelSelector: {matchLabels: dep.spec.selector.matchLabels}}},
        ],
      },
    });
    // No database URL, and no other database setting that could hold one, in the environment.
    for (const e of container(objs).env as Obj[]) {
      expect(e.name === 'EGRESS_ADVISOR_DATABASE_URL_FILE' || !/DATABASE/.test(e.name as string)).toBe(true);
      expect(String(e.value)).not.toMatch(/postgres/);
    }
  });

  test('database.url: the chart makes the Secret; the URL is in it and nowhere else', () => {
    const opts = {values: withToken({replicaCount: 2, database: {url: DB_URL, networkPolicy: DB_CIDR}})};
    const objs = render(opts);
    expectValid(objs);
    const secret = find(objs, 'Secret', `${FULLNAME}-database`)[0];
    expect(secret.type).toBe('Opaque');
    expect(secret.data).toEqual({url: DB_URL_B64});
    expect(databaseVolume(objs).volume?.secret).toEqual({secretName: secret.metadata.name, defaultMode: 0o440, items: [{key: 'url', path: 'url'}]});
    expect(envValue(objs, 'EGRESS_ADVISOR_DATABASE_URL_FILE')).toBe(DB_SECRET_PATH);
    // A new URL restarts the pods, through a hash of the Secret.
    const annotations = one(objs, 'Deployment').spec.template.metadata.annotations as Record<string, string>;
    expect(annotations['checksum/database-url']).toMatch(/^[0-9a-f]{64}$/);
    const other = render({values: withToken({replicaCount: 2, database: {url: `${DB_URL}?sslmode=require`, networkPolicy: DB_CIDR}})});
    expect(one(other, 'Deployment').spec.template.metadata.annotations['checksum/database-url']).not.toBe(annotations['checksum/database-url']);
    // Neither the URL, its base64 form nor the password is in any other object.
    for (const o of objs.filter((x) => x !== secret)) {
      const text = JSON.stringify(o);
      for (const needle of [DB_URL, DB_URL_B64, 'pa55-w0rd-7c1e']) expect(text).not.toContain(needle);
    }
  });

  test('one replica on PostgreSQL: rolling update, but no disruption budget and no anti-affinity', () => {
    const objs = render({values: withToken({database: {existingSecret: 'egress-db', networkPolicy: DB_CIDR}})});
    const dep = one(objs, 'Deployment');
    expect(dep.spec.replicas).toBe(1);
    expect(dep.spec.strategy.type).toBe('RollingUpdate');
    expect(find(objs, 'PodDisruptionBudget')).toEqual([]);
    expect(dep.spec.template.spec.affinity).toBeUndefined();
  });

  test('an affinity from the values replaces the default spread; minAvailable may be a percentage', () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: 'pool', operator: 'In', values: ['chat']}]}]},
      },
    };
    const objs = render({
      values: withToken({
        replicaCount: 2,
        affinity,
        podDisruptionBudget: {minAvailable: '50%'},
        database: {existingSecret: 'egress-db', networkPolicy: DB_CIDR},
      }),
    });
    expectValid(objs);
    expect(one(objs, 'Deployment').spec.template.spec.affinity).toEqual(affinity);
    expect(one(objs, 'PodDisruptionBudget').spec.minAvailable).toBe('50%');
  });

  test('NetworkPolicy: the existing rules, then exactly the database CIDR and port', () => {
    const defaults = one(render({values: withToken()}), 'NetworkPolicy');
    const objs = render({values: withToken({replicaCount: 2, database: {existingSecret: 'egress-db', networkPolicy: {cidr: '10.0.5.20/32', port: 6432}}})});
    const np = one(objs, 'NetworkPolicy');
    expect(np.spec.ingress).toEqual(defaults.spec.ingress);
    expect(np.spec.egress).toEqual([...defaults.spec.egress, {to: [{ipBlock: {cidr: '10.0.5.20/32'}}], ports: [{port: 6432, protocol: 'TCP'}]}]);
  });

  test('NetworkPolicy: database pods by namespace and pod selectors, as one peer; a pod selector alone', () => {
    const namespaceSelector = {matchLabels: {'kubernetes.io/metadata.name': 'db'}};
    const podSelector = {matchExpressions: [{key: 'app.kubernetes.io/name', operator: 'In', values: ['postgresql']}]};
    const both = one(render({values: withToken({database: {existingSecret: 'egress-db', networkPolicy: {namespaceSelector, podSelector}}})}), 'NetworkPolicy');
    expect(both.spec.egress).toHaveLength(5);
    expect(both.spec.egress[4]).toEqual({to: [{namespaceSelector, podSelector}], ports: [{port: 5432, protocol: 'TCP'}]});
    const podOnly = one(render({values: withToken({database: {existingSecret: 'egress-db', networkPolicy: {podSelector}}})}), 'NetworkPolicy');
    expect(podOnly.spec.egress[4]).toEqual({to: [{podSelector}], ports: [{port: 5432, protocol: 'TCP'}]});
  });

  test('without the NetworkPolicy a database needs no peer', () => {
    const objs = render({values: withToken({replicaCount: 2, networkPolicy: {enabled: false}, database: {existingSecret: 'egress-db'}})});
    expect(find(objs, 'NetworkPolicy')).toEqual([]);
    expect(one(objs, 'Deployment').spec.replicas).toBe(2);
  });

  test('the database URL never appears in the rendered text outside its Secret, in any scenario', () => {
    for (const [, opts] of SCENARIOS) {
      const outsideSecret = renderText(opts)
        .split(/^---$/m)
        .filter((doc) => !/^kind: Secret$/m.test(doc) || !/name: \S+-database$/m.test(doc))
        .join('\n');
      for (const needle of [DB_URL, DB_URL_B64, 'pa55-w0rd-7c1e']) expect(outsideSecret).not.toContain(needle);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// What the mesh reader may read

describe('RBAC of the mesh reader', () => {
  test("clusterWideServiceEntries=false: no ClusterRole, and the bridge reads only Mattermost's namespace", () => {
    const objs = render({values: withToken({rbac: {clusterWideServiceEntries: false}})});
    expect(find(objs, 'ClusterRole').map((cr) => cr.metadata.name)).toEqual([NS_READER]);
    expect(find(objs, 'ClusterRoleBinding').map((crb) => crb.metadata.name)).toEqual([NS_READER]);
    expect(envValue(objs, 'EGRESS_ADVISOR_MESH_CLUSTER_WIDE')).toBe('false');
    // Mattermost's own namespace stays readable.
    expect(find(objs, 'Role', FULLNAME)[0].rules).toContainEqual({
      apiGroups: ['networking.istio.io'],
      resources: ['serviceentries', 'sidecars'],
      verbs: ['get', 'list', 'watch'],
    });
  });

  test('meshConfig=false: no Role in the root namespace, and the bridge reads no mesh config', () => {
    const objs = render({values: withToken({rbac: {meshConfig: false}})});
    expect(envValue(objs, 'EGRESS_ADVISOR_MESH_CONFIGMAP')).toBe('none');
    expect(find(objs, 'Role').map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual([`${NAMESPACE}/${FULLNAME}`]);
    expect(find(objs, 'RoleBinding').map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual([`${NAMESPACE}/${FULLNAME}`]);
    expect(JSON.stringify(find(objs, 'Role'))).not.toContain('configmaps');
    expect(find(objs, 'ClusterRole', SE_READER)).toHaveLength(1);
  });

  test('another root namespace and a revisioned mesh config: the Role and the settings follow', () => {
    const objs = render({values: withToken({istio: {rootNamespace: 'istio-root', meshConfigMap: 'istio-1-22'}})});
    expectValid(objs);
    const role = find(objs, 'Role', `${FULLNAME}-mesh`)[0];
    expect(role.metadata.namespace).toBe('istio-root');
    expect(role.rules[0]).toEqual({apiGroups: [''], resources: ['configmaps'], resourceNames: ['istio-1-22'], verbs: ['get']});
    expect(find(objs, 'RoleBinding', `${FULLNAME}-mesh`)[0].metadata.namespace).toBe('istio-root');
    expect(envValue(objs, 'EGRESS_ADVISOR_ISTIO_NAMESPACE')).toBe('istio-root');
    expect(envValue(objs, 'EGRESS_ADVISOR_MESH_CONFIGMAP')).toBe('istio-1-22');
  });

  test("the root namespace may be Mattermost's own: two Roles there, under two names", () => {
    const objs = render({values: withToken({istio: {rootNamespace: NAMESPACE}, rbac: {istioNamespaces: [NAMESPACE]}})});
    expectValid(objs);
    expect(
      find(objs, 'Role')
        .map((r) => `${r.metadata.namespace}/${r.metadata.name}`)
        .sort(),
    ).toEqual([`${NAMESPACE}/${FULLNAME}`, `${NAMESPACE}/${FULLNAME}-mesh`]);
  });

  test('rbac.create=false: no RBAC object, and the settings still say what to read', () => {
    const objs = render({values: withToken({rbac: {create: false}})});
    for (const kind of ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']) expect(find(objs, kind)).toEqual([]);
    expect(envValue(objs, 'EGRESS_ADVISOR_MESH_CLUSTER_WIDE')).toBe('true');
    expect(envValue(objs, 'EGRESS_ADVISOR_MESH_CONFIGMAP')).toBe('istio');
  });

  test('two releases in two namespaces never share a ClusterRole name', () => {
    const names = (namespace?: string) =>
      find(render({...(namespace ? {namespace} : {}), values: withToken()}), 'ClusterRole').map((cr) => cr.metadata.name as string);
    const a = names();
    const b = names('chat-b');
    expect(a).toHaveLength(2);
    for (const name of a) expect(b).not.toContain(name);
  });

  test("namespaceLabels: get on Mattermost's namespace object only, by name; off, no such ClusterRole", () => {
    const objs = render({values: withToken()});
    expect(find(objs, 'ClusterRole', NS_READER)[0].rules).toEqual(NS_READER_RULES);
    expect(find(objs, 'ClusterRoleBinding', NS_READER)[0].roleRef).toEqual({apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NS_READER});
    const off = render({values: withToken({rbac: {namespaceLabels: false}})});
    expect(find(off, 'ClusterRole', NS_READER)).toEqual([]);
    expect(find(off, 'ClusterRoleBinding', NS_READER)).toEqual([]);
    expect(find(off, 'ClusterRole', SE_READER)).toHaveLength(1);
  });
});

describe('values the chart refuses', () => {
  test('no token at all', () => {
    expect(renderError({values: API_SERVER})).toContain('the bridge needs a Mattermost token: set mattermost.existingSecret');
  });

  test('both a token and an existing Secret', () => {
    expect(renderError({values: withToken({mattermost: {existingSecret: 'x'}})})).toContain(
      'set either mattermost.existingSecret or mattermost.token, not both',
    );
  });

  test('more than one replica without a database, saying why and what to set', () => {
    const err = renderError({values: withToken({replicaCount: 2})});
    expect(err).toContain('replicaCount must be 1 without a database');
    expect(err).toContain('SQLite, one file on one volume that several pods cannot share');
    expect(err).toContain('set database.existingSecret');
    expect(renderError({values: withToken({replicaCount: 0})})).toContain('replicaCount must be 1 without a database');
  });

  test('both a database URL and an existing Secret', () => {
    expect(renderError({values: withToken({database: {url: DB_URL, existingSecret: 'x', networkPolicy: {cidr: '10.0.5.20/32'}}})})).toContain(
      'set either database.existingSecret or database.url, not both',
    );
  });

  test('a database URL that is not PostgreSQL, without repeating it', () => {
    const err = renderError({values: withToken({database: {url: 'mysql://root:hunter2@db/x', networkPolicy: {cidr: '10.0.5.20/32'}}})});
    expect(err).toContain('database.url must be a postgres:// or postgresql:// URL');
    expect(err).not.toContain('hunter2');
  });

  test('a claim with a database', () => {
    expect(renderError({values: withToken({persistence: {enabled: true}, database: {existingSecret: 'x', networkPolicy: {cidr: '10.0.5.20/32'}}})})).toContain(
      'persistence.enabled keeps the SQLite store on a volume',
    );
  });

  test('a database the NetworkPolicy would not let the bridge reach', () => {
    expect(renderError({values: withToken({replicaCount: 2, database: {existingSecret: 'x'}})})).toContain(
      'the NetworkPolicy must let the bridge reach the database',
    );
  });

  test('both a CIDR and selectors for the database', () => {
    const err = renderError({
      values: withToken({database: {existingSecret: 'x', networkPolicy: {cidr: '10.0.5.20/32', podSelector: {matchLabels: {app: 'pg'}}}}}),
    });
    expect(err).toContain('set either database.networkPolicy.cidr or its podSelector/namespaceSelector, not both');
  });

  test('labels given as the database pod selector itself (they would select every pod)', () => {
    expect(renderError({values: withToken({database: {existingSecret: 'x', networkPolicy: {podSelector: {app: 'pg'}}}})})).toContain(
      'database.networkPolicy.podSelector is a label selector: put the labels under matchLabels (found the key app)',
    );
  });

  test('a disruption budget no drain could satisfy', () => {
    const err = renderError({
      values: withToken({replicaCount: 2, podDisruptionBudget: {minAvailable: 2}, database: {existingSecret: 'x', networkPolicy: {cidr: '10.0.5.20/32'}}}),
    });
    expect(err).toContain('podDisruptionBudget.minAvailable (2) must be less than replicaCount (2)');
  });

  test('EGRESS_ADVISOR_DATABASE_URL through extraEnv', () => {
    expect(renderError({values: withToken({extraEnv: [{name: 'EGRESS_ADVISOR_DATABASE_URL', value: DB_URL}]})})).toContain(
      'extraEnv must not set EGRESS_ADVISOR_DATABASE_URL',
    );
  });

  test('no mesh config ConfigMap name while it is to be read', () => {
    expect(renderError({values: withToken({istio: {meshConfigMap: ''}})})).toContain('istio.meshConfigMap must name');
    expect(find(render({values: withToken({istio: {meshConfigMap: ''}, rbac: {meshConfig: false}})}), 'Deployment')).toHaveLength(1);
  });

  test('MATTERMOST_TOKEN through extraEnv', () => {
    expect(renderError({values: withToken({extraEnv: [{name: 'MATTERMOST_TOKEN', value: 'x'}]})})).toContain('extraEnv must not set MATTERMOST_TOKEN');
  });

  test('pod labels that would make the bridge look like Mattermost', () => {
    expect(renderError({values: withToken({podLabels: {app: 'mattermost'}})})).toContain('podLabels must not contain app=mattermost');
  });
});

// ---------------------------------------------------------------------------------------------------
// The chart's documentation

describe('chart documentation', () => {
  const valuesText = readFileSync(join(CHART, 'values.yaml'), 'utf8');
  const readme = readFileSync(join(CHART, 'README.md'), 'utf8');

  /** Leaf paths of values.yaml: scalars, lists and maps meant as one value (labels, resources…) stop the walk. */
  function leaves(node: unknown, prefix: string, out: string[]): string[] {
    if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0) {
      for (const [k, v] of Object.entries(node)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
    } else {
      out.push(prefix);
    }
    return out;
  }

  function tableKeys(): string[] {
    return [...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
  }

  test('every value is in the README table, and every table key is a value', () => {
    const values = parse(valuesText) as Obj;
    const keys = tableKeys();
    expect(keys.length).toBeGreaterThan(30);
    for (const leaf of leaves(values, '', [])) {
      expect({leaf, documented: keys.some((k) => leaf === k || leaf.startsWith(`${k}.`))}).toEqual({leaf, documented: true});
    }
    for (const key of keys) {
      let node: unknown = values;
      for (const part of key.split('.')) node = node !== null && typeof node === 'object' ? (node as Obj)[part] : undefined;
      expect({key, inValues: node !== undefined}).toEqual({key, inValues: true});
    }
  });

  test('values.yaml explains its values in comments', () => {
    expect((valuesText.match(/^\s*# -- /gm) ?? []).length).toBeGreaterThan(40);
  });
});

// ---------------------------------------------------------------------------------------------------
// The container recipe. Docker cannot run here (no engine), so the Dockerfile is parsed and its structure
// checked; the commands it runs were checked by hand (see build/chart/egress-advisor/README.md).

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

function parseDockerfile(text: string): {args: Map<string, string>; stages: Stage[]} {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && (/^\s*#/.test(line) || line.trim() === '')) continue;
    if (current !== '' && /^\s*#/.test(line)) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    lines.push((current + line).trim());
    current = '';
  }
  if (current !== '') throw new Error('the Dockerfile ends inside a continued line');
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`not an instruction: ${line}`);
    const op = m[1].toUpperCase();
    const rest = m[2];
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!f) throw new Error(`bad FROM: ${rest}`);
      const image = f[1].replace(/^\$\{(\w+)\}$/, (_all, name: string) => args.get(name) ?? _all);
      stages.push({from: image, name: f[2] ?? null, instructions: []});
      continue;
    }
    if (stages.length === 0) {
      if (op !== 'ARG') throw new Error(`${op} before the first FROM`);
      const a = /^(\w+)(?:=(.*))?$/.exec(rest);
      if (a) args.set(a[1], a[2] ?? '');
      continue;
    }
    stages[stages.length - 1].instructions.push({op, args: rest});
  }
  return {args, stages};
}

describe('build/Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'build', 'Dockerfile'), 'utf8');
  const {stages} = parseDockerfile(text);
  const byName = new Map(stages.map((s) => [s.name, s]));
  const runtime = stages[stages.length - 1];
  const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op).map((i) => i.args);

  test('three stages on node:20-bookworm-slim: build, deps, runtime', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    for (const s of stages) expect(s.from).toBe('node:20-bookworm-slim');
  });

  test('build stage: all dependencies, then the TypeScript compiled to lib/', () => {
    const run = ops(byName.get('build')!, 'RUN').join('\n');
    expect(run).toMatch(/npm ci --ignore-scripts/);
    expect(run).toMatch(/tsc -p tsconfig\.build\.json/);
  });

  test('deps stage: production dependencies only, better-sqlite3 compiled with python3, make and g++', () => {
    const deps = byName.get('deps')!;
    const run = ops(deps, 'RUN').join('\n');
    expect(run).toMatch(/apt-get install -y --no-install-recommends python3 make g\+\+/);
    expect(run).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(run).toMatch(/npm rebuild better-sqlite3/);
    expect(run).toContain("require('better-sqlite3')"); // the compiled module loads before the stage is done
    expect(ops(deps, 'ENV').join(' ')).toMatch(/npm_config_build_from_source=true/);
  });

  test('runtime stage: no compilers, production node_modules and lib/ from the other stages, non-root', () => {
    expect(runtime.name).toBe('runtime');
    expect(ops(runtime, 'RUN').join('\n')).not.toMatch(/apt-get|npm (ci|install)/);
    const copies = ops(runtime, 'COPY');
    expect(copies).toContain('--from=deps /app/node_modules ./node_modules');
    expect(copies).toContain('--from=build /src/lib ./lib');
    expect(copies).toContain('bin ./bin');
    const users = ops(runtime, 'USER');
    expect(users).toEqual(['10001:10001']);
    expect(Number(users[0].split(':')[0])).toBeGreaterThan(0);
    expect(ops(runtime, 'EXPOSE')).toEqual(['8080']);
    expect(JSON.parse(ops(runtime, 'ENTRYPOINT')[0])).toEqual(['node', 'bin/egress-advisor.js']);
    expect(JSON.parse(ops(runtime, 'CMD')[0])).toEqual(['serve']);
    expect(existsSync(join(ROOT, 'bin', 'egress-advisor.js'))).toBe(true);
    // USER comes after the last RUN, so nothing runs as root at start.
    const idx = (op: string) => runtime.instructions.map((i) => i.op).lastIndexOf(op);
    expect(idx('USER')).toBeGreaterThan(idx('RUN'));
  });

  test('the image user is the chart pod user', () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Obj;
    expect(ops(runtime, 'USER')[0]).toBe(`${values.podSecurityContext.runAsUser}:${values.podSecurityContext.runAsGroup}`);
  });

  test('no secrets baked in', () => {
    for (const s of stages) {
      for (const i of s.instructions) {
        if (i.op === 'ENV' || i.op === 'ARG') expect(i.args).not.toMatch(/TOKEN|PASSWORD|SECRET|_KEY|CREDENTIAL/i);
        if (i.op === 'COPY' || i.op === 'ADD') expect(i.args).not.toMatch(/\.env\b|token|secret|\.npmrc|id_rsa|\.pem\b/i);
      }
      expect(s.instructions.filter((i) => i.op === 'ADD')).toEqual([]);
    }
    expect(text).not.toMatch(/MATTERMOST_TOKEN/);
  });

  test('.dockerignore keeps the context to what the COPY lines need', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignore[0]).toBe('*'); // deny by default
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    for (const a of allowed) expect(a).not.toMatch(/\.env|\.npmrc|\.git|data|\.cache|node_modules|secret|token/i);
    for (const s of stages) {
      for (const c of ops(s, 'COPY').filter((args) => !args.startsWith('--from='))) {
        const sources = c.split(/\s+/).slice(0, -1);
        for (const src of sources) {
          expect({src, inRepo: existsSync(join(ROOT, src))}).toEqual({src, inRepo: true});
          expect({src, inContext: allowed.some((a) => src === a || src.startsWith(`${a}/`))}).toEqual({src, inContext: true});
        }
      }
    }
  });
});
