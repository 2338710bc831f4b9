// The real SessionVerifier: asks Mattermost who the token belongs to (GET /api/v4/users/me, the call the
// webapp itself makes). Plain fetch rather than Client4: the answer must be classified precisely (a 401
// means "log in again", a 502 from an ingress means "try later"), and a token must never follow a redirect.
import type {SessionIdentity, SessionVerifier} from './types';

export const DEFAULT_SESSION_TIMEOUT_MS = 5_000;

export interface MattermostSessionOptions {
  /** Mattermost as the bridge reaches it, e.g. `http://mattermost.mattermost.svc.cluster.local:8065`. */
  url: string;
  timeoutMs?: number;
  /** Replaceable for tests. */
  fetch?: typeof fetch;
  /** Why a check came back 'unreachable' or 'invalid', for the log; never carries the token. */
  onProblem?: (message: string) => void;
}

interface MeBody {
  id?: unknown;
  username?: unknown;
  roles?: unknown;
  delete_at?: unknown;
}

/** Mattermost's own error bodies carry an id such as "api.context.session_expired.app_error". */
function isMattermostError(body: unknown): boolean {
  return typeof body === 'object' && body !== null && typeof (body as {id?: unknown}).id === 'string';
}

function baseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new TypeError(`The Mattermost URL ${JSON.stringify(raw)} is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('The Mattermost URL must be http(s).');
  if (url.username || url.password) throw new TypeError('The Mattermost URL must not carry a user or password.');
  return url.toString().replace(/\/+$/, '');
}

/** fetch's TypeError says only "fetch failed"; the code or message of its cause says why. */
function causeOf(err: unknown): string {
  const cause = (err as {cause?: {code?: unknown; message?: unknown}} | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string' && cause.message) return cause.message;
  return err instanceof Error ? err.message : 'unknown error';
}

async function readJson(res: Response): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    return undefined;
  }
}

export function createMattermostSessionVerifier(opts: MattermostSessionOptions): SessionVerifier {
  const endpoint = `${baseUrl(opts.url)}/api/v4/users/me`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const doFetch = opts.fetch ?? fetch;
  const problem = (message: string): void => opts.onProblem?.(message);

  return async (token: string): Promise<SessionIdentity | 'invalid' | 'unreachable'> => {
    let res: Response;
    try {
      res = await doFetch(endpoint, {
        method: 'GET',
        headers: {authorization: `Bearer ${token}`, accept: 'application/json', 'x-requested-with': 'XMLHttpRequest'},
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const name = (err as {name?: unknown} | null)?.name;
      problem(
        name === 'TimeoutError' || name === 'AbortError'
          ? `GET /api/v4/users/me: no answer within ${timeoutMs} ms`
          : `GET /api/v4/users/me: connection failed (${causeOf(err)})`,
      );
      return 'unreachable';
    }

    const body = await readJson(res);
    if (res.status === 200) {
      const me = body as MeBody | undefined;
      if (!me || typeof me.id !== 'string' || typeof me.username !== 'string' || typeof me.roles !== 'string') {
        problem('GET /api/v4/users/me answered 200 without a Mattermost user; is the URL that of Mattermost?');
        return 'unreachable';
      }
      if (typeof me.delete_at === 'number' && me.delete_at > 0) return 'invalid';
      return {userId: me.id, username: me.username, roles: me.roles.split(/\s+/).filter(Boolean)};
    }
    // Only Mattermost's own refusal says something about the token; a proxy's 401/403 page does not.
    if ((res.status === 401 || res.status === 403) && isMattermostError(body)) return 'invalid';
    problem(`GET /api/v4/users/me answered HTTP ${res.status}${isMattermostError(body) ? '' : ' (not from Mattermost)'}`);
    return 'unreachable';
  };
}
