// What both outbox implementations check and bound before anything reaches their database, so SQLite and
// PostgreSQL refuse the same inputs with the same words.
import {StoreInputError} from './errors';
import type {ClaimOptions} from './types';

export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const MAX_ERROR_CHARS = 2_000;
const MAX_CLAIM = 1_000;
const DEFAULT_LEASE_MS = 60_000;
const KIND = /^[a-z][a-z0-9-]{0,63}$/;

export function requireKind(kind: unknown): void {
  if (typeof kind !== 'string' || !KIND.test(kind)) throw new StoreInputError('an outbox kind is lowercase letters, digits and "-"');
}

export function serialise(payload: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (e) {
    throw new StoreInputError(`the outbox payload is not JSON: ${(e as Error).message}`);
  }
  if (json === undefined) throw new StoreInputError('the outbox payload is not JSON');
  if (Buffer.byteLength(json, 'utf8') > MAX_PAYLOAD_BYTES) throw new StoreInputError(`the outbox payload is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  return json;
}

export function timeOf(name: string, d: Date): number {
  const t = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(t)) throw new StoreInputError(`${name} must be a valid Date`);
  return t;
}

/** How many items one claim may take: at least one, at most MAX_CLAIM, whatever the caller passed. */
export function claimLimit(limit: number): number {
  return Math.min(MAX_CLAIM, Math.max(1, Math.floor(Number.isFinite(limit) ? limit : 1)));
}

export function leaseMs(opts: ClaimOptions): number {
  return opts.leaseMs !== undefined && Number.isFinite(opts.leaseMs) && opts.leaseMs > 0 ? opts.leaseMs : DEFAULT_LEASE_MS;
}
