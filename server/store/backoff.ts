// Retry timing for outbox deliveries. Pure, so the schedule can be tested and shared by every store.

export interface BackoffPolicy {
  /** Delay before the second attempt. */
  baseMs: number;
  factor: number;
  /** No delay is ever longer, whatever the attempt count: Mattermost coming back is noticed within this. */
  maxMs: number;
  /** Spread as a fraction of the delay (0.2: ±20 %), so that many items failed together do not retry together. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {baseMs: 1_000, factor: 2, maxMs: 15 * 60_000, jitter: 0.2};

/**
 * Delay after the given failed attempt (1 for the first). `random` is a number in [0, 1), taken as a
 * parameter to keep this pure; 0.5 means no jitter.
 */
export function backoffDelayMs(attempt: number, random: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // Capping the exponent first keeps the arithmetic finite for absurd attempt counts.
  const maxExponent = Math.ceil(Math.log(policy.maxMs / policy.baseMs) / Math.log(policy.factor)) + 1;
  const raw = policy.baseMs * Math.pow(policy.factor, Math.min(n - 1, Math.max(0, maxExponent)));
  const capped = Math.min(policy.maxMs, raw);
  const r = Number.isFinite(random) ? Math.min(Math.max(random, 0), 1) : 0.5;
  const jittered = capped * (1 - policy.jitter + 2 * policy.jitter * r);
  return Math.round(Math.min(policy.maxMs, Math.max(0, jittered)));
}

export function nextAttemptAt(now: Date, attempt: number, random: number, policy: BackoffPolicy = DEFAULT_BACKOFF): Date {
  return new Date(now.getTime() + backoffDelayMs(attempt, random, policy));
}
