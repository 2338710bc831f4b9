// KubernetesSource with the real @kubernetes/client-node, against a stand-in API server (kube/testing) that
// answers with the shapes recorded under test/fixtures/kubernetes: no cluster can run here, so its protocol
// is reproduced, and each test says which part of it. The source runs in a worker thread (see remote.ts).
import {Scan} from '../engine/scan';
import type {KubernetesSourceOptions, KubernetesSourceStatus} from './kubernetes';
import {FakeApiServer} from './kube/testing/fake-apiserver';
import {fixture, fixtureText, stampedLines, type Json} from './kube/testing/fixtures';
import {KubeWorker} from './kube/testing/remote';
import {decodeCursor} from './kube/resume';
import {gate, RecordingSink, waitFor} from './testing';

jest.setTimeout(60_000);

const NS = 'mattermost';
const POD_A = 'mattermost-6c8f9d7b54-2xq8k';
const FAST: KubernetesSourceOptions = {namespace: NS, backoff: {baseMs: 20, maxMs: 250, factor: 2, jitter: 0}, watchTimeoutSeconds: 60};

let fake: FakeApiServer;
let worker: KubeWorker;

beforeEach(async () => {
  fake = await FakeApiServer.start();
  worker = new KubeWorker(fake);
});

afterEach(async () => {
  await worker.stopSource().catch(() => undefined);
  await worker.terminate();
  await fake.close();
});

/** The recorded Mattermost pod (with its istio-proxy sidecar), renamed. */
function sidecarPod(name = POD_A, uid?: string): Json {
  const pod = fixture<Json>('pod-mattermost-sidecar.json');
  const meta = pod.metadata as Json;
  meta.name = name;
  meta.uid = uid ?? `uid-${name}`;
  return pod;
}

function proxyKey(pod = POD_A): string {
  return `${NS}/${pod}/istio-proxy`;
}

function numbered(from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(`line ${i}`);
  return out;
}

/** What the sink got from one stream, without the kubelet's stamps. */
function texts(sink: RecordingSink, streamId: string): string[] {
  const out: string[] = [];
  for (const b of sink.batches) {
    if (b.stream.id !== streamId) continue;
    for (const l of b.data.toString('utf8').split('\n').slice(0, -1)) out.push(l.slice(l.indexOf(' ') + 1));
  }
  return out;
}

async function status(): Promise<KubernetesSourceStatus> {
  return worker.status();
}

async function eventually(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('KubernetesSource against recorded API server behaviour', () => {
  it('follows the proxy and app logs of the pods the list returns and of pods a watch adds', async () => {
    // Reproduces: GET …/pods?labelSelector=app=mattermost (a PodList), then …/pods?watch=true&resourceVersion=…
    // &allowWatchBookmarks=true with an ADDED event, and …/log?container=…&follow=true&timestamps=true, whose
    // lines carry the kubelet's RFC 3339 stamp (recorded in log-istio-proxy.txt and log-mattermost.txt).
    fake.apply('namespaces', fixture('namespace-mattermost.json'));
    fake.apply('pods', sidecarPod());
    const proxyLog = stampedLines('log-istio-proxy.txt');
    const appLog = stampedLines('log-mattermost.txt');
    for (const l of proxyLog) fake.logs.append(proxyKey(), [l.text], {at: l.ts});
    for (const l of appLog) fake.logs.append(`${NS}/${POD_A}/mattermost`, [l.text], {at: l.ts});

    const sink = new RecordingSink();
    const id = await worker.startSource(FAST, sink);
    expect(id).toBe('kubernetes:mattermost?selector=app=mattermost');
    const proxyId = `k8s:${proxyKey()}`;
    const appId = `k8s:${NS}/${POD_A}/mattermost`;
    await waitFor(() => texts(sink, proxyId).length === proxyLog.length && texts(sink, appId).length === appLog.length, 'the recorded logs');

    // Lines are kept as the API sent them, stamp included: the engine reads that prefix.
    const proxyBytes = Buffer.concat(sink.batches.filter((b) => b.stream.id === proxyId).map((b) => b.data)).toString();
    expect(proxyBytes).toBe(fixtureText('log-istio-proxy.txt'));
    const scan = new Scan();
    scan.push(Buffer.from(proxyBytes));
    scan.end();
    expect(scan.folder.verdictCounts.blocked).toBe(3);
    const first = sink.batches.find((b) => b.stream.id === proxyId);
    expect(first?.stream).toMatchObject({log: 'proxy', namespace: NS, pod: POD_A, container: 'istio-proxy', origin: proxyKey()});
    expect(first?.from).toBeNull();
    expect(sink.batches.find((b) => b.stream.id === appId)?.stream.log).toBe('app');

    const list = fake.requestsTo('/api/v1/namespaces/mattermost/pods', (r) => r.query.watch === undefined);
    expect(list[0].query.labelSelector).toBe('app=mattermost');
    const watch = fake.requestsTo('/api/v1/namespaces/mattermost/pods', (r) => r.query.watch === 'true');
    expect(watch[0].query).toMatchObject({allowWatchBookmarks: 'true', labelSelector: 'app=mattermost'});
    expect(watch[0].query.resourceVersion).toMatch(/^\d+$/);
    const logs = fake.requestsTo(`/pods/${POD_A}/log`);
    expect(logs.map((r) => r.query.container).sort()).toEqual(['istio-proxy', 'mattermost']);
    expect(logs[0].query).toMatchObject({follow: 'true', timestamps: 'true'});
    expect(logs[0].query.sinceTime).toBeUndefined();

    // Scale-out: a second pod arrives through the open watch.
    const podB = 'mattermost-6c8f9d7b54-p7wzn';
    fake.apply('pods', sidecarPod(podB));
    await eventually(() => fake.logs.followers(proxyKey(podB)) === 1, 'the new pod followed');
    fake.logs.append(proxyKey(podB), numbered(1, 3));
    await waitFor(() => texts(sink, `k8s:${proxyKey(podB)}`).length === 3, "the new pod's lines");
    expect(texts(sink, `k8s:${proxyKey(podB)}`)).toEqual(numbered(1, 3));
    const st = await status();
    expect(st).toMatchObject({kind: 'kubernetes', state: 'following'});
    expect(st.kubernetes.pods.map((p) => p.name).sort()).toEqual([POD_A, podB]);
    expect(st.kubernetes.sidecarLogs).toBe('all');
    expect(st.streams.filter((s) => s.state === 'following')).toHaveLength(4);
    expect(sink.codes()).toContain('opened');
  });

  it('releases the streams of a pod the watch reports DELETED', async () => {
    // Reproduces: a DELETED watch event for a pod (rollout); its log connection is closed by the client.
    fake.apply('pods', sidecarPod());
    fake.logs.append(proxyKey(), numbered(1, 2));
    const sink = new RecordingSink();
    await worker.startSource(FAST, sink);
    await waitFor(() => texts(sink, `k8s:${proxyKey()}`).length === 2, 'the first lines');

    fake.delete('pods', NS, POD_A);
    await eventually(async () => (await status()).streams.every((s) => s.state === 'ended'), 'the streams released');
    await eventually(() => fake.logs.followers(proxyKey()) === 0, 'the log connection closed');
    fake.logs.append(proxyKey(), numbered(3, 4));
    await new Promise((r) => setTimeout(r, 200));
    expect(texts(sink, `k8s:${proxyKey()}`)).toEqual(numbered(1, 2));
    expect(sink.notices.some((n) => n.code === 'deleted' && n.message.includes(POD_A))).toBe(true);
    const st = await status();
    expect(st.kubernetes.pods).toEqual([]);
    expect(st.kubernetes.sidecarLogs).toBe('no-pods');
    expect(st.lines).toBe(2);
  });

  it('resumes a log broken mid-line with sinceTime: the partial line arrives once, whole; nothing twice, nothing missing', async () => {
    // Reproduces: a follow response that stops in the middle of a line because the connection is destroyed,
    // then the client's new request with sinceTime, which the API server answers from the whole second (it
    // drops the fraction), so lines already delivered come again and must be recognised.
    fake.apply('pods', sidecarPod());
    const sink = new RecordingSink();
    await worker.startSource({...FAST, appContainer: null}, sink);
    await eventually(() => fake.logs.followers(proxyKey()) === 1, 'the log followed');
    fake.logs.append(proxyKey(), numbered(1, 25));
    await waitFor(() => texts(sink, `k8s:${proxyKey()}`).length === 25, 'lines 1-25');

    fake.logs.appendAndBreak(proxyKey(), 'line 26', 20);
    await eventually(() => fake.logs.followers(proxyKey()) === 1, 'the reconnection');
    fake.logs.append(proxyKey(), numbered(27, 40));
    await waitFor(() => texts(sink, `k8s:${proxyKey()}`).length >= 40, 'lines 26-40');
    await new Promise((r) => setTimeout(r, 100));
    expect(texts(sink, `k8s:${proxyKey()}`)).toEqual(numbered(1, 40));

    const requests = fake.requestsTo(`/pods/${POD_A}/log`);
    expect(requests).toHaveLength(2);
    const line25 = fake.logs.lines(proxyKey())[24].ts;
    expect(requests[1].query.sinceTime).toBe(`${line25.slice(0, 19)}Z`);
    // The batch positions chain, and the last one says how far into its second the stream is.
    const batches = sink.batches;
    for (let i = 1; i < batches.length; i++) expect(batches[i].from).toBe(batches[i - 1].position);
    const cursor = decodeCursor(sink.position ?? '');
    expect(cursor).toMatchObject({total: 40, uid: `uid-${POD_A}`});
    const st = await status();
    expect(st.streams[0].detail.reconnects).toBe(1);
  });

  it('counts lines that share one exact stamp across a break', async () => {
    // Reproduces: several lines with the very same kubelet stamp (one read of the container's output), with
    // the connection lost between them.
    fake.apply('pods', sidecarPod());
    const sink = new RecordingSink();
    await worker.startSource({...FAST, appContainer: null}, sink);
    await eventually(() => fake.logs.followers(proxyKey()) === 1, 'the log followed');
    const at = '2026-03-02T09:00:05.250000000Z';
    fake.logs.append(proxyKey(), numbered(1, 3), {at});
    await waitFor(() => texts(sink, `k8s:${proxyKey()}`).length === 3, 'lines 1-3');
    fake.logs.breakAll(proxyKey());
    fake.logs.append(proxyKey(), numbered(4, 6), {at});
    await waitFor(() => texts(sink, `k8s:${proxyKey()}`).length >= 6, 'lines 4-6');
    await new Promise((r) => setTimeout(r, 100));
    expect(texts(sink, `k8s:${proxyKey()}`)).toEqual(numbered(1, 6));
  });

  it('continues from a stored resume point after a restart, and from null for a new pod', async () => {
    // Reproduces: the bridge stopping and starting again with the store's positions (keyed by stream id).
    fake.apply('pods', sidecarPod());
    fake.logs.append(proxyKey(), numbered(1, 15));
    const first = new RecordingSink();
    await worker.startSource({...FAST, appContainer: null}, first);
    await waitFor(() => texts(first, `k8s:${proxyKey()}`).length === 15, 'lines 1-15');
    await worker.stopSource();
    expect((await status()).state).toBe('stopped');

    fake.logs.append(proxyKey(), numbered(16, 30));
    const stored = new Map([[`k8s:${proxyKey()}`, first.position ?? '']]);
    const second = new RecordingSink();
    await worker.startSource({...FAST, appContainer: null}, second, stored);
    await waitFor(() => texts(second, `k8s:${proxyKey()}`).length >= 15, 'lines 16-30');
    await new Promise((r) => setTimeout(r, 100));
    expect(texts(second, `k8s:${proxyKey()}`)).toEqual(numbered(16, 30));
    expect(second.batches[0].from).toBe(first.position);
    expect(second.notices.some((n) => n.code === 'resumed')).toBe(true);
  });

  it('lists again after a watch is refused with 410 Gone, and releases and adds what changed meanwhile', async () => {
    // Reproduces: the API server restarts (watches cut), its history is compacted, and the watch the client
    // resumes from its old resourceVersion is answered 200 with an ERROR event carrying the 410 "Expired"
    // Status (status-expired.json); the client must list again (the Reflector's behaviour).
    fake.apply('pods', sidecarPod());
    const sink = new RecordingSink();
    await worker.startSource({...FAST, appContainer: null}, sink);
    await eventually(() => fake.logs.followers(proxyKey()) === 1 && fake.openWatches('pods') === 1, 'following and watching');
    const podB = 'mattermost-6c8f9d7b54-r2d2x';
    fake.paused = true;
    fake.endWatches('pods');
    fake.delete('pods', NS, POD_A);
    fake.apply('pods', sidecarPod(podB));
    fake.compact();
    fake.paused = false;
    await eventually(() => fake.logs.followers(proxyKey(podB)) === 1, 'the pod that appeared meanwhile followed');
    const st = await status();
    expect(st.kubernetes.expired).toBe(1);
    expect(st.kubernetes.lists).toBe(2);
    expect(st.kubernetes.pods.map((p) => p.name)).toEqual([podB]);
    expect(st.streams.find((s) => s.id === `k8s:${proxyKey()}`)?.state).toBe('ended');
    const watches = fake.requestsTo('/api/v1/namespaces/mattermost/pods', (r) => r.query.watch === 'true');
    expect(watches.length).toBeGreaterThanOrEqual(2);
  });

  it('lists again on an ERROR event replayed verbatim from a recorded watch stream', async () => {
    // Reproduces: watch-expired.ndjson, the exact ERROR line kube-apiserver sends for a compacted version.
    fake.apply('pods', sidecarPod());
    fake.scriptWatch('pods', fixtureText('watch-expired.ndjson'));
    const sink = new RecordingSink();
    await worker.startSource({...FAST, appContainer: null}, sink);
    await eventually(async () => (await status()).kubernetes.lists === 2, 'the second list');
    expect((await status()).kubernetes.expired).toBe(1);
  });

  it('moves its resourceVersion on with BOOKMARK events, so a later watch needs no new list', async () => {
    // Reproduces: watch-pods-bookmark.ndjson (ADDED, MODIFIED, then a BOOKMARK whose object carries only
    // metadata.resourceVersion, as the Kubernetes API documents), replayed verbatim; then a live bookmark
    // before a compaction, after which the watch resumes from the bookmark's version without a 410.
    fake.apply('pods', fixture('pod-mattermost-sidecar.json'));
    fake.scriptWatch('pods', fixtureText('watch-pods-bookmark.ndjson'));
    const sink = new RecordingSink();
    await worker.startSource({...FAST, appContainer: null}, sink);
    await eventually(() => fake.requestsTo('/pods', (r) => r.query.watch === 'true' && r.query.resourceVersion === '1050').length === 1, 'a watch from the bookmark');
    expect((await status()).kubernetes.bookmarks).toBe(1);

    fake.bump();
    fake.bump();
    await eventually(() => fake.openWatches('pods') === 1, 'the watch open');
    expect(fake.bookmark('pods')).toBe(1);
    const bookmarked = fake.resourceVersion;
    await eventually(async () => (await status()).kubernetes.resourceVersion === bookmarked, 'the bookmark applied');
    fake.compact();
    fake.endWatches('pods');
    await eventually(() => fake.requestsTo('/pods', (r) => r.query.watch === 'true' && r.query.resourceVersion === bookmarked).length === 1, 'a watch from the new bookmark');
    await eventually(() => fake.openWatches('pods') === 1, 'the watch open again');
    const st = await status();
    expect(st.kubernetes.expired).toBe(0);
    expect(st.kubernetes.lists).toBe(1);
  });

  it('reports a pod without an istio-proxy container as "no sidecar logs to read", and still reads its app log', async () => {
    // Reproduces: a Mattermost pod as the API returns it when no sidecar was injected (pod-mattermost-no-sidecar.json).
    const pod = fixture<Json>('pod-mattermost-no-sidecar.json');
    fake.apply('pods', pod);
    const name = (pod.metadata as Json).name as string;
    fake.logs.append(`${NS}/${name}/mattermost`, numbered(1, 2));
    const sink = new RecordingSink();
    await worker.startSource(FAST, sink);
    await waitFor(() => texts(sink, `k8s:${NS}/${name}/mattermost`).length === 2, 'the app log');
    const notice = sink.notices.find((n) => n.message.includes('no sidecar logs to read'));
    expect(notice).toMatchObject({code: 'waiting'});
    expect(notice?.message).toContain(name);
    const st = await status();
    expect(st.kubernetes.sidecarLogs).toBe('none');
    expect(st.kubernetes.noSidecarLogs).toContain('no sidecar logs to read for 1 of 1 pod(s)');
    expect(st.kubernetes.pods[0]).toMatchObject({name, sidecar: false, ambient: false});
    expect(fake.requestsTo('/log', (r) => r.query.container === 'istio-proxy')).toHaveLength(0);
  });

  it('reports an ambient-mode namespace as having no sidecar logs to read', async () => {
    // Reproduces: a namespace labelled istio.io/dataplane-mode=ambient (namespace-ambient.json) and a pod
    // the CNI annotated ambient.istio.io/redirection: enabled (pod-mattermost-ambient.json).
    fake.apply('namespaces', fixture('namespace-ambient.json'));
    fake.apply('pods', fixture('pod-mattermost-ambient.json'));
    const sink = new RecordingSink();
    await worker.startSource({...FAST, namespace: 'mattermost-ambient'}, sink);
    await eventually(async () => (await status()).kubernetes.pods.length === 1, 'the pod listed');
    const st = await status();
    expect(st.kubernetes.namespaceAmbient).toBe(true);
    expect(st.kubernetes.pods[0].ambient).toBe(true);
    expect(st.kubernetes.noSidecarLogs).toContain('ambient mode');
    const messages = sink.notices.map((n) => n.message);
    expect(messages.some((m) => m.includes('ambient mode') && m.includes('no sidecar logs to read') && m.startsWith('namespace mattermost-ambient'))).toBe(true);
    expect(messages.some((m) => m.includes('no sidecar logs to read, because it is in Istio ambient mode'))).toBe(true);
  });

  it('recognises ambient pods by their annotation when the namespace cannot be read', async () => {
    // Reproduces: a 403 Forbidden Status for GET /api/v1/namespaces/<ns> (a namespaced Role cannot read it).
    fake.forbid = (r) => r.key === 'namespaces';
    fake.apply('pods', fixture('pod-mattermost-ambient.json'));
    const sink = new RecordingSink();
    await worker.startSource({...FAST, namespace: 'mattermost-ambient'}, sink);
    await eventually(async () => (await status()).kubernetes.pods.length === 1, 'the pod listed');
    const st = await status();
    expect(st.kubernetes.namespaceAmbient).toBeNull();
    expect(st.kubernetes.pods[0].ambient).toBe(true);
    expect(sink.notices.some((n) => n.message.includes('cannot read the labels of namespace mattermost-ambient'))).toBe(true);
    expect(st.state).toBe('following');
  });

  it('waits for a container that has not started, then follows it', async () => {
    // Reproduces: a pod whose istio-proxy is still "waiting" (ContainerCreating); the log API refuses such a
    // container with 400 (status-container-waiting.json), so the source waits for the MODIFIED event.
    const pod = sidecarPod();
    const statuses = (pod.status as Json).containerStatuses as Json[];
    const proxy = statuses.find((s) => s.name === 'istio-proxy') as Json;
    const running = proxy.state;
    proxy.state = {waiting: {reason: 'ContainerCreating'}};
    fake.apply('pods', pod);
    const sink = new RecordingSink();
    await worker.startSource({...FAST, appContainer: null}, sink);
    await eventually(async () => (await status()).streams[0]?.state === 'waiting', 'the stream waiting');
    expect(fake.requestsTo('/log')).toHaveLength(0);
    proxy.state = running;
    fake.apply('pods', pod);
    await eventually(() => fake.logs.followers(proxyKey()) === 1, 'the log followed');
    fake.logs.append(proxyKey(), numbered(1, 2));
    await waitFor(() => texts(sink, `k8s:${proxyKey()}`).length === 2, 'the lines');
  });

  it('reads nothing more while the sink holds a batch: the response is paused and the API server has to wait', async () => {
    // Reproduces: TCP backpressure on a follow response; the stand-in writes the way the API server does,
    // waiting for 'drain' when the socket is full.
    fake.apply('pods', sidecarPod());
    const filler = 'x'.repeat(180);
    const count = 120_000;
    const lines = Array.from({length: count}, (_, i) => `line ${i + 1} ${filler}`);
    fake.logs.append(proxyKey(), lines, {stepMs: 0.01});
    const total = fake.logs.lines(proxyKey()).reduce((n, l) => n + l.ts.length + l.text.length + 2, 0);
    const sink = new RecordingSink();
    const hold = gate();
    sink.before = () => hold.promise;
    await worker.startSource({...FAST, appContainer: null}, sink);
    await eventually(() => sink.outstanding === 1 && fake.logs.stats.waitingForDrain > 0, 'the writer blocked');
    await new Promise((r) => setTimeout(r, 300));
    const written = fake.logs.stats.bytesWritten;
    expect(written).toBeLessThan(total);
    expect(sink.batches).toHaveLength(0);
    expect(sink.outstanding).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.logs.stats.bytesWritten).toBe(written);

    hold.open();
    sink.before = null;
    await waitFor(() => sink.lines.length === count, 'every line', 60_000);
    expect(sink.maxOutstanding).toBe(1);
    const got = texts(sink, `k8s:${proxyKey()}`);
    expect(got[0]).toBe(lines[0]);
    expect(got[count - 1]).toBe(lines[count - 1]);
    expect(new Set(got).size).toBe(count);
  });

  it('keeps retrying while the API server is unreachable, and stops at once when asked', async () => {
    // Reproduces: connections dropped by a restarting API server, before any list succeeded.
    fake.paused = true;
    const sink = new RecordingSink();
    await worker.startSource(FAST, sink);
    const st = await status();
    expect(st.state).toBe('error');
    expect(st.lastError).toContain('listing pods in mattermost');
    fake.paused = false;
    await eventually(async () => (await status()).state === 'following', 'the recovery');
    fake.paused = true;
    fake.endWatches();
    const started = Date.now();
    await worker.stopSource();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await status()).state).toBe('stopped');
  });

  it('stops in state error when the sink rejects a batch, without moving the position', async () => {
    fake.apply('pods', sidecarPod());
    fake.logs.append(proxyKey(), numbered(1, 3));
    const sink = new RecordingSink();
    sink.before = () => {
      throw new Error('disk full');
    };
    await worker.startSource({...FAST, appContainer: null}, sink);
    await eventually(async () => (await status()).state === 'error', 'the error state');
    const st = await status();
    expect(st.lastError).toContain('disk full');
    expect(st.streams[0].position).toBeNull();
    await eventually(() => fake.logs.followers(proxyKey()) === 0, 'the log connection closed');
  });
});
