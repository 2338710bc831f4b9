// What the source needs to know about a pod, read from the API's Pod object. Pods arrive both from a list
// (deserialised by the client: dates are Date objects) and from watch events (plain JSON): only fields that
// look the same in both are read.

interface ContainerStateLike {
  running?: unknown;
  terminated?: unknown;
  waiting?: {reason?: string} | null;
}

interface ContainerStatusLike {
  name?: string;
  state?: ContainerStateLike | null;
  lastState?: ContainerStateLike | null;
  restartCount?: number;
}

export interface PodLike {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string> | null;
    annotations?: Record<string, string> | null;
    deletionTimestamp?: unknown;
  };
  spec?: {
    containers?: {name?: string}[] | null;
    initContainers?: {name?: string; restartPolicy?: string}[] | null;
  };
  status?: {
    phase?: string;
    containerStatuses?: ContainerStatusLike[] | null;
    initContainerStatuses?: ContainerStatusLike[] | null;
  };
}

export interface ContainerView {
  /** The container has run at least once, so the kubelet has a log to serve. */
  started: boolean;
  /** For people: running, waiting (reason), terminated, unknown. */
  state: string;
  /** The kubelet's restartCount: it grows when a new run of the container begins, with a log of its own. */
  restarts: number;
}

export interface PodView {
  name: string;
  uid: string;
  phase: string;
  terminating: boolean;
  /** Istio's CNI redirects this pod's traffic through ztunnel: no sidecar will ever log its connections. */
  ambient: boolean;
  /** By name, for the containers that exist in the pod's spec (native sidecars included). */
  containers: Map<string, ContainerView>;
}

/** Istio marks pods whose traffic its ambient data plane captures. */
export const AMBIENT_POD_ANNOTATION = 'ambient.istio.io/redirection';
/** On a namespace: ambient mode for its pods. On a pod: its own choice (`none` opts out). */
export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';

export function viewPod(pod: PodLike, namespaceAmbient: boolean): PodView | null {
  const name = pod.metadata?.name;
  const uid = pod.metadata?.uid;
  if (typeof name !== 'string' || name === '' || typeof uid !== 'string') return null;
  const statuses = new Map<string, ContainerStatusLike>();
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    if (typeof s?.name === 'string') statuses.set(s.name, s);
  }
  const containers = new Map<string, ContainerView>();
  // Istio 1.19+ can run istio-proxy as a native sidecar: an init container that keeps running.
  const specs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of specs) {
    if (typeof c?.name === 'string') containers.set(c.name, viewContainer(statuses.get(c.name)));
  }
  const podMode = pod.metadata?.labels?.[DATAPLANE_MODE_LABEL];
  const ambient = pod.metadata?.annotations?.[AMBIENT_POD_ANNOTATION] === 'enabled' || (namespaceAmbient && podMode !== 'none') || podMode === 'ambient';
  return {
    name,
    uid,
    phase: typeof pod.status?.phase === 'string' ? pod.status.phase : 'Unknown',
    terminating: pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
    ambient,
    containers,
  };
}

function viewContainer(s: ContainerStatusLike | undefined): ContainerView {
  if (s === undefined) return {started: false, state: 'unknown', restarts: 0};
  const has = (x: unknown): boolean => x !== undefined && x !== null;
  const state = s.state ?? {};
  // A container waiting to restart still has its last run's log, which the kubelet serves.
  const started = has(state.running) || has(state.terminated) || has(s.lastState?.terminated) || (s.restartCount ?? 0) > 0;
  const label = has(state.running)
    ? 'running'
    : has(state.terminated)
      ? 'terminated'
      : has(state.waiting)
        ? `waiting (${state.waiting?.reason ?? 'no reason given'})`
        : 'unknown';
  const restarts = typeof s.restartCount === 'number' && Number.isSafeInteger(s.restartCount) && s.restartCount > 0 ? s.restartCount : 0;
  return {started, state: label, restarts};
}

export function namespaceIsAmbient(labels: Record<string, string> | null | undefined): boolean {
  return labels?.[DATAPLANE_MODE_LABEL] === 'ambient';
}
