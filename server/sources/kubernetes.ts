// The Mattermost pods' logs, read through the Kubernetes API: every pod that matches the selector in the
// namespace contributes its istio-proxy log (what the mesh blocked) and its mattermost log (what names the
// hosts), each a stream of its own with its own resume point. The pod list is kept current with a watch, so
// rollouts, restarts and scale-outs are followed without a restart; a pod that has no sidecar (or whose
// namespace runs Istio's ambient data plane) is reported as such, never as a pod where nothing was blocked.
import type {BackoffPolicy} from '../store/backoff';
import {ContainerLog, type LogHost} from './kube/container-log';
import {connect, describeError, httpStatusOf, type KubeClient, type KubeConnection} from './kube/library';
import {formatSelector, parseSelector} from './kube/labels';
import {ListWatch, type ListResult} from './kube/listwatch';
import {DATAPLANE_MODE_LABEL, namespaceIsAmbient, viewPod, type PodLike, type PodView} from './kube/pods';
import {DEFAULT_MAX_LINE_BYTES} from '../engine/lines';
import {SourceTracker} from './status';
import type {LogKind, LogSource, ResumePoints, SourceBatch, SourceSink, SourceStatus, StreamStatus} from './types';

export type {KubeClient, KubeConnection} from './kube/library';

export interface KubernetesSourceOptions {
  /** Where Mattermost runs. Default: the namespace of the current context (in a pod, its own). */
  namespace?: string;
  /** Equality-based label selector of the Mattermost pods. Default `app=mattermost` (the operator's label). */
  selector?: string;
  /** Default `istio-proxy`. */
  proxyContainer?: string;
  /** Mattermost's own container, followed as the 'app' log; null to leave it out. Default `mattermost`. */
  appContainer?: string | null;
  /** Default: in-cluster service account, else $KUBECONFIG / ~/.kube/config. */
  connection?: KubeConnection;
  /** An existing connection, e.g. one shared with the mesh reader. */
  client?: KubeClient;
  /** Default `kubernetes:<namespace>?selector=<selector>`. */
  id?: string;
  /** Where a stream without a stored position begins. Default 'beginning': what was blocked before counts. */
  startAt?: 'beginning' | 'end';
  maxLineBytes?: number;
  /** A log connection without a byte for this long is opened again. Default 300 000. */
  idleTimeoutMs?: number;
  /** Asked of the API server for each pod watch. Default 300. */
  watchTimeoutSeconds?: number;
  /** Delays between attempts to reconnect a log or watch. */
  backoff?: Partial<BackoffPolicy>;
}

export interface PodSummary {
  name: string;
  uid: string;
  phase: string;
  /** The pod has the proxy container, so there are sidecar logs to read. */
  sidecar: boolean;
  ambient: boolean;
  /** Container name → running, waiting (reason), terminated. */
  containers: Record<string, string>;
}

export interface KubernetesSourceStatus extends SourceStatus {
  kubernetes: {
    namespace: string;
    selector: string;
    /** From the namespace's labels; null when they could not be read. */
    namespaceAmbient: boolean | null;
    /** Whether the matching pods have sidecar logs: all, some, none, or there are no matching pods. */
    sidecarLogs: 'all' | 'some' | 'none' | 'no-pods';
    /** Set when some or all pods have no sidecar logs to read, saying which and why. */
    noSidecarLogs: string | null;
    pods: PodSummary[];
    resourceVersion: string | null;
    lists: number;
    watches: number;
    expired: number;
    bookmarks: number;
  };
}

interface PodEntry {
  view: PodView;
  streams: Map<string, ContainerLog>;
}

const DEFAULT_SELECTOR = 'app=mattermost';
const KEPT_RELEASED = 20;
const DEFAULT_BACKOFF: BackoffPolicy = {baseMs: 1_000, factor: 2, maxMs: 30_000, jitter: 0.2};

export class KubernetesSource implements LogSource {
  readonly id: string;
  readonly kind = 'kubernetes' as const;
  readonly resumable = true;
  readonly selector: string;
  private namespaceName: string | null;
  private readonly opts: KubernetesSourceOptions;
  private readonly proxy: string;
  private readonly app: string | null;
  private readonly tracker: SourceTracker;
  private readonly backoff: BackoffPolicy;
  private host: LogHost | null = null;
  private client: KubeClient | null;
  private podWatch: ListWatch<PodLike> | null = null;
  private readonly pods = new Map<string, PodEntry>();
  /** Streams of pods that are gone, for the status page; their totals stay in the source's. */
  private released: StreamStatus[] = [];
  private readonly retired = {bytes: 0, lines: 0};
  private readonly releasing = new Map<string, Promise<void>>();
  /** Committed positions by stream id: the store's at start, then every acknowledged batch. */
  private readonly positions = new Map<string, string>();
  private lastLineAt: string | null = null;
  private namespaceAmbient: boolean | null = null;
  private namespaceLabelsUnreadable: string | null = null;
  private noticedPods = new Set<string>();
  private noticedNamespace = false;
  private noticedEmpty = false;
  private running = false;
  private stopping = false;
  private halted = false;

  constructor(opts: KubernetesSourceOptions = {}) {
    this.opts = opts;
    this.selector = formatSelector(parseSelector(opts.selector ?? DEFAULT_SELECTOR));
    this.namespaceName = opts.namespace ?? null;
    if (this.namespaceName !== null && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(this.namespaceName)) {
      throw new Error(`"${this.namespaceName}" is not a valid namespace name`);
    }
    this.proxy = opts.proxyContainer ?? 'istio-proxy';
    this.app = opts.appContainer === undefined ? 'mattermost' : opts.appContainer;
    this.client = opts.client ?? null;
    this.id = opts.id ?? `kubernetes:${this.namespaceName ?? '(context)'}?selector=${this.selector}`;
    this.tracker = new SourceTracker(this.id, 'kubernetes');
    this.backoff = {...DEFAULT_BACKOFF, ...opts.backoff};
  }

  get namespace(): string | null {
    return this.namespaceName;
  }

  async start(sink: SourceSink, resume?: ResumePoints | null): Promise<void> {
    if (this.running) throw new Error(`source ${this.id} is already running`);
    this.running = true;
    this.stopping = false;
    this.halted = false;
    this.tracker.sink = sink;
    this.tracker.setState('starting');
    for (const [id, position] of resume ?? []) this.positions.set(id, position);
    let client: KubeClient;
    try {
      client = this.client ?? connect(this.opts.connection);
      this.client = client;
      this.namespaceName ??= client.contextNamespace;
      if (this.namespaceName === null) throw new Error('no namespace was given and the current context names none');
    } catch (err) {
      this.tracker.error(null, new Error(describeError(err)), 'connecting to the Kubernetes API');
      this.running = false;
      return;
    }
    const namespace = this.namespaceName;
    this.host = {
      sourceId: this.id,
      log: client.log,
      maxLineBytes: this.opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      idleTimeoutMs: this.opts.idleTimeoutMs ?? 300_000,
      backoff: this.backoff,
      deliver: (b) => this.deliver(b),
      notice: (streamId, code, message) => this.tracker.notice(streamId, code, message),
      sinkFailed: (err) => this.sinkFailed(err),
    };
    this.podWatch = new ListWatch<PodLike>({
      list: () => this.listPods(client, namespace),
      path: `/api/v1/namespaces/${namespace}/pods`,
      query: {labelSelector: this.selector},
      watch: client.watch,
      timeoutSeconds: this.opts.watchTimeoutSeconds,
      backoff: this.backoff,
      handlers: {
        synced: (items) => this.synced(items),
        added: (pod) => this.changed(pod),
        modified: (pod) => this.changed(pod),
        deleted: (pod) => this.deleted(pod),
        failed: (err, what, attempt) => {
          // The client's own error text repeats whole responses; the Status message is what helps.
          if (attempt === 1)
            this.tracker.error(null, new Error(describeError(err)), `${what === 'list' ? 'listing' : 'watching'} pods in ${namespace} (${this.selector})`);
        },
        recovered: () => this.tracker.setState('following'),
      },
    });
    await this.podWatch.start();
    if (this.tracker.state === 'starting') this.tracker.setState('following');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.shutdown();
    if (!this.halted) this.tracker.setState('stopped');
    this.running = false;
  }

  status(): KubernetesSourceStatus {
    const snap = this.tracker.snapshot();
    const live = [...this.pods.values()].flatMap((e) => [...e.streams.values()].map((s) => copyStream(s.status)));
    const streams = [...live, ...this.released.map(copyStream)];
    const views = [...this.pods.values()].map((e) => e.view);
    const stats = this.podWatch?.stats;
    return {
      ...snap,
      lastLineAt: this.lastLineAt,
      bytes: this.retired.bytes + live.reduce((n, s) => n + s.bytes, 0),
      lines: this.retired.lines + live.reduce((n, s) => n + s.lines, 0),
      streams,
      kubernetes: {
        namespace: this.namespaceName ?? '',
        selector: this.selector,
        namespaceAmbient: this.namespaceAmbient,
        ...this.sidecarSummary(views),
        pods: views.map((v) => this.summary(v)),
        resourceVersion: stats?.resourceVersion ?? null,
        lists: stats?.lists ?? 0,
        watches: stats?.watches ?? 0,
        expired: stats?.expired ?? 0,
        bookmarks: stats?.bookmarks ?? 0,
      },
    };
  }

  // ---- pods ----------------------------------------------------------------------------------------

  private async listPods(client: KubeClient, namespace: string): Promise<ListResult<PodLike>> {
    await this.readNamespace(client, namespace);
    const list = await client.core.listNamespacedPod({namespace, labelSelector: this.selector});
    return {items: list.items as PodLike[], resourceVersion: list.metadata?.resourceVersion ?? ''};
  }

  /** Ambient mode is a namespace label; reading it needs `get namespaces`, which a namespaced Role lacks. */
  private async readNamespace(client: KubeClient, namespace: string): Promise<void> {
    try {
      const ns = await client.core.readNamespace({name: namespace});
      this.namespaceAmbient = namespaceIsAmbient(ns.metadata?.labels);
      this.namespaceLabelsUnreadable = null;
    } catch (err) {
      const status = httpStatusOf(err);
      if (status !== 403 && status !== 404) throw err;
      this.namespaceAmbient = null;
      if (this.namespaceLabelsUnreadable === null) {
        this.namespaceLabelsUnreadable = describeError(err);
        this.tracker.notice(
          null,
          'waiting',
          `cannot read the labels of namespace ${namespace} (${this.namespaceLabelsUnreadable}); ambient mode is recognised from pod annotations only`,
        );
      }
    }
    if (this.namespaceAmbient === true && !this.noticedNamespace) {
      this.noticedNamespace = true;
      this.tracker.notice(
        null,
        'waiting',
        `namespace ${namespace} runs Istio in ambient mode (${DATAPLANE_MODE_LABEL}=ambient): there is no istio-proxy sidecar, so no sidecar logs to read. Egress is enforced by ztunnel and waypoint proxies, whose logs this source does not read; an empty findings list does not mean nothing is blocked.`,
      );
    }
  }

  private synced(items: PodLike[]): void {
    const views = items.map((p) => viewPod(p, this.namespaceAmbient === true)).filter((v): v is PodView => v !== null);
    const present = new Set(views.map((v) => v.name));
    for (const name of [...this.pods.keys()]) if (!present.has(name)) this.dropPod(name, true);
    for (const v of views) this.upsert(v);
    if (views.length === 0 && !this.noticedEmpty) {
      this.noticedEmpty = true;
      this.tracker.notice(null, 'waiting', `no pod in ${this.namespaceName} matches ${this.selector}; waiting for one`);
    }
  }

  private changed(pod: PodLike): void {
    const v = viewPod(pod, this.namespaceAmbient === true);
    if (v !== null) this.upsert(v);
  }

  private deleted(pod: PodLike): void {
    const name = pod.metadata?.name;
    const entry = name === undefined ? undefined : this.pods.get(name);
    // A late event about an earlier pod of the same name must not end the current one's streams.
    if (name !== undefined && entry !== undefined && (pod.metadata?.uid === undefined || pod.metadata.uid === entry.view.uid)) this.dropPod(name, true);
  }

  private upsert(view: PodView): void {
    const host = this.host;
    if (this.stopping || this.halted || host === null) return;
    let entry = this.pods.get(view.name);
    if (entry !== undefined && entry.view.uid !== view.uid) {
      this.dropPod(view.name, true);
      entry = undefined;
    }
    if (entry === undefined) {
      entry = {view, streams: new Map()};
      this.pods.set(view.name, entry);
      this.noticedEmpty = false;
    }
    entry.view = view;
    const wanted: [string, LogKind][] = [[this.proxy, 'proxy']];
    if (this.app !== null) wanted.push([this.app, 'app']);
    for (const [container, log] of wanted) {
      const c = view.containers.get(container);
      if (c === undefined) continue;
      let stream = entry.streams.get(container);
      if (stream === undefined) {
        stream = this.openStream(host, view, container, log);
        entry.streams.set(container, stream);
      }
      stream.update(c);
    }
    if (!view.containers.has(this.proxy) && !this.noticedPods.has(view.uid)) {
      this.noticedPods.add(view.uid);
      const why = view.ambient
        ? 'it is in Istio ambient mode (ztunnel, not a sidecar, carries its traffic)'
        : `it has no ${this.proxy} container (no sidecar was injected)`;
      this.tracker.notice(
        null,
        'waiting',
        `pod ${this.namespaceName}/${view.name}: no sidecar logs to read, because ${why}. Its blocked connections cannot be seen here; that is not the same as nothing blocked.`,
      );
    }
  }

  private openStream(host: LogHost, view: PodView, container: string, log: LogKind): ContainerLog {
    const stream = new ContainerLog(host, {
      namespace: this.namespaceName ?? '',
      pod: view.name,
      uid: view.uid,
      container,
      log,
      startAt: this.opts.startAt ?? 'beginning',
    });
    // A pod of the same name that just went away may still be committing its last batch under this id.
    const before = this.releasing.get(stream.id) ?? Promise.resolve();
    void before.then(() => {
      if (!this.stopping && !this.halted) stream.start(this.positions.get(stream.id) ?? null);
    });
    return stream;
  }

  private dropPod(name: string, gone: boolean): void {
    const entry = this.pods.get(name);
    if (entry === undefined) return;
    this.pods.delete(name);
    this.noticedPods.delete(entry.view.uid);
    for (const stream of entry.streams.values()) {
      // Never rejects: it is awaited by the next stream of the same id and by shutdown(), and fired from here.
      const done = stream
        .release(gone)
        .then(() => this.retire(stream))
        .catch((err: unknown) => this.tracker.error(stream.id, err, 'releasing a log stream'));
      this.releasing.set(stream.id, done);
      void done.finally(() => {
        if (this.releasing.get(stream.id) === done) this.releasing.delete(stream.id);
      });
    }
    if (gone)
      this.tracker.notice(
        null,
        'deleted',
        `pod ${this.namespaceName}/${name} is gone; ${entry.streams.size === 0 ? 'it had no log being followed' : 'its log streams were released'}`,
      );
  }

  private retire(stream: ContainerLog): void {
    this.retired.bytes += stream.status.bytes;
    this.retired.lines += stream.status.lines;
    this.released.push(copyStream(stream.status));
    if (this.released.length > KEPT_RELEASED) this.released.splice(0, this.released.length - KEPT_RELEASED);
  }

  // ---- delivery ------------------------------------------------------------------------------------

  private async deliver(batch: SourceBatch): Promise<boolean> {
    const sink = this.tracker.sink;
    if (this.stopping || this.halted || sink === null) return false;
    await sink.batch(batch);
    this.positions.set(batch.stream.id, batch.position);
    this.lastLineAt = new Date().toISOString();
    return true;
  }

  private sinkFailed(err: unknown): void {
    if (this.halted) return;
    this.halted = true;
    this.tracker.error(null, err, 'the sink rejected a batch; the source stopped');
    this.shutdown().catch((e: unknown) => this.tracker.error(null, e, 'stopping after the sink failed'));
  }

  private async shutdown(): Promise<void> {
    await this.podWatch?.stop();
    const streams = [...this.pods.values()].flatMap((e) => [...e.streams.values()]);
    this.pods.clear();
    await Promise.all(streams.map((s) => s.release(false).then(() => this.retire(s))));
    await Promise.all([...this.releasing.values()]);
  }

  // ---- status --------------------------------------------------------------------------------------

  private summary(v: PodView): PodSummary {
    const containers: Record<string, string> = {};
    for (const [name, c] of v.containers) containers[name] = c.state;
    return {name: v.name, uid: v.uid, phase: v.phase, sidecar: v.containers.has(this.proxy), ambient: v.ambient, containers};
  }

  private sidecarSummary(views: PodView[]): {sidecarLogs: 'all' | 'some' | 'none' | 'no-pods'; noSidecarLogs: string | null} {
    if (views.length === 0) {
      const ambient = this.namespaceAmbient === true ? `namespace ${this.namespaceName} is in ambient mode: no sidecar logs to read` : null;
      return {sidecarLogs: 'no-pods', noSidecarLogs: ambient};
    }
    const without = views.filter((v) => !v.containers.has(this.proxy));
    if (without.length === 0) return {sidecarLogs: 'all', noSidecarLogs: null};
    const names = without.map((v) => `${v.name}${v.ambient ? ' (ambient mode)' : ` (no ${this.proxy} container)`}`).join(', ');
    return {
      sidecarLogs: without.length === views.length ? 'none' : 'some',
      noSidecarLogs: `no sidecar logs to read for ${without.length} of ${views.length} pod(s): ${names}`,
    };
  }
}

function copyStream(s: StreamStatus): StreamStatus {
  return {...s, detail: {...s.detail}};
}
