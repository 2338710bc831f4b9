// What the mesh allows Mattermost, kept current: the ServiceEntries of every namespace (those exported to
// Mattermost's count), the Sidecars of its namespace and of Istio's root namespace, and the mesh config's
// outbound policy. Each is read by list and watch (the mesh config, a ConfigMap, is read again periodically).
import {parse} from 'yaml';
import type {AllowedHost} from '../engine/suggest/allowed';
import {connect, describeError, httpStatusOf, type KubeClient, type KubeConnection} from '../sources/kube/library';
import type {BackoffPolicy} from '../store/backoff';
import {computeAllowances} from './allowances';
import {allowedHostsFromMesh} from './allowed';
import {IstioCollection} from './collection';
import type {MeshAllowances, ServiceEntryLike, SidecarLike} from './types';
import {Waker} from '../sources/wake';

export interface MeshWatcherOptions {
  /** Mattermost's namespace. Default: the current context's. */
  namespace?: string;
  connection?: KubeConnection;
  /** An existing connection, e.g. the log source's. */
  client?: KubeClient;
  /** Istio's root namespace (mesh-wide Sidecar, mesh config). Default istio-system. */
  rootNamespace?: string;
  /** Labels of the Mattermost pods, for Sidecar workloadSelectors. Default {app: 'mattermost'}. */
  workloadLabels?: Record<string, string>;
  /** The ConfigMap holding the mesh config (`istio`, or `istio-<revision>`); null to not read it. */
  meshConfigMap?: string | null;
  /** Read ServiceEntries of all namespaces (needs a ClusterRole; falls back to the namespace on 403). Default true. */
  clusterWide?: boolean;
  meshConfigRefreshMs?: number;
  watchTimeoutSeconds?: number;
  backoff?: BackoffPolicy;
  /** Called after every change, with the new picture. */
  onChange?: (m: MeshAllowances) => void;
}

type MeshMode = 'REGISTRY_ONLY' | 'ALLOW_ANY' | null;

export class MeshWatcher {
  private readonly opts: MeshWatcherOptions;
  private client: KubeClient | null;
  private namespace: string | null;
  private readonly root: string;
  private entries: IstioCollection<ServiceEntryLike> | null = null;
  private sidecars: IstioCollection<SidecarLike>[] = [];
  private meshMode: MeshMode | undefined = undefined;
  private meshNote: string | null = null;
  private readonly notes: string[] = [];
  private readonly waker = new Waker();
  private refresher: Promise<void> | null = null;
  private running = false;

  constructor(opts: MeshWatcherOptions = {}) {
    this.opts = opts;
    this.client = opts.client ?? null;
    this.namespace = opts.namespace ?? null;
    this.root = opts.rootNamespace ?? 'istio-system';
  }

  /** Resolves once everything was read (or tried) once; watches keep the picture current afterwards. */
  async start(): Promise<void> {
    if (this.running) throw new Error('the mesh watcher is already running');
    const client = (this.client ??= connect(this.opts.connection));
    const namespace = (this.namespace ??= client.contextNamespace);
    if (namespace === null) throw new Error('no namespace was given and the current context names none');
    this.running = true;
    const common = {
      client,
      fallbackNamespace: namespace,
      watchTimeoutSeconds: this.opts.watchTimeoutSeconds,
      backoff: this.opts.backoff,
      changed: () => this.changed(),
      note: (t: string) => this.note(t),
    };
    this.entries = new IstioCollection({...common, plural: 'serviceentries', namespace: this.opts.clusterWide === false ? namespace : null});
    this.sidecars = [new IstioCollection<SidecarLike>({...common, plural: 'sidecars', namespace})];
    if (this.root !== namespace) this.sidecars.push(new IstioCollection<SidecarLike>({...common, plural: 'sidecars', namespace: this.root}));
    await Promise.all([this.entries.start(), ...this.sidecars.map((s) => s.start()), this.readMeshConfig(client)]);
    this.refresher = this.refreshLoop(client);
    this.changed();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.waker.wake();
    await Promise.all([this.entries?.stop(), ...this.sidecars.map((s) => s.stop()), this.refresher]);
  }

  meshAllowances(): MeshAllowances {
    const namespace = this.namespace ?? '';
    const computed = computeAllowances({
      namespace,
      rootNamespace: this.root,
      workloadLabels: this.opts.workloadLabels ?? {app: 'mattermost'},
      serviceEntries: [...(this.entries?.items.values() ?? [])],
      sidecars: this.sidecars.flatMap((s) => [...s.items.values()]),
      ...(this.meshMode === undefined ? {} : {meshConfigMode: this.meshMode}),
    });
    const collections = [this.entries, ...this.sidecars].filter((c): c is NonNullable<typeof c> => c !== null);
    const errors = collections.map((c) => c.lastError).filter((e): e is string => e !== null);
    return {
      ...computed,
      apiVersions: {serviceEntries: this.entries?.version ?? null, sidecars: this.sidecars[0]?.version ?? null},
      ready: collections.length > 0 && collections.every((c) => c.synced),
      notes: [...this.notes, ...(this.meshNote === null ? [] : [this.meshNote]), ...errors, ...computed.notes],
    };
  }

  /** The allowances as the suggestion engine takes them. */
  allowedHosts(): AllowedHost[] {
    return allowedHostsFromMesh(this.meshAllowances());
  }

  private changed(): void {
    if (!this.running || this.opts.onChange === undefined) return;
    try {
      this.opts.onChange(this.meshAllowances());
    } catch {
      // A listener's failure must not stop the watches.
    }
  }

  private note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  private async refreshLoop(client: KubeClient): Promise<void> {
    const every = this.opts.meshConfigRefreshMs ?? 300_000;
    while (this.running) {
      await this.waker.wait(every);
      if (!this.running) break;
      const before = this.meshMode;
      await this.readMeshConfig(client);
      if (before !== this.meshMode) this.changed();
    }
  }

  /** Only outboundTrafficPolicy.mode is read from it; a mesh config without one leaves Istio's default. */
  private async readMeshConfig(client: KubeClient): Promise<void> {
    const name = this.opts.meshConfigMap === undefined ? 'istio' : this.opts.meshConfigMap;
    if (name === null) {
      this.meshMode = undefined;
      return;
    }
    try {
      const cm = await client.core.readNamespacedConfigMap({name, namespace: this.root});
      const mesh = parse(cm.data?.mesh ?? '') as {outboundTrafficPolicy?: {mode?: unknown}} | null;
      const mode = mesh?.outboundTrafficPolicy?.mode;
      this.meshMode = mode === 'REGISTRY_ONLY' || mode === 'ALLOW_ANY' ? mode : null;
      this.meshNote = null;
    } catch (err) {
      const status = httpStatusOf(err);
      this.meshMode = undefined;
      this.meshNote = `the mesh config (ConfigMap ${this.root}/${name}) could not be read (${describeError(err)})${status === 403 ? '; without a Sidecar that sets a mode, the outbound mode is unknown' : ''}`;
    }
  }
}
