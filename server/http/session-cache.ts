// Remembers Mattermost's answer about a session token for a short while, so that a page load (a dozen
// requests) costs one call to Mattermost, not twelve. Keys are SHA-256 digests: a heap dump or a debug
// print of the cache shows no token. The price of the cache: a revoked session or a removed admin role
// keeps working for up to the TTL.
import {createHash} from 'node:crypto';

import type {SessionIdentity, SessionVerifier} from './types';

export const DEFAULT_SESSION_TTL_MS = 30_000;
export const DEFAULT_SESSION_CACHE_SIZE = 1000;

/** What is worth remembering: 'unreachable' is not, it says nothing about the token. */
export type CachedAnswer = SessionIdentity | 'invalid';

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface SessionCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  clock?: () => number;
}

export class SessionCache {
  private readonly entries = new Map<string, {answer: CachedAnswer; expiresAt: number}>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;

  constructor(opts: SessionCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.maxEntries = Math.max(1, opts.maxEntries ?? DEFAULT_SESSION_CACHE_SIZE);
    this.clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get(digest: string): CachedAnswer | undefined {
    const entry = this.entries.get(digest);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.clock()) {
      this.entries.delete(digest);
      return undefined;
    }
    return entry.answer;
  }

  set(digest: string, answer: CachedAnswer): void {
    this.entries.delete(digest);
    if (this.entries.size >= this.maxEntries) this.evict();
    this.entries.set(digest, {answer, expiresAt: this.clock() + this.ttlMs});
  }

  clear(): void {
    this.entries.clear();
  }

  /** Expired entries first; when none, the oldest (a Map iterates in insertion order). */
  private evict(): void {
    const now = this.clock();
    for (const [digest, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(digest);
    }
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}

export type CheckOutcome = 'cached' | 'verified' | 'invalid' | 'unreachable';

/**
 * The verifier behind the cache, with concurrent checks of one token sharing one call to Mattermost.
 * `onCheck` reports how each check was answered (for metrics).
 */
export class SessionChecker {
  private readonly inFlight = new Map<string, Promise<SessionIdentity | 'invalid' | 'unreachable'>>();

  constructor(
    private readonly verify: SessionVerifier,
    readonly cache: SessionCache,
    private readonly onCheck: (outcome: CheckOutcome) => void = () => undefined,
  ) {}

  async check(token: string): Promise<SessionIdentity | 'invalid' | 'unreachable'> {
    const digest = tokenDigest(token);
    const cached = this.cache.get(digest);
    if (cached !== undefined) {
      this.onCheck('cached');
      return cached;
    }
    const pending = this.inFlight.get(digest);
    if (pending) return pending;
    const call = this.callVerifier(token, digest).finally(() => this.inFlight.delete(digest));
    this.inFlight.set(digest, call);
    return call;
  }

  private async callVerifier(token: string, digest: string): Promise<SessionIdentity | 'invalid' | 'unreachable'> {
    let answer: SessionIdentity | 'invalid' | 'unreachable';
    try {
      answer = await this.verify(token);
    } catch {
      // A verifier that throws has not learnt anything about the token either.
      answer = 'unreachable';
    }
    if (answer === 'unreachable') {
      this.onCheck('unreachable');
      return answer;
    }
    this.cache.set(digest, answer);
    this.onCheck(answer === 'invalid' ? 'invalid' : 'verified');
    return answer;
  }
}
