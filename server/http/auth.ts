/*
 * Who may use the webapp API (DESIGN.md, "Webapp → bridge: same origin"): a Mattermost user with the
 * system_admin role, proven by their Mattermost session token, which Mattermost itself checks.
 *
 * Where the token comes from decides whether CSRF applies:
 * - `Authorization: Bearer <token>` (scripts, tests, a webapp Client4 holding a token) wins when present.
 *   No CSRF check: a browser never attaches this header to a cross-site request by itself, and setting it
 *   from another origin needs a CORS preflight this bridge never approves.
 * - the `MMAUTHTOKEN` cookie, which the browser attaches to every same-origin request, including ones a
 *   hostile page triggers. So every state-changing request (anything but GET/HEAD/OPTIONS) must carry
 *   `X-CSRF-Token` equal to the `MMCSRF` cookie: a page on another origin can make the browser send the
 *   cookies but can neither read MMCSRF nor set a custom header. This is the rule Mattermost applies to its
 *   own API and to plugin routes.
 */
import {createHash, timingSafeEqual} from 'node:crypto';

import type {FastifyReply, FastifyRequest} from 'fastify';

import {readCookie} from './cookies';
import {HttpError, sendError} from './errors';
import type {SessionChecker} from './session-cache';
import type {SessionIdentity} from './types';

export const SESSION_COOKIE = 'MMAUTHTOKEN';
export const CSRF_COOKIE = 'MMCSRF';
export const CSRF_HEADER = 'x-csrf-token';
export const ADMIN_ROLE = 'system_admin';

/** Mattermost tokens are 26 lowercase letters and digits; this leaves room without letting odd bytes through. */
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{1,512}$/;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type TokenSource = 'bearer' | 'cookie';

export interface Admin extends SessionIdentity {
  via: TokenSource;
}

const admins = new WeakMap<FastifyRequest, Admin>();

/** The administrator an authenticated request belongs to; throws on a route without the auth hook. */
export function adminOf(request: FastifyRequest): Admin {
  const admin = admins.get(request);
  if (!admin) throw new Error(`no authenticated administrator on ${request.method} ${request.routeOptions.url}`);
  return admin;
}

/** The session token of a request, and where it came from; null when there is none. */
export function sessionToken(request: FastifyRequest): {token: string; via: TokenSource} | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const m = /^bearer[ \t]+(.*)$/i.exec(header.trim());
    // Another scheme (an ingress's Basic auth, say) is not ours: fall through to the cookie, as Mattermost does.
    if (m) return {token: m[1].trim(), via: 'bearer'};
  }
  const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
  if (typeof cookie === 'string' && cookie !== '') return {token: cookie, via: 'cookie'};
  return null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Double-submit check; throws the 403 to answer. */
export function checkCsrf(request: FastifyRequest): void {
  const header = request.headers[CSRF_HEADER];
  const cookie = readCookie(request.headers.cookie, CSRF_COOKIE);
  if (typeof header !== 'string' || header === '') {
    throw new HttpError(
      403,
      'csrf_missing',
      'This change needs the X-CSRF-Token header set to the value of the MMCSRF cookie (Mattermost\'s Client4 adds it to every non-GET request).',
    );
  }
  if (typeof cookie !== 'string' || cookie === '') {
    throw new HttpError(403, 'csrf_missing', 'The MMCSRF cookie is missing; log in to Mattermost again and reload the page.');
  }
  // Digests first, so that the comparison takes the same time whatever the lengths.
  if (!timingSafeEqual(digest(header), digest(cookie))) {
    throw new HttpError(403, 'csrf_mismatch', 'The X-CSRF-Token header does not match the MMCSRF cookie; reload the page and try again.');
  }
}

/** Turns a verifier answer into the administrator, or the error to answer with. */
export function requireAdmin(answer: SessionIdentity | 'invalid' | 'unreachable', via: TokenSource): Admin {
  if (answer === 'unreachable') {
    throw new HttpError(
      503,
      'mattermost_unreachable',
      'The bridge could not reach Mattermost to check your session. Try again in a moment; if it persists, ' +
        'check that Mattermost is up and that the bridge\'s Mattermost URL is right (the bridge log says what failed).',
      {headers: {'retry-after': '5'}},
    );
  }
  if (answer === 'invalid') {
    throw new HttpError(401, 'session_invalid', 'Mattermost did not accept your session (it expired or was revoked). Log in again and reload the page.');
  }
  if (!answer.roles.includes(ADMIN_ROLE)) {
    throw new HttpError(
      403,
      'not_system_admin',
      `Egress Advisor is for system administrators: the Mattermost account @${answer.username} does not have the system_admin role.`,
    );
  }
  return {...answer, via};
}

/** Authenticates a request; resolves to the administrator or rejects with the HttpError to send. */
export async function authenticate(request: FastifyRequest, sessions: SessionChecker): Promise<Admin> {
  const found = sessionToken(request);
  if (found === null || found.token === '') {
    throw new HttpError(
      401,
      'unauthenticated',
      'Log in to Mattermost first: this API needs your Mattermost session (the MMAUTHTOKEN cookie, or an Authorization: Bearer token).',
    );
  }
  if (!TOKEN_SHAPE.test(found.token)) {
    throw new HttpError(401, 'session_invalid', 'The session token is not in a form Mattermost issues. Log in again.');
  }
  // Before asking Mattermost, so that a forged cross-site request costs nothing.
  if (found.via === 'cookie' && !SAFE_METHODS.has(request.method)) checkCsrf(request);
  return requireAdmin(await sessions.check(found.token), found.via);
}

/** The onRequest hook of the webapp API scope. */
export function authHook(sessions: SessionChecker) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    try {
      const admin = await authenticate(request, sessions);
      admins.set(request, admin);
      request.log.debug({userId: admin.userId, via: admin.via}, 'authenticated');
      return undefined;
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      if (err.statusCode === 503) request.log.warn('Mattermost unreachable while checking a session');
      return sendError(reply, err);
    }
  };
}
