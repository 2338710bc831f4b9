// GET events: findings changes as Server-Sent Events. The stream outlives any single request hook, so it
// takes the socket over (hijack) and keeps its own bookkeeping: a heartbeat comment that stops proxies
// from closing it, and an end on shutdown so the server can close. The plugin in front re-checks the
// admin's permission while the stream is open and ends it when it is gone (server/plugin/proxy.go).
import type {FastifyReply, FastifyRequest} from 'fastify';

import {SSE_EVENT_FINDINGS_CHANGED, SSE_EVENT_REVISION, type FindingsChangedEvent} from '../../common/api';
import {HttpError} from './errors';
import type {RevisionTracker} from './revision';

/** Slow readers get this much buffered before the stream is dropped (the client reconnects or polls). */
const MAX_BUFFERED_BYTES = 256 * 1024;
const RECONNECT_MS = 5_000;

export interface EventStreamOptions {
  tracker: RevisionTracker;
  heartbeatMs: number;
  maxStreams: number;
  onCountChange: (open: number) => void;
}

export class EventStreams {
  private readonly open = new Set<() => void>();

  constructor(private readonly opts: EventStreamOptions) {}

  get count(): number {
    return this.open.size;
  }

  /** Ends every stream, e.g. before the server closes. */
  closeAll(): void {
    for (const end of [...this.open]) end();
  }

  handle(request: FastifyRequest, reply: FastifyReply): void {
    if (this.open.size >= this.opts.maxStreams) {
      throw new HttpError(503, 'too_many_streams', 'The bridge has too many open event streams; poll GET findings/revision instead.', {
        headers: {'retry-after': '30'},
      });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      // nginx buffers proxied answers unless told not to.
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });

    const write = (chunk: string): void => {
      if (res.writableEnded || res.destroyed) return;
      if (!res.write(chunk) && res.writableLength > MAX_BUFFERED_BYTES) end();
    };
    const send = (event: string, data: FindingsChangedEvent | {revision: number}): void => {
      // JSON.stringify never emits a raw newline, so one data line carries the whole event.
      write(`id: ${data.revision}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };

    const unsubscribe = this.opts.tracker.subscribe((event) => send(SSE_EVENT_FINDINGS_CHANGED, event));
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), this.opts.heartbeatMs);
    heartbeat.unref();

    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.open.delete(end);
      this.opts.onCountChange(this.open.size);
      if (!res.writableEnded) res.end();
      request.log.debug('event stream closed');
    };
    this.open.add(end);
    this.opts.onCountChange(this.open.size);
    res.on('close', end);
    res.on('error', end);

    write(`retry: ${RECONNECT_MS}\n\n`);
    send(SSE_EVENT_REVISION, {revision: this.opts.tracker.revision});
    request.log.debug('event stream opened');
  }
}
