// A stand-in for the Kubernetes API server, only for the tests of what the real one (test/kubernetes/harness.ts)
// cannot be made to produce on demand (server/sources/kubernetes.replayed.test.ts): a node:http server on
// 127.0.0.1 that answers the real client the way kube-apiserver does for pods and their logs, with the shapes
// recorded under test/fixtures/kubernetes. It keeps objects, hands out resourceVersions, keeps a history of changes for watches (and forgets it on compact(),
// after which a watch from an older version gets an ERROR event carrying a 410 Status, as the watch cache
// sends it), filters by label selector the way a watch does (a pod that stops matching is DELETED for that
// watch), and serves container logs with kubelet timestamps, sinceTime truncated to the second as the API
// server does, follow mode, and backpressure. Tests drive it: add pods, append log lines, break connections.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {matchesSelector, parseSelector, type Requirement} from '../labels';
import {fixture, type Json} from './fixtures';
import {FakeLogs} from './fake-logs';

export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
}

interface Watcher {
  key: string;
  namespace: string | null;
  selector: Requirement[];
  apiVersion: string;
  bookmarks: boolean;
  res: ServerResponse;
}

interface Change {
  rv: number;
  key: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Json;
  before: Json | null;
}

interface Route {
  key: string;
  group: string;
  version: string;
  namespace: string | null;
  name: string | null;
}

/** Resources the fake knows, by plural: the core group's that the source reads (configmaps move the version on). */
const KINDS: Record<string, {kind: string}> = {
  pods: {kind: 'Pod'},
  configmaps: {kind: 'ConfigMap'},
  namespaces: {kind: 'Namespace'},
};

export class FakeApiServer {
  readonly token = 'fake-service-account-token';
  readonly requests: Recorded[] = [];
  readonly logs: FakeLogs;
  private server: Server | null = null;
  private rv = 1000;
  private floor = 0;
  private readonly history: Change[] = [];
  private readonly objects = new Map<string, Map<string, Json>>();
  private readonly watchers = new Set<Watcher>();
  private readonly scripted = new Map<string, string[]>();
  private uidCounter = 0;

  private constructor() {
    this.logs = new FakeLogs((ns, pod) => this.get('pods', ns, pod));
  }

  static async start(): Promise<FakeApiServer> {
    const fake = new FakeApiServer();
    const server = createServer((req, res) => fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.server = server;
    return fake;
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${a.port}`;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    this.logs.destroyAll();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === null ? resolve() : this.server.close(() => resolve())));
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  // ---- what tests change -----------------------------------------------------------------------------

  /** Creates or replaces the object (by namespace and name) and tells the watches. */
  apply(key: string, object: Json): Json {
    const meta = {...((object.metadata as Json | undefined) ?? {})};
    const name = String(meta.name);
    const ns = typeof meta.namespace === 'string' ? meta.namespace : null;
    const store = this.store(key);
    const id = `${ns ?? ''}/${name}`;
    const before = store.get(id) ?? null;
    this.rv += 1;
    meta.resourceVersion = String(this.rv);
    meta.uid ??= before === null ? this.nextUid() : (before.metadata as Json).uid;
    const obj = {...object, metadata: meta};
    store.set(id, obj);
    this.record({rv: this.rv, key, type: before === null ? 'ADDED' : 'MODIFIED', object: obj, before});
    return obj;
  }

  get(key: string, namespace: string | null, name: string): Json | undefined {
    return this.objects.get(key)?.get(`${namespace ?? ''}/${name}`);
  }

  /** Moves the resourceVersion on without touching what a test watches (another object changed). */
  bump(): void {
    this.apply('configmaps', {metadata: {name: `unrelated-${this.rv}`, namespace: 'kube-system'}, data: {}});
  }

  /** Forgets the history up to now, as etcd's compaction does: older versions can no longer be watched. */
  compact(): void {
    this.floor = this.rv;
    this.history.length = 0;
  }

  /** Ends open watches cleanly, as the server does when a watch's timeout runs out. */
  endWatches(key?: string): void {
    for (const w of [...this.watchers]) {
      if (key !== undefined && w.key !== key) continue;
      this.watchers.delete(w);
      w.res.end();
    }
  }

  /** Sends a BOOKMARK with the current version to the watches that asked for bookmarks. */
  bookmark(key: string): number {
    let sent = 0;
    for (const w of this.watchers) {
      if (w.key !== key || !w.bookmarks) continue;
      const object = fixture('bookmark-pod.json', {rv: String(this.rv)});
      w.res.write(`${JSON.stringify({type: 'BOOKMARK', object})}\n`);
      sent += 1;
    }
    return sent;
  }

  /** The next watch of key is answered with this recorded body, verbatim, and then closed. */
  scriptWatch(key: string, body: string): void {
    const queue = this.scripted.get(key) ?? [];
    queue.push(body);
    this.scripted.set(key, queue);
  }

  openWatches(key?: string): number {
    return [...this.watchers].filter((w) => key === undefined || w.key === key).length;
  }

  requestsTo(pathPart: string, pred: (r: Recorded) => boolean = () => true): Recorded[] {
    return this.requests.filter((r) => r.path.includes(pathPart) && pred(r));
  }

  // ---- HTTP ------------------------------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({method: req.method ?? 'GET', path: url.pathname, query});
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.status(res, fixture('status-unauthorized.json'));
    const log = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(url.pathname);
    if (log !== null) return this.logs.serve(res, log[1], log[2], url.searchParams, (s) => this.status(res, s));
    const route = routeOf(url.pathname);
    if (route === null) return this.status(res, fixture('status-not-found.json'));
    const watch = query.watch === 'true' || query.watch === '1';
    if (route.name !== null) return this.getOne(res, route);
    let selector: Requirement[] = [];
    if (query.labelSelector !== undefined && query.labelSelector !== '') selector = parseSelector(query.labelSelector);
    if (watch) return this.watch(req, res, route, selector, query);
    this.list(res, route, selector);
  }

  private getOne(res: ServerResponse, r: Route): void {
    const obj = this.get(r.key, r.key === 'namespaces' ? null : r.namespace, r.name ?? '');
    if (obj === undefined) {
      const status = fixture<Json>('status-not-found.json');
      status.message = `${r.key} "${r.name}" not found`;
      return this.status(res, status);
    }
    this.json(res, 200, this.present(r, obj));
  }

  private list(res: ServerResponse, r: Route, selector: Requirement[]): void {
    const items = this.matching(r, selector).map((o) => this.present(r, o));
    // Typed lists carry kind and apiVersion on the list only.
    const list = fixture<Json>('list-pods.json');
    list.kind = `${KINDS[r.key].kind}List`;
    (list.metadata as Json).resourceVersion = String(this.rv);
    list.items = items.map((o) => {
      const rest = {...o};
      delete rest.kind;
      delete rest.apiVersion;
      return rest;
    });
    this.json(res, 200, list);
  }

  private watch(req: IncomingMessage, res: ServerResponse, r: Route, selector: Requirement[], query: Record<string, string>): void {
    res.writeHead(200, {'content-type': 'application/json', 'transfer-encoding': 'chunked'});
    // The API server flushes the headers of a watch at once, before any event.
    res.flushHeaders();
    const script = this.scripted.get(r.key)?.shift();
    if (script !== undefined) {
      res.end(script);
      return;
    }
    const from = Number(query.resourceVersion ?? '0');
    if (query.resourceVersion !== undefined && query.resourceVersion !== '0' && from < this.floor) {
      const status = fixture('status-expired.json', {requested: String(from), oldest: String(this.floor)});
      res.end(`${JSON.stringify({type: 'ERROR', object: status})}\n`);
      return;
    }
    const w: Watcher = {key: r.key, namespace: r.namespace, selector, apiVersion: apiVersionOf(r), bookmarks: query.allowWatchBookmarks === 'true', res};
    for (const change of this.history) if (change.rv > from) this.send(w, change);
    this.watchers.add(w);
    const timeout = Number(query.timeoutSeconds ?? '0');
    const timer = timeout > 0 ? setTimeout(() => this.endWatch(w), timeout * 1000) : null;
    const gone = (): void => {
      if (timer !== null) clearTimeout(timer);
      this.watchers.delete(w);
    };
    req.on('close', gone);
    res.on('close', gone);
  }

  private endWatch(w: Watcher): void {
    if (!this.watchers.delete(w)) return;
    w.res.end();
  }

  private record(change: Change): void {
    this.history.push(change);
    for (const w of this.watchers) this.send(w, change);
  }

  /** As a watch with a label selector sees it: entering the selection is ADDED, leaving it DELETED. */
  private send(w: Watcher, c: Change): void {
    if (w.key !== c.key) return;
    const meta = c.object.metadata as Json;
    if (w.namespace !== null && meta.namespace !== w.namespace) return;
    const now = matchesSelector(w.selector, meta.labels as Record<string, string>);
    const was = c.before !== null && matchesSelector(w.selector, (c.before.metadata as Json).labels as Record<string, string>);
    let type: string = c.type;
    if (c.type === 'MODIFIED' && now && !was) type = 'ADDED';
    else if (c.type === 'MODIFIED' && !now && was) type = 'DELETED';
    else if (!now && !(c.type === 'DELETED' && was)) return;
    const object = {...c.object, apiVersion: w.apiVersion, kind: KINDS[c.key].kind};
    w.res.write(`${JSON.stringify({type, object})}\n`);
  }

  private matching(r: Route, selector: Requirement[]): Json[] {
    return [...this.store(r.key).values()].filter((o) => {
      const meta = o.metadata as Json;
      return (r.namespace === null || meta.namespace === r.namespace) && matchesSelector(selector, meta.labels as Record<string, string>);
    });
  }

  private present(r: Route, o: Json): Json {
    return {...o, apiVersion: apiVersionOf(r), kind: KINDS[r.key].kind};
  }

  private store(key: string): Map<string, Json> {
    if (KINDS[key] === undefined) throw new Error(`the fake does not know ${key}`);
    let s = this.objects.get(key);
    if (s === undefined) {
      s = new Map();
      this.objects.set(key, s);
    }
    return s;
  }

  private nextUid(): string {
    this.uidCounter += 1;
    return `00000000-0000-4000-8000-${String(this.uidCounter).padStart(12, '0')}`;
  }

  private status(res: ServerResponse, status: Json): void {
    this.json(res, Number(status.code), status);
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)});
    res.end(text);
  }
}

function routeOf(path: string): Route | null {
  let m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
  if (m !== null) return {key: 'namespaces', group: '', version: 'v1', namespace: null, name: m[1]};
  m = /^\/api\/v1\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (m !== null) return KINDS[m[2]] === undefined ? null : {key: m[2], group: '', version: 'v1', namespace: m[1], name: m[3] ?? null};
  return null;
}

function apiVersionOf(r: Route): string {
  return r.group === '' ? 'v1' : `${r.group}/${r.version}`;
}
