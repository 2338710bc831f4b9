/*
 * Authenticating message-button callbacks and slash-command requests.
 *
 * Mattermost posts a button's `context` back to the bridge without any credential of its own, so
 * the context carries an HMAC-SHA256 over its other fields. The fields are JSON values that make a
 * round trip through Mattermost's Go server (decoded into map[string]interface{} and encoded again),
 * so only strings and arrays of strings are signed: numbers could come back in another spelling.
 * The expiry is a field like any other, so it is signed too.
 */
import {createHmac, timingSafeEqual} from 'node:crypto';

/** A button stays usable for this long; an older post's buttons answer "expired". */
export const CONTEXT_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Shorter keys are a configuration mistake, not something to run with. */
export const MIN_KEY_BYTES = 32;

export const EXPIRY_FIELD = 'exp';
export const SIGNATURE_FIELD = 'sig';

/** Bounds on what verification reads, so a hostile body cannot make it do much work. */
const MAX_FIELDS = 16;
const MAX_VALUE_CHARS = 1024;
const MAX_ARRAY_ITEMS = 200;
const MAX_CANONICAL_CHARS = 64 * 1024;

const FIELD_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const EXPIRY = /^[1-9][0-9]{0,11}$/;
/** base64url of 32 bytes, unpadded. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/** Separates these MACs from any other use of the same key. */
const DOMAIN = 'egress-advisor/button-context/v1\n';

export type ContextValue = string | readonly string[];
export type ContextFields = Readonly<Record<string, ContextValue>>;

export type VerifyFailure =
  | 'malformed' // not an object of string or string-array fields within the bounds
  | 'missing-signature'
  | 'missing-expiry'
  | 'bad-signature'
  | 'expired';

export type VerifyResult = {ok: true; fields: Record<string, ContextValue>} | {ok: false; reason: VerifyFailure};

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES) {
    throw new TypeError(`The button signing key must be at least ${MIN_KEY_BYTES} bytes.`);
  }
}

function isValue(v: unknown): v is ContextValue {
  if (typeof v === 'string') return v.length <= MAX_VALUE_CHARS;
  return Array.isArray(v) && v.length <= MAX_ARRAY_ITEMS && v.every((item) => typeof item === 'string' && item.length <= MAX_VALUE_CHARS);
}

/** Sorted [name, value] pairs as JSON: one spelling per set of fields, and no two sets share it. */
function canonical(fields: ContextFields): string {
  const names = Object.keys(fields).sort();
  return DOMAIN + JSON.stringify(names.map((n) => [n, fields[n]]));
}

function mac(key: Buffer, fields: ContextFields): string {
  return createHmac('sha256', key).update(canonical(fields), 'utf8').digest('base64url');
}

/** The expiry field's value for a context created at `now`. */
export function expiryFor(now: Date, ttlMs: number = CONTEXT_TTL_MS): string {
  return String(Math.floor((now.getTime() + ttlMs) / 1000));
}

/**
 * The signature over `fields`, which must hold the expiry (`exp`) and not the signature itself.
 * Throws on fields verification would refuse: signing them would only make buttons that never work.
 */
export function signContext(key: Buffer, fields: ContextFields): string {
  checkKey(key);
  if (SIGNATURE_FIELD in fields) throw new TypeError('The fields to sign must not hold a signature.');
  const exp = fields[EXPIRY_FIELD];
  if (typeof exp !== 'string' || !EXPIRY.test(exp)) throw new TypeError('The fields to sign need an expiry (exp).');
  const names = Object.keys(fields);
  if (names.length + 1 > MAX_FIELDS) throw new TypeError('Too many fields to sign.');
  for (const n of names) {
    if (!FIELD_NAME.test(n) || !isValue(fields[n])) throw new TypeError(`Field ${JSON.stringify(n)} cannot be signed.`);
  }
  if (canonical(fields).length > MAX_CANONICAL_CHARS) throw new TypeError('The fields to sign are too large.');
  return mac(key, fields);
}

/** `fields` with an expiry `ttlMs` after `now` and its signature: a complete button context. */
export function sealContext(key: Buffer, fields: ContextFields, now: Date, ttlMs: number = CONTEXT_TTL_MS): Record<string, ContextValue> {
  const withExpiry: Record<string, ContextValue> = {...fields, [EXPIRY_FIELD]: expiryFor(now, ttlMs)};
  return {...withExpiry, [SIGNATURE_FIELD]: signContext(key, withExpiry)};
}

/**
 * Checks a context as Mattermost posted it back. The signature is checked before the expiry, so
 * that nothing about an unauthenticated context (not even that it has expired) is reported.
 * Any field added, removed or changed, and any other signature, fails.
 */
export function verifyContext(key: Buffer, context: unknown, now: Date): VerifyResult {
  checkKey(key);
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return {ok: false, reason: 'malformed'};
  const proto: unknown = Object.getPrototypeOf(context);
  if (proto !== Object.prototype && proto !== null) return {ok: false, reason: 'malformed'};
  const record = context as Record<string, unknown>;
  const names = Object.keys(record);
  if (names.length > MAX_FIELDS) return {ok: false, reason: 'malformed'};
  const fields: Record<string, ContextValue> = {};
  for (const n of names) {
    const v = record[n];
    if (n === SIGNATURE_FIELD) continue;
    if (!FIELD_NAME.test(n) || !isValue(v)) return {ok: false, reason: 'malformed'};
    fields[n] = v;
  }
  const sig = record[SIGNATURE_FIELD];
  if (sig === undefined) return {ok: false, reason: 'missing-signature'};
  if (typeof sig !== 'string' || !SIGNATURE.test(sig)) return {ok: false, reason: 'malformed'};
  const exp = fields[EXPIRY_FIELD];
  if (exp === undefined) return {ok: false, reason: 'missing-expiry'};
  if (typeof exp !== 'string' || !EXPIRY.test(exp)) return {ok: false, reason: 'malformed'};
  if (canonical(fields).length > MAX_CANONICAL_CHARS) return {ok: false, reason: 'malformed'};

  // Both sides are 43 ASCII characters here, so comparing the text compares every bit of the MAC
  // (decoding first would let several spellings of the last character pass as one).
  const expected = Buffer.from(mac(key, fields), 'ascii');
  const got = Buffer.from(sig, 'ascii');
  if (!timingSafeEqual(expected, got)) return {ok: false, reason: 'bad-signature'};

  if (Number(exp) * 1000 <= now.getTime()) return {ok: false, reason: 'expired'};
  return {ok: true, fields};
}
