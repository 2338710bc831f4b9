// KubernetesSource with the real @kubernetes/client-node against the replayed API (kube/testing/fake-apiserver.ts,
// shapes recorded under test/fixtures/kubernetes), only for what the real API server and kwok of
// kubernetes.test.ts cannot be made to produce on demand; each test says why. The source runs in a worker
// thread (see kube/testing/remote.ts).
import type {KubernetesSourceOptions, KubernetesSourceStatus} from './kubernetes';
import {FakeApiServer} from './kube/testing/fake-apiserver';
import {fixture, fixtureText, type Json} from './kube/testing/fixtures';
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
  try {
    await worker.stopSource().catch(() => undefined);
    await worker.terminate();
  } finally {
    await fake.close();
  }
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

describe('KubernetesSource against the replayed API', () => {
  it('resumes a log broken mid-line with sinceTime: the partial line arrives once, whole; nothing twice, nothing missing', async () => {
    // Replayed because kwok writes whole lines, so a real response never ends inside one here: a follow
    // response that stops in the middle of a line because the connection is destroyed, then the client's new
    // request with sinceTime, which the API server answers from the whole second (it drops the fraction), so
    // lines already delivered come again and must be recognised.
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

  it('moves its resourceVersion on with BOOKMARK events, so a later watch needs no new list', async () => {
    // Replayed because kube-apiserver sends a bookmark when it chooses (about once a minute), not when a test
    // asks. Reproduces: watch-pods-bookmark.ndjson (ADDED, MODIFIED, then a BOOKMARK whose object carries only
    // metadata.resourceVersion, as the Kubernetes API documents), replayed verbatim; then a live bookmark
    // before a compaction, after which the watch resumes from the bookmark's version without a 410.
    fake.apply('pods', fixture('pod-mattermost-sidecar.json'));
    fake.scriptWatch('pods', fixtureText('watch-pods-bookmark.ndjson'));
    const sink = new RecordingSink();
    await worker.startSource({...FAST, appContainer: null}, sink);
    await eventually(
      () => fake.requestsTo('/pods', (r) => r.query.watch === 'true' && r.query.resourceVersion === '1050').length === 1,
      'a watch from the bookmark',
    );
    expect((await status()).kubernetes.bookmarks).toBe(1);

    fake.bump();
    fake.bump();
    await eventually(() => fake.openWatches('pods') === 1, 'the watch open');
    expect(fake.bookmark('pods')).toBe(1);
    const bookmarked = fake.resourceVersion;
    await eventually(async () => (await status()).kubernetes.resourceVersion === bookmarked, 'the bookmark applied');
    fake.compact();
    fake.endWatches('pods');
    await eventually(
      () => fake.requestsTo('/pods', (r) => r.query.watch === 'true' && r.query.resourceVersion === bookmarked).length === 1,
      'a watch from the new bookmark',
    );
    await eventually(() => fake.openWatches('pods') === 1, 'the watch open again');
    const st = await status();
    expect(st.kubernetes.expired).toBe(0);
    expect(st.kubernetes.lists).toBe(1);
  });

  it('waits for a container that has not started, then follows it', async () => {
    // Replayed because kwok starts every container of a pod at once, so none is ever seen waiting. Reproduces:
    // a pod whose istio-proxy is still "waiting" (ContainerCreating); the log API refuses such a container
    // with 400 (status-container-waiting.json), so the source waits for the MODIFIED event.
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
    // Replayed because only the stand-in can show its side of the socket (how much it could write, that it
    // waits): TCP backpressure on a follow response, written the way the API server does, waiting for
    // 'drain' when the socket is full.
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
});
