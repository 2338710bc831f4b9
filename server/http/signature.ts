/*
 * The one way in: every call reaches the bridge through the Mattermost plugin's server half
 * (server/plugin), which Mattermost has already authenticated and which checked manage_system. The plugin
 * signs each call with a secret only the two of them know (the bridge makes it and writes it into the
 * plugin's settings, see server/mattermost/plugin-settings.ts); this module checks that signature.
 *
 * Signed: method, request target (path and query as sent), the Mattermost user id and username, the time,
 * and the SHA-256 of the body. A call that is unsigned, signed with another secret, altered, or older (or
 * newer) than the window is refused with 401. server/plugin/signature.go is the other half.
 */
import {createHash, createHmac, timingSafeEqual} from 'node:crypto';

import type {FastifyInstance, FastifyRequest} from 'fastify';

import {HttpError} from './errors';

export const HEADER_USER = 'x-egress-advisor-user';
export const HEADER_USERNAME = 'x-egress-advisor-username';
export const HEADER_TIMESTAMP = 'x-egress-advisor-timestamp';
export const HEADER_SIGNATURE = 'x-egress-advisor-signature';

const DOMAIN = 'egress-advisor/plugin-call/v1';

/** How far a call's time may be from the bridge's clock. Short: a captured call is useless soon after. */
export const DEFAULT_SIGNATURE_WINDOW_MS = 30_000;

const SIGNATURE_SHAPE = /^[0-9a-f]{64}$/;
const TIMESTAMP_SHAPE = /^[0-9]{1,12}$/;
/** Mattermost user ids are 26 characters; usernames at most 64. Empty for calls no user made. */
const USER_SHAPE = /^[A-Za-z0-9]{0,64}$/;
const USERNAME_SHAPE = /^[A-Za-z0-9._-]{0,64}$/;

/** Who made a verified call; userId '' for the plugin's own calls (its settings). */
export interface Caller {
  userId: string;
  username: string;
}

export interface SignedCall {
  method: string;
  /** Path and query exactly as on the request line. */
  target: string;
  userId: string;
  username: string;
  unixSeconds: number;
  body: Buffer;
}

export function canonicalCall(c: SignedCall): string {
  const digest = createHash('sha256').update(c.body).digest('hex');
  return [DOMAIN, c.method, c.target, c.userId, c.username, String(c.unixSeconds), digest].join('\n');
}

export function signCall(secret: string, c: SignedCall): string {
  return createHmac('sha256', secret).update(canonicalCall(c), 'utf8').digest('hex');
}

/** The three headers to send with a call; what the plugin does, for tests and benchmarks of the bridge alone. */
export function signatureHeaders(secret: string, c: Omit<SignedCall, 'unixSeconds'> & {unixSeconds?: number}): Record<string, string> {
  const unixSeconds = c.unixSeconds ?? Math.floor(Date.now() / 1000);
  return {
    [HEADER_USER]: c.userId,
    [HEADER_USERNAME]: c.username,
    [HEADER_TIMESTAMP]: String(unixSeconds),
    [HEADER_SIGNATURE]: signCall(secret, {...c, unixSeconds}),
  };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' ? v : undefined;
}

const refused = (why: string): HttpError =>
  new HttpError(401, 'signature_invalid', `The bridge answers only the Egress Advisor plugin inside Mattermost: ${why}.`);

export interface VerifyOptions {
  secret: () => string;
  windowMs?: number;
  clock?: () => number;
  onVerified?: () => void;
}

/** The caller of a correctly signed, fresh call; throws the 401 otherwise. */
export function verifyCall(request: FastifyRequest, body: Buffer, opts: VerifyOptions): Caller {
  const signature = header(request, HEADER_SIGNATURE);
  const timestamp = header(request, HEADER_TIMESTAMP);
  const userId = header(request, HEADER_USER) ?? '';
  const username = header(request, HEADER_USERNAME) ?? '';
  if (signature === undefined || timestamp === undefined) throw refused('the call is not signed');
  if (!SIGNATURE_SHAPE.test(signature) || !TIMESTAMP_SHAPE.test(timestamp) || !USER_SHAPE.test(userId) || !USERNAME_SHAPE.test(username)) {
    throw refused('the signature headers are malformed');
  }
  const unixSeconds = Number(timestamp);
  const now = (opts.clock ?? Date.now)();
  if (Math.abs(now - unixSeconds * 1000) > (opts.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS)) {
    throw refused('the signature is outside its time window (a replayed call, or the clocks of Mattermost and the bridge differ)');
  }
  const expected = signCall(opts.secret(), {method: request.method, target: request.url, userId, username, unixSeconds, body});
  if (!timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature, 'hex'))) {
    throw refused('the signature does not match (the plugin holds another secret: restart the bridge so that it writes its own again)');
  }
  return {userId, username};
}

const callers = new WeakMap<FastifyRequest, Caller>();
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/** The caller of a request in a signed scope; throws on a route without the hook. */
export function callerOf(request: FastifyRequest): Caller {
  const caller = callers.get(request);
  if (!caller) throw new Error(`no verified caller on ${request.method} ${request.routeOptions.url}`);
  return caller;
}

/**
 * Makes a fastify scope accept only signed calls: JSON bodies are kept as bytes for the signature, then
 * parsed; the check runs before validation, so an unsigned call learns nothing about the API's shapes.
 * `requireUser` refuses signed calls that carry no user (everything but the plugin's settings push).
 */
export function requireSignature(app: FastifyInstance, opts: VerifyOptions & {requireUser: boolean}): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', {parseAs: 'buffer'}, (request, body: Buffer, done) => {
    rawBodies.set(request, body);
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString('utf8')) as unknown);
    } catch {
      const err = new Error('The body is not valid JSON.') as Error & {statusCode: number; code: string};
      err.statusCode = 400;
      err.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
      done(err, undefined);
    }
  });
  // Thrown, not sent: the scope's error handler answers (and counts) it like any other refusal.
  app.addHook('preValidation', async (request: FastifyRequest) => {
    try {
      const caller = verifyCall(request, rawBodies.get(request) ?? Buffer.alloc(0), opts);
      if (opts.requireUser && caller.userId === '') throw refused('the call names no Mattermost user');
      callers.set(request, caller);
      opts.onVerified?.();
    } catch (err) {
      if (err instanceof HttpError) request.log.warn({reason: err.message}, 'refused an unsigned or badly signed call');
      throw err;
    }
  });
}
