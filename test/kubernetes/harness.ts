/*
 * A real Kubernetes control plane for tests, on loopback: etcd, kube-apiserver (its own serving
 * certificate, service-account keys, a token file with an admin token, RBAC authorization) and kwok, the
 * Kubernetes SIG's node simulator, which runs the pods of one Node and serves its kubelet API. The API
 * server proxies `pods/log` to that kubelet the way it does in a cluster; kwok answers from the CRI log file
 * a kwok `Logs` object names for the container, and the test appends to that file in the format the
 * container runtime writes (`<RFC 3339 time> stdout F <line>`). All three are built from their Go modules
 * by build.sh and cached by version; see README.md.
 *
 * Nothing here skips: without the binaries, or when a server does not come up, startKubeCluster throws and
 * says what to run or shows the server's own log.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {generateKeyPairSync, randomBytes} from 'node:crypto';
import {appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {request} from 'node:https';
import {connect, createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {parseAllDocuments, stringify} from 'yaml';

const HERE = __dirname;
export const NODE_NAME = 'kwok-node';

export type Json = Record<string, unknown>;

export interface KubeBinaries {
  etcd: string;
  'kube-apiserver': string;
  kwok: string;
}

/** Where build.sh puts the three binaries; throws, saying what to run, when one is missing. */
export function kubeBinaries(): KubeBinaries {
  const out = spawnSync('bash', [join(HERE, 'build.sh'), '--print'], {encoding: 'utf8'});
  if (out.status !== 0) throw new Error(`test/kubernetes/build.sh --print failed: ${out.stderr}`);
  const paths = Object.fromEntries(
    out.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  ) as unknown as KubeBinaries;
  const missing = (['etcd', 'kube-apiserver', 'kwok'] as const).filter((n) => paths[n] === undefined || !existsSync(paths[n]));
  if (missing.length > 0) {
    throw new Error(
      `Kubernetes harness: ${missing.join(', ')} not built (expected ${missing.map((n) => paths[n]).join(', ')}).\n` +
        'Run: bash test/kubernetes/build.sh   (the first build compiles them from source and takes about 10 minutes on two cores)',
    );
  }
  return paths;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as {port: number}).port;
      s.close(() => res(port));
    });
  });
}

export interface ApiResponse<T = Json> {
  status: number;
  body: T;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  }
}

/** Where an object of this apiVersion/kind lives: the kinds the suites create. */
const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  Node: 'nodes',
  Pod: 'pods',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  ServiceAccount: 'serviceaccounts',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  CustomResourceDefinition: 'customresourcedefinitions',
  ServiceEntry: 'serviceentries',
  Sidecar: 'sidecars',
  Logs: 'logs',
  SubjectAccessReview: 'subjectaccessreviews',
};

const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'SubjectAccessReview']);

/** The collection path of an object (`/api/v1/namespaces/x/pods`), and with its name the object's own path. */
export function pathOf(obj: {apiVersion?: unknown; kind?: unknown; metadata?: unknown}, named = true): string {
  const apiVersion = String(obj.apiVersion);
  const kind = String(obj.kind);
  const plural = PLURALS[kind];
  if (plural === undefined) throw new Error(`the harness does not know the resource of kind ${kind}`);
  const meta = (obj.metadata ?? {}) as {name?: string; namespace?: string};
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = CLUSTER_SCOPED.has(kind) ? '' : `/namespaces/${meta.namespace ?? 'default'}`;
  return `${base}${ns}/${plural}${named && meta.name !== undefined ? `/${meta.name}` : ''}`;
}

export interface PodSpec {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Default: istio-proxy and mattermost, Mattermost's pod with its sidecar. */
  containers?: string[];
}

export interface KubeClusterOptions {
  /** Extra kube-apiserver flags (`--flag=value`). */
  apiServerFlags?: string[];
}

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
}

/** A running control plane. Stop it with stop(); every process and file is gone afterwards. */
export class KubeCluster {
  /** Pod logs the test appends to: `<ns>/<pod>/<container>` → CRI log file. */
  private readonly logFiles = new Map<string, string>();
  private readonly procs: Proc[] = [];
  private kwokArgs: string[] = [];
  private apiServerArgs: string[] = [];
  private kubeletPort = 0;
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly url: string,
    readonly adminToken: string,
    readonly etcdUrl: string,
    private readonly binaries: KubeBinaries,
  ) {}

  /** The API server's serving certificate chain, PEM: what a kubeconfig's certificate-authority-data holds. */
  get ca(): string {
    return readFileSync(join(this.dir, 'certs', 'apiserver.crt'), 'utf8');
  }

  static async start(options: KubeClusterOptions = {}): Promise<KubeCluster> {
    const binaries = kubeBinaries();
    const dir = mkdtempSync(join(tmpdir(), 'egress-kube-'));
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const adminToken = randomBytes(24).toString('hex');
    const cluster = new KubeCluster(dir, `https://127.0.0.1:${apiPort}`, adminToken, `http://127.0.0.1:${etcdPort}`, binaries);
    try {
      await cluster.boot(peerPort, apiPort, options);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private async boot(peerPort: number, apiPort: number, options: KubeClusterOptions): Promise<void> {
    const {dir} = this;
    for (const d of ['certs', 'etcd', 'logs', 'pod-logs', 'home']) mkdirSync(join(dir, d), {recursive: true});
    const {publicKey, privateKey} = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: {type: 'spki', format: 'pem'},
      privateKeyEncoding: {type: 'pkcs8', format: 'pem'},
    });
    writeFileSync(join(dir, 'sa.pub'), publicKey);
    writeFileSync(join(dir, 'sa.key'), privateKey, {mode: 0o600});
    // token,user,uid,"groups": system:masters is the superuser group, as an admin kubeconfig has.
    writeFileSync(join(dir, 'tokens.csv'), `${this.adminToken},admin,admin,"system:masters"\n`, {mode: 0o600});

    const peer = `http://127.0.0.1:${peerPort}`;
    this.spawn('etcd', this.binaries.etcd, [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${this.etcdUrl}`,
      `--advertise-client-urls=${this.etcdUrl}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      // A test's etcd is thrown away afterwards; fsync only costs time on a shared disk.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await this.waitFor('etcd to answer /health', async () => {
      const res = await fetch(`${this.etcdUrl}/health`).catch(() => null);
      return res?.ok === true;
    });

    this.apiServerArgs = [
      `--etcd-servers=${this.etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.96.0.0/16',
      // kwok puts 127.0.0.1 and its port on the Node: that is where `pods/log` goes.
      '--kubelet-preferred-address-types=InternalIP',
      '--profiling=false',
      // It would publish 127.0.0.1 as the `kubernetes` Service's endpoint, which the API refuses (loopback).
      '--endpoint-reconciler-type=none',
      ...(options.apiServerFlags ?? []),
    ];
    await this.startApiServer();

    await this.installCrds();
    await this.create({apiVersion: 'v1', kind: 'Node', metadata: {name: NODE_NAME, labels: {'kubernetes.io/hostname': NODE_NAME, type: 'kwok'}}});
    writeFileSync(join(dir, 'kwok.yaml'), kwokStages());
    const kubeconfig = this.kubeconfig(join(dir, 'kwok.kubeconfig'), this.adminToken);
    const kubeletPort = await freePort();
    this.kubeletPort = kubeletPort;
    this.kwokArgs = [
      `--kubeconfig=${kubeconfig}`,
      `--config=${join(dir, 'kwok.yaml')}`,
      `--manage-single-node=${NODE_NAME}`,
      '--node-ip=127.0.0.1',
      `--node-port=${kubeletPort}`,
      `--server-address=127.0.0.1:${kubeletPort}`,
      // The API server does not verify the kubelet's certificate unless told a CA; its own serves here.
      `--tls-cert-file=${join(dir, 'certs', 'apiserver.crt')}`,
      `--tls-private-key-file=${join(dir, 'certs', 'apiserver.key')}`,
      '--enable-crds=Logs',
    ];
    await this.startKwok();
  }

  private async startApiServer(): Promise<void> {
    this.spawn('kube-apiserver', this.binaries['kube-apiserver'], this.apiServerArgs);
    await this.waitFor(
      'kube-apiserver to answer /readyz',
      async () => {
        const res = await this.request('GET', '/readyz').catch(() => null);
        return res?.status === 200;
      },
      90_000,
    );
  }

  /**
   * Stops the API server (every watch and log stream through it is cut, and clients get connection errors),
   * runs `meanwhile`, and starts it again on the same port, certificate and etcd. Its watch cache starts
   * afresh, so a watch resumed from a resourceVersion older than the restart is answered 410 Gone.
   */
  async restartApiServer(meanwhile: () => Promise<void> = async () => undefined): Promise<void> {
    await this.stopProcess('kube-apiserver');
    await meanwhile();
    await this.startApiServer();
  }

  private async stopProcess(name: string): Promise<void> {
    const i = this.procs.findIndex((p) => p.name === name);
    if (i < 0) return;
    const [p] = this.procs.splice(i, 1);
    await kill(p.child, 'SIGKILL');
  }

  private async startKwok(): Promise<void> {
    this.spawn('kwok', this.binaries.kwok, this.kwokArgs, {HOME: join(this.dir, 'home')});
    await this.waitFor('kwok to mark its node Ready', async () => {
      const node = await this.get(`/api/v1/nodes/${NODE_NAME}`).catch(() => null);
      const conditions = ((node?.status as Json | undefined)?.conditions ?? []) as {type: string; status: string}[];
      return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
    });
    await this.waitFor('kwok to serve the kubelet API', () => accepts(this.kubeletPort));
  }

  /** Kills the simulated kubelet and starts it again: every log stream through it is cut. */
  async restartKubelet(): Promise<void> {
    await this.stopProcess('kwok');
    await this.startKwok();
  }

  private async installCrds(): Promise<void> {
    const kwokDir = moduleDir(join(HERE, 'tools', 'kwok'), 'sigs.k8s.io/kwok');
    const kwokLogs = yamlObjects(readFileSync(join(kwokDir, 'kustomize', 'crd', 'bases', 'kwok.x-k8s.io_logs.yaml'), 'utf8'));
    await this.createCrds([...kwokLogs, ...istioCrds()]);
  }

  /** Creates CustomResourceDefinitions and waits until the API server serves them. */
  async createCrds(crds: Json[]): Promise<void> {
    for (const crd of crds) await this.create(crd);
    for (const crd of crds) {
      const name = (crd.metadata as {name: string}).name;
      await this.waitFor(`CRD ${name} to be established`, async () => {
        const got = await this.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
        const conditions = ((got.status as Json | undefined)?.conditions ?? []) as {type: string; status: string}[];
        return conditions.some((c) => c.type === 'Established' && c.status === 'True');
      });
    }
  }

  /** Deletes CustomResourceDefinitions (and so every object of theirs) and waits until they are gone. */
  async deleteCrds(crds: Json[]): Promise<void> {
    for (const crd of crds) {
      const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${(crd.metadata as {name: string}).name}`;
      await this.delete(path);
      await this.waitFor(`${path} to be gone`, async () => (await this.request('GET', path)).status === 404);
    }
  }

  private spawn(name: string, binary: string, args: string[], env: Record<string, string> = {}): void {
    const log = join(this.dir, 'logs', `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(binary, args, {stdio: ['ignore', fd, fd], env: {...process.env, ...env}});
    closeSync(fd);
    this.procs.push({name, child, log});
  }

  /** The last lines of every process's log, for an error message. */
  logs(lines = 30): string {
    return this.procs
      .map((p) => {
        const text = existsSync(p.log) ? readFileSync(p.log, 'utf8') : '';
        const state = p.child.exitCode ?? p.child.signalCode ?? 'running';
        return `--- ${p.name} (${state}), ${p.log}\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
      })
      .join('\n');
  }

  /** Waits for `ready`; fails with the servers' logs when a server died or time ran out. */
  async waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const dead = this.procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
      if (dead !== undefined) throw new Error(`Kubernetes harness: ${dead.name} exited while waiting for ${what}\n${this.logs()}`);
      if (await ready().catch(() => false)) return;
      if (Date.now() > until) throw new Error(`Kubernetes harness: timed out after ${timeoutMs / 1000} s waiting for ${what}\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** One HTTPS request to the API server, as the admin unless another bearer token is given. */
  request<T = Json>(method: string, path: string, body?: unknown, opts: {token?: string; contentType?: string} = {}): Promise<ApiResponse<T>> {
    const url = new URL(path, this.url);
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((res, rej) => {
      const req = request(
        url,
        {
          method,
          ca: this.ca,
          headers: {
            authorization: `Bearer ${opts.token ?? this.adminToken}`,
            accept: 'application/json',
            ...(data === undefined ? {} : {'content-type': opts.contentType ?? 'application/json'}),
          },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // /readyz and friends answer plain text
            }
            res({status: r.statusCode ?? 0, body: parsed as T});
          });
          r.on('error', rej);
        },
      );
      req.on('error', rej);
      req.end(data);
    });
  }

  async get<T = Json>(path: string): Promise<T> {
    const r = await this.request<T>('GET', path);
    if (r.status !== 200) throw new ApiError(r.status, r.body, `GET ${path}`);
    return r.body;
  }

  /** Creates an object (its path from apiVersion/kind/namespace); returns what the server stored. */
  async create<T = Json>(obj: Json, token?: string): Promise<T> {
    const path = pathOf(obj, false);
    const r = await this.request<T>('POST', path, obj, {token});
    if (r.status !== 201 && r.status !== 200) throw new ApiError(r.status, r.body, `POST ${path}`);
    return r.body;
  }

  /** Creates the object, or replaces it (with the stored resourceVersion) when it exists. */
  async apply<T = Json>(obj: Json): Promise<T> {
    const path = pathOf(obj);
    const existing = await this.request<Json>('GET', path);
    if (existing.status === 404) return this.create<T>(obj);
    const meta = {...(obj.metadata as Json), resourceVersion: (existing.body.metadata as Json).resourceVersion};
    const r = await this.request<T>('PUT', path, {...obj, metadata: meta});
    if (r.status !== 200) throw new ApiError(r.status, r.body, `PUT ${path}`);
    return r.body;
  }

  /** A JSON merge patch; `subresource` e.g. 'status'. */
  async patch<T = Json>(path: string, patch: Json): Promise<T> {
    const r = await this.request<T>('PATCH', path, patch, {contentType: 'application/merge-patch+json'});
    if (r.status !== 200) throw new ApiError(r.status, r.body, `PATCH ${path}`);
    return r.body;
  }

  async delete(path: string, body?: Json): Promise<void> {
    const r = await this.request('DELETE', path, body);
    if (r.status !== 200 && r.status !== 202) throw new ApiError(r.status, r.body, `DELETE ${path}`);
  }

  /**
   * A namespace with its `default` ServiceAccount. No controller manager runs here, and the ServiceAccount
   * admission plugin refuses pods whose account does not exist, so the harness creates what it would.
   */
  async createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    await this.apply({apiVersion: 'v1', kind: 'Namespace', metadata: {name, labels}});
    const sa = await this.request('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`);
    if (sa.status === 404) await this.create({apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'default', namespace: name}});
  }

  /**
   * A pod on kwok's node, with a CRI log file per container that appendLog() writes; resolves once kwok has
   * it Running (its containers started), as a kubelet would report it.
   */
  async createPod(spec: PodSpec): Promise<Json> {
    const containers = spec.containers ?? ['istio-proxy', 'mattermost'];
    const logs = containers.map((c) => ({containers: [c], logsFile: this.logFile(spec.namespace, spec.name, c), follow: true}));
    await this.apply({apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Logs', metadata: {name: spec.name, namespace: spec.namespace}, spec: {logs}});
    await this.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name: spec.name, namespace: spec.namespace, labels: spec.labels ?? {app: 'mattermost'}, annotations: spec.annotations ?? {}},
      spec: {
        nodeName: NODE_NAME,
        containers: containers.map((name) => ({name, image: `registry.example/${name}:test`})),
      },
    });
    const pod = await this.waitForPod(spec.namespace, spec.name, (p) => (p.status as Json | undefined)?.phase === 'Running');
    // kwok learns of the Logs object through a watch of its own, a moment after it was created.
    for (const c of containers) {
      const path = `/api/v1/namespaces/${spec.namespace}/pods/${spec.name}/log?container=${c}&limitBytes=1`;
      await this.waitFor(`kwok to serve the log of ${spec.namespace}/${spec.name}/${c}`, async () => (await this.request('GET', path)).status === 200);
    }
    return pod;
  }

  async waitForPod(namespace: string, name: string, ok: (pod: Json) => boolean, what = 'the pod to be running'): Promise<Json> {
    let pod: Json = {};
    await this.waitFor(`${what} (${namespace}/${name})`, async () => {
      pod = await this.get(`/api/v1/namespaces/${namespace}/pods/${name}`);
      return ok(pod);
    });
    return pod;
  }

  /** Deletes a pod at once (grace period 0) and waits until the API server no longer has it. */
  async deletePod(namespace: string, name: string): Promise<void> {
    await this.delete(`/api/v1/namespaces/${namespace}/pods/${name}`, {gracePeriodSeconds: 0});
    await this.waitFor(
      `pod ${namespace}/${name} to be gone`,
      async () => (await this.request('GET', `/api/v1/namespaces/${namespace}/pods/${name}`)).status === 404,
    );
  }

  /** The CRI log file kwok serves for a container (created empty). */
  logFile(namespace: string, pod: string, container: string): string {
    const key = `${namespace}/${pod}/${container}`;
    let file = this.logFiles.get(key);
    if (file === undefined) {
      file = join(this.dir, 'pod-logs', `${namespace}_${pod}_${container}.log`);
      writeFileSync(file, '');
      this.logFiles.set(key, file);
    }
    return file;
  }

  /**
   * Restarts a container the way the kubelet reports it: its new run writes a log file of its own, which kwok
   * then serves (the `Logs` object points at it, with the previous run's file as `previousLogsFile`), and the
   * pod's status shows the new run: restartCount one higher, the previous run in lastState.terminated, and
   * state.running with a new startedAt. kwok has no stage that restarts a container, so the harness writes that
   * status through the pod's status subresource, as the kubelet does. `firstLines` are what the new run logs
   * first (at least one: by them the harness sees kwok serve the new file before the status changes); returns
   * their stamps. A connection that follows the previous run stays open (kwok never ends one; see README.md).
   */
  async restartContainer(namespace: string, pod: string, container: string, firstLines: string[]): Promise<string[]> {
    if (firstLines.length === 0) throw new Error('restartContainer needs the first lines of the new run');
    const key = `${namespace}/${pod}/${container}`;
    const previous = this.logFile(namespace, pod, container);
    const podPath = `/api/v1/namespaces/${namespace}/pods/${pod}`;
    const before = await this.get(podPath);
    const statuses = ((before.status as Json).containerStatuses ?? []) as Json[];
    const current = statuses.find((c) => c.name === container);
    if (current === undefined) throw new Error(`pod ${namespace}/${pod} has no status for container ${container}`);
    const restarts = Number(current.restartCount ?? 0) + 1;
    const next = join(this.dir, 'pod-logs', `${namespace}_${pod}_${container}.${restarts}.log`);
    writeFileSync(next, '');
    this.logFiles.set(key, next);

    const logsPath = `/apis/kwok.x-k8s.io/v1alpha1/namespaces/${namespace}/logs/${pod}`;
    const logs = await this.get(logsPath);
    const entries = ((logs.spec as Json).logs as Json[]).map((l) =>
      (l.containers as string[]).includes(container) ? {...l, logsFile: next, previousLogsFile: previous} : l,
    );
    await this.apply({...logs, spec: {...(logs.spec as Json), logs: entries}});
    const stamps = this.appendLog(namespace, pod, container, firstLines);
    const expected = firstLines.map((l) => `${l}\n`).join('');
    await this.waitFor(`kwok to serve the new run's log of ${key}`, async () => {
      const r = await this.request<unknown>('GET', `${podPath}/log?container=${container}`);
      return r.status === 200 && r.body === expected;
    });

    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const running = (current.state as Json | undefined)?.running as Json | undefined;
    const restarted = {
      ...current,
      restartCount: restarts,
      lastState: {terminated: {exitCode: 0, reason: 'Completed', startedAt: running?.startedAt ?? now, finishedAt: now}},
      state: {running: {startedAt: now}},
    };
    await this.patch(`${podPath}/status`, {status: {containerStatuses: statuses.map((c) => (c.name === container ? restarted : c))}});
    await this.waitForPod(namespace, pod, (p) => {
      const got = (((p.status as Json).containerStatuses ?? []) as Json[]).find((c) => c.name === container);
      return got?.restartCount === restarts;
    });
    return stamps;
  }

  /**
   * Appends lines to a container's log as the container runtime writes them: `<time> stdout F <line>`. The
   * time is now (each line a microsecond apart, as one write of several lines gets) unless `at` is given.
   * Returns the times written, as the kubelet will print them with timestamps=true.
   */
  appendLog(namespace: string, pod: string, container: string, lines: string[], opts: {at?: string} = {}): string[] {
    const base = Date.now();
    const stamps = lines.map((_, i) => opts.at ?? criTime(base, i));
    appendFileSync(this.logFile(namespace, pod, container), lines.map((l, i) => `${stamps[i]} stdout F ${l}\n`).join(''));
    return stamps;
  }

  /** A kubeconfig for this server with the given bearer token (and namespace); returns its path. */
  kubeconfig(path: string, token: string, namespace?: string): string {
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{name: 'test', cluster: {server: this.url, 'certificate-authority-data': Buffer.from(this.ca).toString('base64')}}],
      users: [{name: 'user', user: {token}}],
      contexts: [{name: 'test', context: {cluster: 'test', user: 'user', ...(namespace === undefined ? {} : {namespace})}}],
      'current-context': 'test',
    };
    writeFileSync(path, stringify(config), {mode: 0o600});
    return path;
  }

  /** A token of a ServiceAccount, from the TokenRequest API, as the kubelet mounts one into a pod. */
  async serviceAccountToken(namespace: string, name: string): Promise<string> {
    const path = `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`;
    const r = await this.request<{status: {token: string}}>('POST', path, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {expirationSeconds: 3600},
    });
    if (r.status !== 201) throw new ApiError(r.status, r.body, `POST ${path}`);
    return r.body.status.token;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // kwok and the API server first: etcd going away under them only makes them log errors.
    for (const p of [...this.procs].reverse()) await kill(p.child, 'SIGTERM');
    rmSync(this.dir, {recursive: true, force: true});
  }
}

export function startKubeCluster(options?: KubeClusterOptions): Promise<KubeCluster> {
  return KubeCluster.start(options);
}

/** A CRI log time: RFC 3339 with nanoseconds, `offset` microseconds after `ms`. */
function criTime(ms: number, offset: number): string {
  const iso = new Date(ms).toISOString();
  const nanos = `${iso.slice(20, 23)}${String(offset).padStart(3, '0')}000`;
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Istio's ServiceEntry and Sidecar CRDs (crds/istio-networking.yaml), as objects. */
export function istioCrds(): Json[] {
  return yamlObjects(readFileSync(join(HERE, 'crds', 'istio-networking.yaml'), 'utf8'));
}

function yamlObjects(text: string): Json[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Json | null)
    .filter((o): o is Json => o !== null);
}

/** The folder of a module the wrapper module at `dir` requires, in Go's module cache. */
function moduleDir(dir: string, module: string): string {
  const out = spawnSync('go', ['list', '-m', '-f', '{{.Dir}}', module], {
    cwd: dir,
    encoding: 'utf8',
    env: {...process.env, GOFLAGS: '-mod=mod', GOWORK: 'off', GOTOOLCHAIN: 'local'},
  });
  const path = out.stdout?.trim() ?? '';
  if (out.status !== 0 || path === '')
    throw new Error(`Kubernetes harness: cannot find ${module} in Go's module cache (go list -m in ${dir}): ${out.stderr ?? out.error}`);
  return path;
}

/**
 * kwok's own "fast" stages, from the module it was built from: a Node it manages becomes Ready, a Pod on it
 * Running with its containers started, and a deleted Pod goes away.
 */
function kwokStages(): string {
  const kwokDir = moduleDir(join(HERE, 'tools', 'kwok'), 'sigs.k8s.io/kwok');
  const files = [join('node', 'fast', 'node-initialize.yaml'), join('pod', 'fast', 'pod-ready.yaml'), join('pod', 'fast', 'pod-delete.yaml')];
  return files.map((f) => readFileSync(resolve(kwokDir, 'kustomize', 'stage', f), 'utf8').trim()).join('\n---\n') + '\n';
}
