/*
 * Errors of calls to Mattermost, classified so that callers know whether waiting and retrying can
 * help, and scrubbed so that no credential reaches a log line, an HTTP answer or a post.
 */

/**
 * - `unreachable`: no answer, or an answer that says "not now" (connection refused/reset, DNS,
 *   timeout, 408/429, 5xx, a proxy's error page). Retrying later can help.
 * - `refused`: Mattermost answered and will not do it for this identity or with this configuration
 *   (401, 403, and 501, which Mattermost uses for features switched off in its settings). An
 *   administrator has to act; retrying the same call cannot help.
 * - `invalid`: Mattermost answered that the request itself is wrong or names something that does
 *   not exist (other 4xx), or the call could not even be made (bad URL).
 */
export type MattermostErrorKind = 'unreachable' | 'refused' | 'invalid';

export interface MattermostErrorInit {
  kind: MattermostErrorKind;
  operation: string;
  message: string;
  status?: number;
  errorId?: string;
  code?: string;
}

export class MattermostError extends Error {
  override readonly name = 'MattermostError';
  readonly kind: MattermostErrorKind;
  /** What the bridge was doing, e.g. `getMe`; never contains a credential. */
  readonly operation: string;
  /** HTTP status when Mattermost (or something in front of it) answered. */
  readonly status: number | undefined;
  /** Mattermost's error id (`api.context.session_expired.app_error`…), the stable part of its errors. */
  readonly errorId: string | undefined;
  /** Low-level cause code (`ECONNREFUSED`, `ETIMEDOUT`…) when there was no HTTP answer. */
  readonly code: string | undefined;

  constructor(init: MattermostErrorInit) {
    super(init.message);
    this.kind = init.kind;
    this.operation = init.operation;
    this.status = init.status;
    this.errorId = init.errorId;
    this.code = init.code;
  }

  get retryable(): boolean {
    return this.kind === 'unreachable';
  }
}

export function isMattermostError(err: unknown, kind?: MattermostErrorKind): err is MattermostError {
  return err instanceof MattermostError && (kind === undefined || err.kind === kind);
}

/** True when Mattermost answered 404: the thing asked for does not exist (or is hidden from us). */
export function isNotFound(err: unknown): boolean {
  return err instanceof MattermostError && err.status === 404;
}

const REDACTED = '[redacted]';

/**
 * Removes credentials from text that may end up in a log or in front of a user: the known secrets
 * (the bridge's own tokens) wherever they appear, and anything shaped like an Authorization header
 * value, a token query parameter or a Mattermost session cookie, whoever's it is.
 */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // Short strings would erase ordinary words; Mattermost tokens are 26 characters.
  for (const secret of secrets) {
    if (secret && secret.length >= 8) out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(/\b(Bearer|Token)(\s+)(?!\[redacted\])[A-Za-z0-9._~+/=-]{6,}/gi, `$1$2${REDACTED}`)
    .replace(/([?&;](?:access_token|token|t|csrf)=)[^&#\s"']+/gi, `$1${REDACTED}`)
    .replace(/\b(MMAUTHTOKEN|MMCSRF)=[^;\s"']+/g, `$1=${REDACTED}`)
    .replace(/(["']?(?:token|access_token|password)["']?\s*[:=]\s*["'])[^"']+(["'])/gi, `$1${REDACTED}$2`);
}

/** The fields of `ClientError` from @mattermost/client that classification reads. */
interface ClientErrorShape {
  message?: unknown;
  status_code?: unknown;
  server_error_id?: unknown;
  url?: unknown;
}

const RETRYABLE_NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export interface ClassifyContext {
  operation: string;
  /** Base URL of the server, stripped from URLs in messages. */
  baseUrl?: string;
  /** Credentials to scrub from every message. */
  secrets?: readonly string[];
  /** The timeout that applied, for the message of a timed-out call. */
  timeoutMs?: number;
}

export function kindForStatus(status: number): MattermostErrorKind {
  if (status === 401 || status === 403 || status === 501) return 'refused';
  if (status === 408 || status === 429 || status >= 500) return 'unreachable';
  return 'invalid';
}

/**
 * Turns whatever a call threw (a `ClientError` of @mattermost/client, a fetch `TypeError` with an
 * undici cause, an abort of our timeout) into a `MattermostError` with a scrubbed message.
 */
export function classifyError(err: unknown, ctx: ClassifyContext): MattermostError {
  if (err instanceof MattermostError) return err;
  const scrub = (s: string): string => scrubSecrets(s, ctx.secrets ?? []);
  const build = (init: Omit<MattermostErrorInit, 'operation' | 'message'> & {detail: string}): MattermostError =>
    new MattermostError({
      kind: init.kind,
      status: init.status,
      errorId: init.errorId,
      code: init.code,
      operation: ctx.operation,
      message: scrub(`Mattermost ${ctx.operation} failed (${init.kind}): ${init.detail}`),
    });

  const name = (err as {name?: unknown} | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    const after = ctx.timeoutMs ? ` after ${ctx.timeoutMs} ms` : '';
    return build({kind: 'unreachable', code: 'ETIMEDOUT', detail: `no answer${after}`});
  }

  if (isClientError(err)) {
    const status = typeof err.status_code === 'number' ? err.status_code : undefined;
    const errorId = typeof err.server_error_id === 'string' && err.server_error_id ? err.server_error_id : undefined;
    const message = typeof err.message === 'string' ? err.message : '';
    const where = typeof err.url === 'string' ? ` (${pathOf(err.url, ctx.baseUrl)})` : '';
    if (status === undefined && errorId === undefined) {
      // Client4 reads the status from Mattermost's JSON error body; an answer without one came from
      // something else in front of the server (an ingress, a mesh sidecar, a proxy) that is failing.
      const what = message ? `: ${message}` : '';
      return build({kind: 'unreachable', detail: `the answer was not a Mattermost API response${what}${where}`});
    }
    const kind = status === undefined ? 'invalid' : kindForStatus(status);
    const parts = [status === undefined ? 'HTTP ?' : `HTTP ${status}`];
    if (errorId) parts.push(errorId);
    const text = message ? `${parts.join(' ')}: ${message}` : parts.join(' ');
    return build({kind, status, errorId, detail: `${text}${where}`});
  }

  const code = netCode(err);
  if (code === 'ERR_INVALID_URL') {
    return build({kind: 'invalid', code, detail: 'the Mattermost URL is not a valid URL'});
  }
  if (code && (RETRYABLE_NET_CODES.has(code) || /^(ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(code))) {
    return build({kind: 'unreachable', code, detail: `${describeCode(code)} (${code})`});
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return build({kind: 'unreachable', code, detail: `connection failed${code ? ` (${code})` : ''}`});
  }
  const message = err instanceof Error ? err.message : String(err);
  return build({kind: 'invalid', code, detail: message || 'unknown error'});
}

function isClientError(err: unknown): err is Error & ClientErrorShape {
  if (!(err instanceof Error)) return false;
  // Matched by shape rather than class: two copies of @mattermost/client may be installed.
  return 'server_error_id' in err && 'status_code' in err && 'url' in err;
}

function netCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as {code?: unknown}).code;
    if (typeof code === 'string' && code) return code;
    current = (current as {cause?: unknown}).cause;
  }
  return undefined;
}

function describeCode(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not resolved';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timed out';
    default:
      return code.startsWith('ERR_TLS') || /CERT|SIGNED|UNABLE_TO/.test(code) ? 'TLS handshake failed' : 'network error';
  }
}

/** The path of a request URL without the server's base and without the query string. */
function pathOf(url: string, baseUrl: string | undefined): string {
  let path = baseUrl && url.startsWith(baseUrl) ? url.slice(baseUrl.length) : url;
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  return path || '/';
}
