// KubernetesSource with the real @kubernetes/client-node against a real kube-apiserver, whose pod logs come
// from kwok's kubelet (test/kubernetes/harness.ts): pods that come, go and are listed again after the API
// server restarts (410 Gone), logs appended, followed, cut when the kubelet dies and resumed with sinceTime,
// the RBAC authorizer's 403. The source runs in a worker thread (see kube/testing/remote.ts). What only a
// replayed API can show is in kubernetes.replayed.test.ts.
import {startKubeCluster, type Json, type KubeCluster} from '../../test/kubernetes/harness';
import {Scan} from '../engine/scan';
import type {KubernetesSourceOptions, KubernetesSourceStatus} from './kubernetes';
import {fixtureText, stampedLines} from './kube/testing/fixtures';
import {KubeWorker} from './kube/testing/remote';
import {decodeCursor} from './kube/resume';
import {RecordingSink, waitFor} from './testing';

jest.setTimeout(180_000);

const FAST: Omit<KubernetesSourceOptions, 'namespace'> = {backoff: {baseMs: 20, maxMs: 250, factor: 2, jitter: 0}, watchTimeoutSeconds: 60};

let cluster: KubeCluster;
let worker: KubeWorker;
let nsCounter = 0;
/** Each test has a namespace of its own, so pods of one never show in another. */
let NS = '';

beforeAll(async () => {
  cluster = await startKubeCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

beforeEach(async () => {
  NS = `mattermost-${++nsCounter}`;
  await cluster.createNamespace(NS);
  worker = new KubeWorker({url: cluster.url, token: cluster.adminToken, ca: cluster.ca});
});

afterEach(async () => {
  await worker.stopSource().catch(() => undefined);
  await worker.terminate();
});

const POD_A = 'mattermost-6c8f9d7b54-2xq8k';

function numbered(from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(`line ${i}`);
  return out;
}

const proxyId = (pod = POD_A): string => `k8s:${NS}/${pod}/istio-proxy`;

/** What the sink got from one stream, without the kubelet's stamps. */
function texts(sink: RecordingSink, streamId: string): string[] {
  const out: string[] = [];
  for (const b of sink.batches) {
    if (b.stream.id !== streamId) continue;
    for (const l of b.data.toString('utf8').split('\n').slice(0, -1)) out.push(l.slice(l.indexOf(' ') + 1));
  }
  return out;
}

const status = (): Promise<KubernetesSourceStatus> => worker.status();

async function eventually(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  await cluster.waitFor(what, async () => cond(), 30_000);
}

const options = (extra: Partial<KubernetesSourceOptions> = {}): KubernetesSourceOptions => ({...FAST, namespace: NS, ...extra});

describe('KubernetesSource against a real API server', () => {
  it('follows the proxy and app logs of the pods the list returns and of pods a watch adds', async () => {
    const pod = await cluster.createPod({namespace: NS, name: POD_A});
    // Not Mattermost: the selector leaves it out.
    await cluster.createPod({namespace: NS, name: 'gitlab-runner', labels: {app: 'gitlab'}});
    cluster.appendLog(NS, 'gitlab-runner', 'istio-proxy', ['not ours']);
    const proxyLog = stampedLines('log-istio-proxy.txt');
    const appLog = stampedLines('log-mattermost.txt');
    for (const l of proxyLog) cluster.appendLog(NS, POD_A, 'istio-proxy', [l.text], {at: l.ts});
    for (const l of appLog) cluster.appendLog(NS, POD_A, 'mattermost', [l.text], {at: l.ts});

    const sink = new RecordingSink();
    const id = await worker.startSource(options(), sink);
    expect(id).toBe(`kubernetes:${NS}?selector=app=mattermost`);
    const appId = `k8s:${NS}/${POD_A}/mattermost`;
    await waitFor(() => texts(sink, proxyId()).length === proxyLog.length && texts(sink, appId).length === appLog.length, 'the recorded logs', 30_000);

    // Lines are kept as the API sent them, the kubelet's stamp included: the engine reads that prefix.
    const proxyBytes = Buffer.concat(sink.batches.filter((b) => b.stream.id === proxyId()).map((b) => b.data)).toString();
    expect(proxyBytes).toBe(fixtureText('log-istio-proxy.txt'));
    const scan = new Scan();
    scan.push(Buffer.from(proxyBytes));
    scan.end();
    expect(scan.folder.verdictCounts.blocked).toBe(3);
    const first = sink.batches.find((b) => b.stream.id === proxyId());
    expect(first?.stream).toMatchObject({log: 'proxy', namespace: NS, pod: POD_A, container: 'istio-proxy', origin: `${NS}/${POD_A}/istio-proxy`});
    expect(first?.from).toBeNull();
    expect(sink.batches.find((b) => b.stream.id === appId)?.stream.log).toBe('app');

    // Scale-out: a second pod arrives through the open watch; lines written before it is followed count too.
    const podB = 'mattermost-6c8f9d7b54-p7wzn';
    await cluster.createPod({namespace: NS, name: podB});
    cluster.appendLog(NS, podB, 'istio-proxy', numbered(1, 3));
    cluster.appendLog(NS, podB, 'mattermost', ['started']);
    await waitFor(() => texts(sink, proxyId(podB)).length === 3 && texts(sink, `k8s:${NS}/${podB}/mattermost`).length === 1, "the new pod's lines", 30_000);
    expect(texts(sink, proxyId(podB))).toEqual(numbered(1, 3));
    const st = await status();
    expect(st).toMatchObject({kind: 'kubernetes', state: 'following'});
    expect(st.kubernetes.pods.map((p) => p.name).sort()).toEqual([POD_A, podB]);
    expect(st.kubernetes.pods.find((p) => p.name === POD_A)?.uid).toBe((pod.metadata as Json).uid);
    expect(st.kubernetes.sidecarLogs).toBe('all');
    expect(st.streams.filter((s) => s.state === 'following')).toHaveLength(4);
    expect(st.kubernetes.watches).toBeGreaterThanOrEqual(1);
    expect(sink.codes()).toContain('opened');
    expect(sink.batches.some((b) => b.stream.pod === 'gitlab-runner')).toBe(false);
  });

  it('releases the streams of a pod that is deleted', async () => {
    await cluster.createPod({namespace: NS, name: POD_A});
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(1, 2));
    const sink = new RecordingSink();
    await worker.startSource(options(), sink);
    await waitFor(() => texts(sink, proxyId()).length === 2, 'the first lines', 30_000);

    await cluster.deletePod(NS, POD_A);
    await eventually(async () => (await status()).streams.every((s) => s.state === 'ended'), 'the streams released');
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(3, 4));
    await new Promise((r) => setTimeout(r, 500));
    expect(texts(sink, proxyId())).toEqual(numbered(1, 2));
    expect(sink.notices.some((n) => n.code === 'deleted' && n.message.includes(POD_A))).toBe(true);
    const st = await status();
    expect(st.kubernetes.pods).toEqual([]);
    expect(st.kubernetes.sidecarLogs).toBe('no-pods');
    expect(st.lines).toBe(2);
  });

  it('resumes with sinceTime when the kubelet cuts the stream: nothing twice, nothing missing', async () => {
    // The API server passes sinceTime on in whole seconds, so lines from earlier in that second come again
    // and must be recognised; 25 lines share one second here.
    const pod = await cluster.createPod({namespace: NS, name: POD_A});
    const sink = new RecordingSink();
    await worker.startSource(options({appContainer: null}), sink);
    const stamps = cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(1, 25));
    await waitFor(() => texts(sink, proxyId()).length === 25, 'lines 1-25', 30_000);

    await cluster.restartKubelet();
    cluster.appendLog(NS, POD_A, 'istio-proxy', ['line 26']);
    // Asked again from the second of the last line read (line 25's), which brings lines 1-25 again.
    await eventually(async () => (await status()).streams[0]?.detail.sinceTime === `${stamps[24].slice(0, 19)}Z`, 'the request with sinceTime');
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(27, 40));
    await waitFor(() => texts(sink, proxyId()).length >= 40, 'lines 26-40', 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(texts(sink, proxyId())).toEqual(numbered(1, 40));

    // The batch positions chain, and the last one says how far into its second the stream is.
    const batches = sink.batches;
    for (let i = 1; i < batches.length; i++) expect(batches[i].from).toBe(batches[i - 1].position);
    expect(decodeCursor(sink.position ?? '')).toMatchObject({total: 40, uid: (pod.metadata as Json).uid});
    expect(stamps[0].slice(0, 19)).toBe(stamps[24].slice(0, 19));
  });

  it('counts lines that share one exact stamp across a cut', async () => {
    await cluster.createPod({namespace: NS, name: POD_A});
    const sink = new RecordingSink();
    await worker.startSource(options({appContainer: null}), sink);
    const at = '2026-03-02T09:00:05.250000000Z';
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(1, 3), {at});
    await waitFor(() => texts(sink, proxyId()).length === 3, 'lines 1-3', 30_000);
    await cluster.restartKubelet();
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(4, 6), {at});
    await waitFor(() => texts(sink, proxyId()).length >= 6, 'lines 4-6', 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(texts(sink, proxyId())).toEqual(numbered(1, 6));
  });

  it('follows a container that restarts into its new run: the last lines of the old run and the new log, each once', async () => {
    const pod = await cluster.createPod({namespace: NS, name: POD_A});
    const sink = new RecordingSink();
    await worker.startSource(options({appContainer: null}), sink);
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(1, 5));
    await waitFor(() => texts(sink, proxyId()).length === 5, 'lines 1-5', 30_000);

    // The run that ends writes its last lines just before it does; the new run's log starts again, empty.
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(6, 7));
    await cluster.restartContainer(NS, POD_A, 'istio-proxy', numbered(8, 9));
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(10, 12));
    await waitFor(() => texts(sink, proxyId()).length >= 12, 'lines 6-12', 30_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(texts(sink, proxyId())).toEqual(numbered(1, 12));

    const after = await cluster.get(`/api/v1/namespaces/${NS}/pods/${POD_A}`);
    const proxy = ((after.status as Json).containerStatuses as Json[]).find((c) => c.name === 'istio-proxy');
    expect(proxy).toMatchObject({restartCount: 1, state: {running: {}}, lastState: {terminated: {}}});
    // The same pod: one stream, its positions chained across the restart.
    const st = await status();
    expect(st.streams).toHaveLength(1);
    expect(st.streams[0].detail).toMatchObject({reconnects: 1, lastError: 'the container restarted'});
    const batches = sink.batches;
    for (let i = 1; i < batches.length; i++) expect(batches[i].from).toBe(batches[i - 1].position);
    expect(decodeCursor(sink.position ?? '')).toMatchObject({total: 12, uid: (pod.metadata as Json).uid});
  });

  it('continues from a stored resume point after a restart, and from null for a new pod', async () => {
    await cluster.createPod({namespace: NS, name: POD_A});
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(1, 15));
    const first = new RecordingSink();
    await worker.startSource(options({appContainer: null}), first);
    await waitFor(() => texts(first, proxyId()).length === 15, 'lines 1-15', 30_000);
    await worker.stopSource();
    expect((await status()).state).toBe('stopped');

    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(16, 30));
    await cluster.createPod({namespace: NS, name: 'mattermost-new'});
    cluster.appendLog(NS, 'mattermost-new', 'istio-proxy', numbered(1, 2));
    const stored = new Map([[proxyId(), first.position ?? '']]);
    const second = new RecordingSink();
    await worker.startSource(options({appContainer: null}), second, stored);
    await waitFor(() => texts(second, proxyId()).length >= 15 && texts(second, proxyId('mattermost-new')).length === 2, 'lines 16-30 and the new pod', 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(texts(second, proxyId())).toEqual(numbered(16, 30));
    expect(texts(second, proxyId('mattermost-new'))).toEqual(numbered(1, 2));
    expect(second.batches.find((b) => b.stream.id === proxyId())?.from).toBe(first.position);
    expect(second.batches.find((b) => b.stream.id === proxyId('mattermost-new'))?.from).toBeNull();
    expect(second.notices.some((n) => n.code === 'resumed')).toBe(true);
  });

  it('lists again when its watch is refused with 410 Gone after the API server restarted, and follows what changed', async () => {
    await cluster.createPod({namespace: NS, name: POD_A});
    const sink = new RecordingSink();
    await worker.startSource(options({appContainer: null}), sink);
    // A followed log answers with its first line: until then the stream is not 'following'.
    cluster.appendLog(NS, POD_A, 'istio-proxy', ['first']);
    await eventually(async () => (await status()).streams[0]?.state === 'following' && (await status()).kubernetes.watches >= 1, 'following and watching');
    // Other writes move the store's revision past the one the pod watch holds; the restarted API server's
    // watch cache starts at the newest, so the resumed watch is too old for it.
    for (let i = 0; i < 5; i++) await cluster.create({apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: `bump-${i}`, namespace: NS}, data: {i: String(i)}});
    await cluster.restartApiServer();
    const podB = 'mattermost-6c8f9d7b54-r2d2x';
    await cluster.deletePod(NS, POD_A);
    await cluster.createPod({namespace: NS, name: podB});
    cluster.appendLog(NS, podB, 'istio-proxy', numbered(1, 2));
    await waitFor(() => texts(sink, proxyId(podB)).length === 2, "the new pod's lines", 30_000);
    await eventually(async () => (await status()).streams.find((s) => s.id === proxyId())?.state === 'ended', 'the deleted pod released');
    const st = await status();
    expect(st.kubernetes.expired).toBeGreaterThanOrEqual(1);
    expect(st.kubernetes.lists).toBeGreaterThanOrEqual(2);
    expect(st.kubernetes.pods.map((p) => p.name)).toEqual([podB]);
    expect(texts(sink, proxyId())).toEqual(['first']);
  });

  it('keeps retrying while the API server is down, recovers when it is back, and stops at once when asked', async () => {
    await cluster.restartApiServer(async () => {
      const sink = new RecordingSink();
      await worker.startSource(options(), sink);
      const st = await status();
      expect(st.state).toBe('error');
      expect(st.lastError).toContain(`listing pods in ${NS}`);
    });
    await eventually(async () => (await status()).state === 'following', 'the recovery');
    await cluster.restartApiServer(async () => {
      const started = Date.now();
      await worker.stopSource();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect((await status()).state).toBe('stopped');
    });
  });

  it('reports a pod without an istio-proxy container as "no sidecar logs to read", and still reads its app log', async () => {
    const name = 'mattermost-7d9f8c6b45-nosdc';
    await cluster.createPod({namespace: NS, name, containers: ['mattermost']});
    cluster.appendLog(NS, name, 'mattermost', numbered(1, 2));
    const sink = new RecordingSink();
    await worker.startSource(options(), sink);
    await waitFor(() => texts(sink, `k8s:${NS}/${name}/mattermost`).length === 2, 'the app log', 30_000);
    const notice = sink.notices.find((n) => n.message.includes('no sidecar logs to read'));
    expect(notice).toMatchObject({code: 'waiting'});
    expect(notice?.message).toContain(name);
    const st = await status();
    expect(st.kubernetes.sidecarLogs).toBe('none');
    expect(st.kubernetes.noSidecarLogs).toContain('no sidecar logs to read for 1 of 1 pod(s)');
    expect(st.kubernetes.pods[0]).toMatchObject({name, sidecar: false, ambient: false});
    expect(st.streams.map((s) => s.id)).toEqual([`k8s:${NS}/${name}/mattermost`]);
  });

  it('reports an ambient-mode namespace as having no sidecar logs to read', async () => {
    const ns = `${NS}-ambient`;
    await cluster.createNamespace(ns, {'istio.io/dataplane-mode': 'ambient'});
    await cluster.createPod({
      namespace: ns,
      name: 'mattermost-ambient-0',
      containers: ['mattermost'],
      annotations: {'ambient.istio.io/redirection': 'enabled'},
    });
    const sink = new RecordingSink();
    await worker.startSource(options({namespace: ns}), sink);
    await eventually(async () => (await status()).kubernetes.pods.length === 1, 'the pod listed');
    const st = await status();
    expect(st.kubernetes.namespaceAmbient).toBe(true);
    expect(st.kubernetes.pods[0].ambient).toBe(true);
    expect(st.kubernetes.noSidecarLogs).toContain('ambient mode');
    const messages = sink.notices.map((n) => n.message);
    expect(messages.some((m) => m.includes('ambient mode') && m.includes('no sidecar logs to read') && m.startsWith(`namespace ${ns}`))).toBe(true);
    expect(messages.some((m) => m.includes('no sidecar logs to read, because it is in Istio ambient mode'))).toBe(true);
  });

  it('recognises ambient pods by their annotation when RBAC does not let it read the namespace', async () => {
    const ns = `${NS}-ambient`;
    await cluster.createNamespace(ns, {'istio.io/dataplane-mode': 'ambient'});
    await cluster.createPod({
      namespace: ns,
      name: 'mattermost-ambient-0',
      containers: ['mattermost'],
      annotations: {'ambient.istio.io/redirection': 'enabled'},
    });
    // A ServiceAccount with a Role for pods and their logs only, as the chart's with namespaceLabels=false.
    await cluster.create({apiVersion: 'v1', kind: 'ServiceAccount', metadata: {name: 'pods-only', namespace: ns}});
    await cluster.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: {name: 'pods-only', namespace: ns},
      rules: [
        {apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch']},
        {apiGroups: [''], resources: ['pods/log'], verbs: ['get']},
      ],
    });
    await cluster.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {name: 'pods-only', namespace: ns},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pods-only'},
      subjects: [{kind: 'ServiceAccount', name: 'pods-only', namespace: ns}],
    });
    await worker.terminate();
    worker = new KubeWorker({url: cluster.url, token: await cluster.serviceAccountToken(ns, 'pods-only'), ca: cluster.ca});
    const sink = new RecordingSink();
    await worker.startSource(options({namespace: ns}), sink);
    await eventually(async () => (await status()).kubernetes.pods.length === 1, 'the pod listed');
    const st = await status();
    expect(st.kubernetes.namespaceAmbient).toBeNull();
    expect(st.kubernetes.pods[0].ambient).toBe(true);
    expect(sink.notices.some((n) => n.message.includes(`cannot read the labels of namespace ${ns}`))).toBe(true);
    expect(st.state).toBe('following');
  });

  it('stops in state error when the sink rejects a batch, without moving the position', async () => {
    await cluster.createPod({namespace: NS, name: POD_A});
    cluster.appendLog(NS, POD_A, 'istio-proxy', numbered(1, 3));
    const sink = new RecordingSink();
    sink.before = () => {
      throw new Error('disk full');
    };
    await worker.startSource(options({appContainer: null}), sink);
    await eventually(async () => (await status()).state === 'error', 'the error state');
    const st = await status();
    expect(st.lastError).toContain('disk full');
    expect(st.streams[0].position).toBeNull();
  });
});
