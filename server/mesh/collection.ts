// One kind of Istio networking object, kept current by list and watch. The version is found on the first
// list: networking.istio.io/v1 where the mesh serves it (Istio 1.22+), v1beta1 on older meshes, whose API
// server answers v1 with 404. Listing the whole cluster needs a ClusterRole; without one (403), the
// collection narrows itself to one namespace and says so.
import type {BackoffPolicy} from '../store/backoff';
import {describeError, httpStatusOf, type KubeClient} from '../sources/kube/library';
import {ListWatch, type KubeObject, type ListResult} from '../sources/kube/listwatch';

export const ISTIO_GROUP = 'networking.istio.io';
export const ISTIO_VERSIONS = ['v1', 'v1beta1'] as const;

export interface CollectionOptions {
  client: KubeClient;
  plural: 'serviceentries' | 'sidecars';
  /** null: every namespace (falls back to fallbackNamespace on 403). */
  namespace: string | null;
  fallbackNamespace: string;
  watchTimeoutSeconds?: number;
  backoff?: BackoffPolicy;
  changed(): void;
  note(text: string): void;
}

export class IstioCollection<T extends KubeObject> {
  readonly items = new Map<string, T>();
  version: string | null = null;
  synced = false;
  lastError: string | null = null;
  private namespace: string | null;
  private readonly watch: ListWatch<T>;

  constructor(private readonly opts: CollectionOptions) {
    this.namespace = opts.namespace;
    this.watch = new ListWatch<T>({
      list: () => this.list(),
      path: () => this.path(this.version ?? ISTIO_VERSIONS[0]),
      watch: opts.client.watch,
      timeoutSeconds: opts.watchTimeoutSeconds,
      backoff: opts.backoff,
      handlers: {
        synced: (items) => {
          this.items.clear();
          for (const i of items) this.items.set(keyOf(i), i);
          this.synced = true;
          this.lastError = null;
          opts.changed();
        },
        added: (i) => this.put(i),
        modified: (i) => this.put(i),
        deleted: (i) => {
          this.items.delete(keyOf(i));
          opts.changed();
        },
        failed: (err, what, attempt) => {
          this.lastError = `${what === 'list' ? 'listing' : 'watching'} ${this.what()}: ${describeError(err)}`;
          if (attempt === 1) opts.changed();
        },
        recovered: () => {
          this.lastError = null;
          opts.changed();
        },
      },
    });
  }

  start(): Promise<void> {
    return this.watch.start();
  }

  stop(): Promise<void> {
    return this.watch.stop();
  }

  get scope(): string {
    return this.namespace === null ? 'all namespaces' : `namespace ${this.namespace}`;
  }

  private put(i: T): void {
    this.items.set(keyOf(i), i);
    this.opts.changed();
  }

  private async list(): Promise<ListResult<T>> {
    const versions = this.version === null ? ISTIO_VERSIONS : [this.version];
    let last: unknown = null;
    for (const version of versions) {
      try {
        const list = (await this.listAt(version)) as {items?: T[]; metadata?: {resourceVersion?: string}};
        if (this.version !== version) this.version = version;
        return {items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? ''};
      } catch (err) {
        last = err;
        const status = httpStatusOf(err);
        if (status === 403 && this.namespace === null) {
          this.namespace = this.opts.fallbackNamespace;
          this.opts.note(
            `${this.opts.plural} of other namespaces cannot be listed (${describeError(err)}); only namespace ${this.namespace} is read, so entries other namespaces export to it are not counted`,
          );
          return this.list();
        }
        if (status !== 404) throw err;
      }
    }
    this.version = null;
    throw new Error(`${ISTIO_GROUP} ${this.opts.plural} is not served in ${ISTIO_VERSIONS.join(' or ')} (are Istio's CRDs installed?): ${describeError(last)}`);
  }

  private listAt(version: string): Promise<unknown> {
    const c = this.opts.client.custom;
    const base = {group: ISTIO_GROUP, version, plural: this.opts.plural};
    return this.namespace === null ? c.listClusterCustomObject(base) : c.listNamespacedCustomObject({...base, namespace: this.namespace});
  }

  private path(version: string): string {
    const ns = this.namespace === null ? '' : `/namespaces/${this.namespace}`;
    return `/apis/${ISTIO_GROUP}/${version}${ns}/${this.opts.plural}`;
  }

  private what(): string {
    return `${this.opts.plural} in ${this.scope}`;
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
