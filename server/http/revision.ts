// The findings revision the webapp compares with what it shows. It is the HTTP layer's own number, not the
// store's: it moves on every "findings-changed" the bridge publishes. It starts at the clock and never goes
// below it, so a restarted bridge does not hand out a number a client already holds for other data (as
// long as the clock is sane). Clients compare for inequality, so two replicas with different numbers only
// cost a refetch.
import type {FindingsChangedEvent} from '../../common/api';
import {FINDINGS_CHANGED, type FindingsChangedPayload, type FindingsEvents} from './types';

/** More changed keys than this are reported as "any" (null): the webapp refetches the page anyway. */
export const MAX_EVENT_KEYS = 50;
const MAX_KEY_CHARS = 1100;

export type RevisionListener = (event: FindingsChangedEvent) => void;

export class RevisionTracker {
  private current: number;
  private readonly listeners = new Set<RevisionListener>();
  /** Keys changed since the last broadcast; null: unknown or too many; undefined: nothing pending. */
  private pending: Set<string> | null | undefined;
  private lastBroadcast = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly onEvent = (payload?: FindingsChangedPayload): void => this.bump(payload?.keys);

  constructor(
    private readonly events: FindingsEvents,
    private readonly coalesceMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.current = Math.floor(clock());
    events.on(FINDINGS_CHANGED, this.onEvent);
  }

  get revision(): number {
    return this.current;
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  subscribe(listener: RevisionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  bump(keys?: readonly string[]): void {
    this.current = Math.max(this.current + 1, Math.floor(this.clock()));
    this.remember(keys);
    if (this.timer) return;
    const wait = this.lastBroadcast + this.coalesceMs - this.clock();
    if (wait <= 0) {
      this.broadcast();
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.broadcast();
      }, wait);
      this.timer.unref();
    }
  }

  close(): void {
    this.events.off(FINDINGS_CHANGED, this.onEvent);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private remember(keys: readonly string[] | undefined): void {
    if (this.pending === null) return;
    const usable = Array.isArray(keys) && keys.every((k) => typeof k === 'string' && k.length <= MAX_KEY_CHARS);
    if (!usable) {
      this.pending = null;
      return;
    }
    this.pending ??= new Set();
    for (const key of keys) this.pending.add(key);
    if (this.pending.size > MAX_EVENT_KEYS) this.pending = null;
  }

  private broadcast(): void {
    const keys = this.pending ? [...this.pending] : null;
    this.pending = undefined;
    this.lastBroadcast = this.clock();
    const event: FindingsChangedEvent = {revision: this.current, keys};
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // One broken stream must not keep the others from hearing about the change.
      }
    }
  }
}
