// The Kubernetes client, loaded on first use. @kubernetes/client-node 1.x is published as ES modules only:
// Node 20.19+ loads it through require(esm), but a static import would make every module that merely
// imports this one (the bridge, and through it its tests) fail to load where require(esm) is missing, and
// would cost the CLI the library's start-up time although it never talks to a cluster.
import type * as Lib from '@kubernetes/client-node';
import {logRequester, type LogRequester} from './log-request';

export type KubeLibrary = typeof Lib;

let loaded: KubeLibrary | null = null;

export function kubeLibrary(): KubeLibrary {
  loaded ??= require('@kubernetes/client-node') as KubeLibrary;
  return loaded;
}

/** How to reach the API server. */
export type KubeConnection =
  /** In a pod: its service account. Elsewhere: $KUBECONFIG, then ~/.kube/config. */
  | {mode: 'auto'}
  | {mode: 'in-cluster'}
  | {mode: 'kubeconfig'; path?: string; context?: string}
  /** A server URL and a bearer token: tests, port-forwards, `kubectl proxy`. */
  | {mode: 'direct'; server: string; token?: string; caData?: string; skipTLSVerify?: boolean};

/** One connection's API objects, shared by everything that reads the same cluster. */
export interface KubeClient {
  config: Lib.KubeConfig;
  core: Lib.CoreV1Api;
  custom: Lib.CustomObjectsApi;
  watch: Lib.Watch;
  log: LogRequester;
  /** The namespace of the current context (in a pod: the service account's), if any. */
  contextNamespace: string | null;
}

export function connect(connection: KubeConnection = {mode: 'auto'}): KubeClient {
  const lib = kubeLibrary();
  const config = new lib.KubeConfig();
  switch (connection.mode) {
    case 'auto':
      config.loadFromDefault();
      break;
    case 'in-cluster':
      config.loadFromCluster();
      break;
    case 'kubeconfig':
      if (connection.path === undefined) config.loadFromDefault();
      else config.loadFromFile(connection.path);
      if (connection.context !== undefined) config.setCurrentContext(connection.context);
      break;
    case 'direct': {
      // The generated API client refuses plain http unless TLS verification is off; with no TLS there is
      // nothing to verify (`kubectl proxy`, a port-forward to it, tests).
      const plain = connection.server.startsWith('http:');
      config.loadFromOptions({
        clusters: [{name: 'direct', server: connection.server, caData: connection.caData, skipTLSVerify: connection.skipTLSVerify === true || plain}],
        users: [{name: 'direct', token: connection.token}],
        contexts: [{name: 'direct', cluster: 'direct', user: 'direct'}],
        currentContext: 'direct',
      });
      break;
    }
  }
  if (config.getCurrentCluster() === null) throw new Error('no Kubernetes cluster is configured (no service account, $KUBECONFIG or ~/.kube/config)');
  const namespace = config.getContextObject(config.getCurrentContext())?.namespace;
  return {
    config,
    core: config.makeApiClient(lib.CoreV1Api),
    custom: config.makeApiClient(lib.CustomObjectsApi),
    watch: new lib.Watch(config),
    log: logRequester(config),
    contextNamespace: typeof namespace === 'string' && namespace !== '' ? namespace.trim() : null,
  };
}

/** The HTTP status of a failed API call (ApiException.code, Watch's statusCode), or null for a network error. */
export function httpStatusOf(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as {code?: unknown; statusCode?: unknown};
  if (typeof e.statusCode === 'number') return e.statusCode;
  // ApiException.code is the HTTP status; Node's own errors carry string codes such as ECONNREFUSED.
  if (typeof e.code === 'number') return e.code;
  return null;
}

/** A short, single-line reason for the status page: the API server's Status message when there is one. */
export function describeError(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as {body?: unknown; message?: unknown; code?: unknown};
  const status = httpStatusOf(err);
  let message = typeof e.message === 'string' ? e.message : String(err);
  const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
  if (typeof body === 'object' && body !== null && typeof (body as {message?: unknown}).message === 'string') {
    message = (body as {message: string}).message;
  } else if (message.startsWith('HTTP-Code:')) {
    // ApiException's own message repeats the whole response and its headers; only its reason is useful.
    message = /\nMessage: ([^\n]*)/.exec(message)?.[1] ?? 'request failed';
  }
  if (typeof e.code === 'string' && !message.includes(e.code)) message = `${e.code}: ${message}`;
  const text = status !== null && !message.startsWith(`HTTP ${status}`) ? `HTTP ${status}: ${message}` : message;
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}
