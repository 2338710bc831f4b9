/*
 * The webapp's way to the bridge (and, for alert buttons, to Mattermost's own API). Requests go to
 * the plugin's route on the Mattermost origin, so the browser sends the session cookie; non-GET requests
 * carry the MMCSRF cookie in X-CSRF-Token, the rule Mattermost enforces before it hands a request to the
 * plugin, which forwards it to the bridge.
 *
 * Errors are BridgeError: the server's own message when it sent one, and `unreachable` when the
 * bridge was not reached (the plugin says it cannot reach it or has no settings yet, Mattermost's 404
 * when the plugin is not running, a 502/503/504, a network failure): the dashboard then says what to do.
 */
import {
  API_BASE_PATH,
  type ApiError,
  type ApiErrorCode,
  type FindingDetail,
  type FindingsPage,
  type FindingsQuery,
  type FindingsRevision,
  type FindingSummary,
  type IntegrationsResponse,
  type StatusReport,
  type SuggestionsRequest,
  type SuggestionsResponse,
} from '../../common/api';
import type {ConnectionTestKind, ConnectionTestResponse, RehearsalResponse} from '../../common/connection-tests';

export type FailureKind =
  /** The bridge answered with an error of its own (ApiError). */
  | 'api'
  /** Mattermost answered 404 (or a page that is not the bridge's): the path is not routed to the bridge. */
  | 'not-routed'
  /** A proxy answered 502/503/504 without the bridge's error body: the route exists, the bridge is down. */
  | 'bridge-down'
  /** The request did not complete. */
  | 'network'
  /** Any other answer that is not the bridge's (an HTTP error from something in between). */
  | 'http';

export class BridgeError extends Error {
  readonly kind: FailureKind;
  /** HTTP status; 0 when the request did not complete. */
  readonly status: number;
  readonly code: ApiErrorCode | null;
  readonly requestId: string | null;
  readonly allowed: string[] | null;

  constructor(kind: FailureKind, status: number, message: string, body?: Partial<ApiError>) {
    super(message);
    this.name = 'BridgeError';
    this.kind = kind;
    this.status = status;
    this.code = body?.code ?? null;
    this.requestId = body?.requestId ?? null;
    this.allowed = body?.allowed ?? null;
  }

  /** True when the answer did not come from the bridge: show how to connect it, not an error. */
  get unreachable(): boolean {
    if (this.code === 'bridge_unreachable' || this.code === 'bridge_not_configured') return true;
    return this.kind === 'not-routed' || this.kind === 'bridge-down' || this.kind === 'network';
  }
}

/** Whatever a request threw, as a BridgeError (a bug in between still gets shown, not swallowed). */
export function asBridgeError(err: unknown): BridgeError {
  return err instanceof BridgeError ? err : new BridgeError('http', 0, err instanceof Error ? err.message : String(err));
}

/** The path of a Site URL without a trailing slash: '' for a root install, '/chat' for a subpath one. */
export function basePathOf(siteUrl: string | null | undefined): string {
  if (!siteUrl) return '';
  try {
    return new URL(siteUrl).pathname.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

export function readCookie(name: string, cookies: string = typeof document === 'undefined' ? '' : document.cookie): string {
  for (const part of cookies.split(';')) {
    const c = part.trim();
    if (c.startsWith(`${name}=`)) return c.slice(name.length + 1);
  }
  return '';
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

function isApiError(v: unknown): v is ApiError {
  return typeof v === 'object' && v !== null && typeof (v as ApiError).error === 'string' && typeof (v as ApiError).code === 'string';
}

/** Mattermost's own error body ({message, id, status_code}). */
function mattermostMessage(v: unknown): string | null {
  const m = (v as {message?: unknown} | null)?.message;
  return typeof v === 'object' && v !== null && typeof m === 'string' ? m : null;
}

async function readJson(res: Response): Promise<unknown> {
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) return undefined;
  try {
    return await res.json();
  } catch {
    return undefined;
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

/** fetch with Mattermost's conventions: cookies, X-Requested-With, CSRF on changes, JSON in and out. */
export async function request(fetchImpl: Fetch, url: string, opts: RequestOptions = {}): Promise<{status: number; body: unknown}> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = {'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json'};
  if (method !== 'GET') {
    const csrf = readCookie('MMCSRF');
    if (csrf !== '') headers['X-CSRF-Token'] = csrf;
  }
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method,
      headers,
      credentials: 'include',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as {name?: string} | null)?.name === 'AbortError') throw err;
    throw new BridgeError('network', 0, `The request did not complete: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {status: res.status, body: await readJson(res)};
}

function failure(status: number, body: unknown, what: string): BridgeError {
  if (isApiError(body)) return new BridgeError('api', status, body.error, body);
  const mm = mattermostMessage(body);
  if (status === 404)
    return new BridgeError('not-routed', status, `${what} answered 404: the Egress Advisor plugin is not enabled, or its server half is not running.`);
  if (status === 502 || status === 503 || status === 504) {
    return new BridgeError('bridge-down', status, `${what} answered ${status}: the Egress Advisor bridge does not answer.`);
  }
  return new BridgeError('http', status, mm ?? `${what} answered HTTP ${status}.`);
}

export interface BridgeClientOptions {
  siteUrl?: string | null;
  fetch?: Fetch;
}

function queryString(q: FindingsQuery): string {
  const params = new URLSearchParams();
  const list = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);
  const entries: Array<[string, string | number | undefined]> = [
    ['status', list(q.status)],
    ['verdict', list(q.verdict)],
    ['q', q.q],
    ['sort', q.sort],
    ['order', q.order],
    ['limit', q.limit],
    ['offset', q.offset],
  ];
  for (const [k, v] of entries) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

export class BridgeClient {
  /** The Site URL's path ('' at the root of the host). */
  readonly basePath: string;
  /** Where the bridge's API starts, e.g. /chat/plugins/egress-advisor/api/v1. */
  readonly apiRoot: string;
  private readonly fetchImpl: Fetch;

  constructor(opts: BridgeClientOptions = {}) {
    this.basePath = basePathOf(opts.siteUrl);
    this.apiRoot = this.basePath + API_BASE_PATH;
    // Looked up on every call so that a replaced window.fetch (tests, other plugins' wrappers) is used.
    this.fetchImpl = opts.fetch ?? ((input, init) => window.fetch(input, init));
  }

  url(path: string): string {
    return `${this.apiRoot}/${path}`;
  }

  private async call<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const {status, body} = await request(this.fetchImpl, this.url(path), opts);
    if (status >= 200 && status < 300) {
      // A 2xx that is not JSON is some other page (Mattermost's web app, say): the bridge always answers JSON.
      if (body === undefined)
        throw new BridgeError('not-routed', status, "The answer was not the Egress Advisor bridge's (no JSON): the path is not routed to the bridge.");
      return body as T;
    }
    throw failure(status, body, 'The server');
  }

  status(signal?: AbortSignal): Promise<StatusReport> {
    return this.call('status', {signal});
  }

  findings(query: FindingsQuery = {}, signal?: AbortSignal): Promise<FindingsPage> {
    return this.call(`findings${queryString(query)}`, {signal});
  }

  finding(key: string, signal?: AbortSignal): Promise<FindingDetail> {
    return this.call(`findings/${encodeURIComponent(key)}`, {signal});
  }

  revision(signal?: AbortSignal): Promise<FindingsRevision> {
    return this.call('findings/revision', {signal});
  }

  ignore(key: string, reason: string): Promise<FindingSummary> {
    return this.call(`findings/${encodeURIComponent(key)}/ignore`, {method: 'POST', body: {reason}});
  }

  unignore(key: string, reason?: string): Promise<FindingSummary> {
    return this.call(`findings/${encodeURIComponent(key)}/unignore`, {method: 'POST', body: reason ? {reason} : {}});
  }

  suggestions(req: SuggestionsRequest, signal?: AbortSignal): Promise<SuggestionsResponse> {
    return this.call('suggestions', {method: 'POST', body: req, signal});
  }

  integrations(signal?: AbortSignal): Promise<IntegrationsResponse> {
    return this.call('integrations', {signal});
  }

  /** "Test now": Mattermost runs its own connection test of one integration; answers when it is done. */
  testIntegration(kind: ConnectionTestKind): Promise<ConnectionTestResponse> {
    return this.call('integrations/test', {method: 'POST', body: {kind}});
  }

  /** "Rehearse REGISTRY_ONLY": under ALLOW_ANY, the connection tests run and the answer lists what hardening would break. */
  rehearse(): Promise<RehearsalResponse> {
    return this.call('integrations/rehearse', {method: 'POST', body: {}});
  }

  eventsUrl(): string {
    return this.url('events');
  }
}

/**
 * Clicks an interactive message button the way Mattermost's own post view does
 * (POST /api/v4/posts/{post_id}/actions/{action_id}); Mattermost then calls the bridge with the
 * button's hidden context and updates the post or sends an ephemeral reply.
 */
export async function doPostAction(basePath: string, postId: string, actionId: string, cookie?: string, fetchImpl?: Fetch): Promise<void> {
  const f: Fetch = fetchImpl ?? ((input, init) => window.fetch(input, init));
  const body: Record<string, string> = {selected_option: ''};
  if (cookie) body.cookie = cookie;
  const url = `${basePath}/api/v4/posts/${encodeURIComponent(postId)}/actions/${encodeURIComponent(actionId)}`;
  const {status, body: answer} = await request(f, url, {method: 'POST', body});
  if (status < 200 || status >= 300) {
    throw new BridgeError('http', status, mattermostMessage(answer) ?? `Mattermost answered HTTP ${status} to the button.`);
  }
}
