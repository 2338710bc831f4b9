/*
 * Live updates of the findings revision. Server-Sent Events from the bridge's `events` stream when
 * they work; when the stream fails (a proxy that refuses or buffers it, the bridge restarting, no
 * EventSource), polling `findings/revision`, with another try at the stream now and then. While
 * the stream is up, a slow poll still runs, for proxies that hold the events back.
 */
import {useEffect, useRef, useState} from 'react';

import {SSE_EVENT_FINDINGS_CHANGED, SSE_EVENT_REVISION, type FindingsChangedEvent} from '../../../../common/api';

export type LiveMode = 'connecting' | 'live' | 'polling' | 'stopped';

type EventSourceCtor = new (url: string, init?: EventSourceInit) => EventSource;

export interface LiveOptions {
  eventsUrl: string;
  /** Reads the current revision (GET findings/revision). */
  poll: () => Promise<number>;
  onRevision: (revision: number, keys: string[] | null) => void;
  onMode?: (mode: LiveMode) => void;
  onPollError?: (err: unknown) => void;
  /** Poll interval without the stream. */
  pollMs?: number;
  /** Poll interval while the stream is up (a safety net). */
  livePollMs?: number;
  /** After this many polls without the stream, try the stream again. */
  retryStreamAfter?: number;
  EventSource?: EventSourceCtor | null;
}

export const POLL_MS = 15_000;
export const LIVE_POLL_MS = 60_000;
export const RETRY_STREAM_AFTER = 8;

function parseEvent(data: unknown): FindingsChangedEvent | null {
  if (typeof data !== 'string') return null;
  try {
    const v = JSON.parse(data) as Partial<FindingsChangedEvent>;
    if (typeof v.revision !== 'number') return null;
    return {revision: v.revision, keys: Array.isArray(v.keys) ? v.keys.filter((k): k is string => typeof k === 'string') : null};
  } catch {
    return null;
  }
}

export class LiveRevision {
  private readonly opts: Required<Omit<LiveOptions, 'onMode' | 'onPollError' | 'EventSource'>> & LiveOptions;
  private readonly ES: EventSourceCtor | null;
  private stream: EventSource | null = null;
  private timer: number | null = null;
  private pollsWithoutStream = 0;
  private stopped = true;
  mode: LiveMode = 'stopped';

  constructor(opts: LiveOptions) {
    this.opts = {pollMs: POLL_MS, livePollMs: LIVE_POLL_MS, retryStreamAfter: RETRY_STREAM_AFTER, ...opts};
    const fromWindow = typeof window !== 'undefined' ? (window as unknown as {EventSource?: EventSourceCtor}).EventSource : undefined;
    this.ES = opts.EventSource !== undefined ? opts.EventSource : (fromWindow ?? null);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.ES) this.openStream();
    else this.setMode('polling');
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.closeStream();
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    this.setMode('stopped');
  }

  private setMode(mode: LiveMode): void {
    if (this.mode === mode) return;
    this.mode = mode;
    this.opts.onMode?.(mode);
  }

  private openStream(): void {
    if (!this.ES) return;
    this.setMode('connecting');
    let es: EventSource;
    try {
      es = new this.ES(this.opts.eventsUrl, {withCredentials: true});
    } catch {
      this.setMode('polling');
      return;
    }
    this.stream = es;
    const onEvent = (ev: Event) => {
      if (this.stopped || this.stream !== es) return;
      const parsed = parseEvent((ev as MessageEvent).data);
      if (parsed === null) return;
      this.setMode('live');
      this.opts.onRevision(parsed.revision, ev.type === SSE_EVENT_REVISION ? null : parsed.keys);
    };
    es.addEventListener(SSE_EVENT_REVISION, onEvent);
    es.addEventListener(SSE_EVENT_FINDINGS_CHANGED, onEvent);
    es.onopen = () => {
      if (!this.stopped && this.stream === es) this.setMode('live');
    };
    es.onerror = () => {
      if (this.stopped || this.stream !== es) return;
      // The browser would retry on its own, but a refused stream (404, 502, a wrong content type)
      // never recovers that way: poll instead, and try the stream again later.
      this.closeStream();
      this.pollsWithoutStream = 0;
      this.setMode('polling');
      this.schedule();
    };
  }

  private closeStream(): void {
    if (this.stream !== null) {
      this.stream.onopen = null;
      this.stream.onerror = null;
      this.stream.close();
      this.stream = null;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer !== null) window.clearTimeout(this.timer);
    const ms = this.stream !== null ? this.opts.livePollMs : this.opts.pollMs;
    this.timer = window.setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    if (this.stream === null && this.ES && ++this.pollsWithoutStream >= this.opts.retryStreamAfter) {
      this.pollsWithoutStream = 0;
      this.openStream();
    }
    // A hidden tab does not need fresh numbers; the next visible tick catches up.
    if (typeof document === 'undefined' || !document.hidden) {
      try {
        const revision = await this.opts.poll();
        if (!this.stopped) this.opts.onRevision(revision, null);
      } catch (err) {
        if (!this.stopped) this.opts.onPollError?.(err);
      }
    }
    this.schedule();
  }
}

export interface LiveHandlers {
  poll: () => Promise<number>;
  onRevision: (revision: number, keys: string[] | null) => void;
  onPollError?: (err: unknown) => void;
}

/**
 * Runs a LiveRevision while mounted and `enabled`; the handlers may change between renders
 * without restarting it. Returns the current mode.
 */
export function useLiveRevision(enabled: boolean, eventsUrl: string, handlers: LiveHandlers): LiveMode {
  const [mode, setMode] = useState<LiveMode>('stopped');
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    if (!enabled) return undefined;
    let active = true;
    const live = new LiveRevision({
      eventsUrl,
      poll: () => latest.current.poll(),
      onRevision: (r, keys) => latest.current.onRevision(r, keys),
      onPollError: (err) => latest.current.onPollError?.(err),
      onMode: (m) => {
        if (active) setMode(m);
      },
    });
    live.start();
    return () => {
      active = false;
      live.stop();
    };
  }, [enabled, eventsUrl]);

  return enabled ? mode : 'stopped';
}
