// Follows one container's log through the API server (`kubectl logs -f --timestamps`), for as long as the
// pod exists: a connection that breaks or ends is opened again after a backoff, asking for the lines since
// the cursor's second and dropping the ones already delivered. Nothing is read while the sink holds a batch:
// the Writable the client pipes into accepts no further chunk until the batch settled, so the response is
// paused and TCP carries the pressure back to the API server.
import {Writable, type Readable} from 'node:stream';
import type {LogOptions} from '@kubernetes/client-node';
import {backoffDelayMs, type BackoffPolicy} from '../../store/backoff';
import {LineFramer} from '../frame';
import type {LogKind, NoticeCode, SourceBatch, SourceState, StreamInfo, StreamStatus} from '../types';
import {Waker} from '../wake';
import {describeError} from './library';
import {keepNew} from './lines';
import type {LogRequester} from './log-request';
import {decodeCursor, encodeCursor, freshCursor, ResumeFilter, sinceTimeOf, type Cursor} from './resume';
import type {ContainerView} from './pods';

/** What a container log needs from the source that owns it. */
export interface LogHost {
  readonly sourceId: string;
  readonly log: LogRequester;
  readonly maxLineBytes: number;
  readonly idleTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  /** Hands the batch to the sink; false when the source is stopping and nothing was delivered. */
  deliver(batch: SourceBatch): Promise<boolean>;
  notice(streamId: string, code: NoticeCode, message: string): void;
  /** The sink rejected a batch: the whole source stops. */
  sinkFailed(err: unknown): void;
}

export interface ContainerLogInit {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  log: LogKind;
  /** Only for a stream without a position: read from the start of the log, or only what comes next. */
  startAt: 'beginning' | 'end';
}

class SinkRejected extends Error {}

/**
 * After the pod shows a new run of the container, the connection to the previous run's log is given this long
 * without data before it is ended and the log asked for again (which the kubelet answers from the new run). A
 * kubelet ends that connection itself once it notices the container stopped, but only at its next check, and
 * a simulated one (kwok) never does; the previous run's last lines are in flight before the silence.
 */
const RESTART_QUIET_MS = 1_000;

type End = {kind: 'end'} | {kind: 'broken'; reason: string} | {kind: 'refused'; err: unknown};

export class ContainerLog {
  readonly info: StreamInfo;
  readonly status: StreamStatus;
  private readonly framer: LineFramer;
  private readonly waker = new Waker();
  private cursor: Cursor;
  private acked: string | null = null;
  private readonly uid: string;
  private readonly startAt: 'beginning' | 'end';
  private view: ContainerView = {started: false, state: 'unknown', restarts: 0};
  private tailOnly = false;
  private released = false;
  private loop: Promise<void> | null = null;
  private controller: AbortController | null = null;
  private inflight: Promise<void> | null = null;
  /** Gives up the current attempt at once, even one whose request has not been answered yet. */
  private endAttempt: ((reason: string) => void) | null = null;
  /** Starts the current attempt's silence timer again (it is shorter once the container restarted). */
  private rearmIdle: (() => void) | null = null;
  /** The container restarted since the current connection was opened: that connection reads an earlier run. */
  private restarted = false;
  private filter: ResumeFilter | null = null;
  private failuresInARow = 0;
  private connectedOnce = false;
  private lastEnd: End | null = null;

  constructor(
    private readonly host: LogHost,
    init: ContainerLogInit,
  ) {
    const origin = `${init.namespace}/${init.pod}/${init.container}`;
    this.info = {id: `k8s:${origin}`, log: init.log, origin, namespace: init.namespace, pod: init.pod, container: init.container};
    this.status = {
      id: this.info.id,
      log: init.log,
      origin,
      state: 'starting',
      bytes: 0,
      lines: 0,
      cutLines: 0,
      lastLineAt: null,
      position: null,
      rotations: 0,
      truncations: 0,
      detail: {},
    };
    this.framer = new LineFramer(host.maxLineBytes);
    this.uid = init.uid;
    this.startAt = init.startAt;
    this.cursor = freshCursor(init.uid);
    this.updateDetail(null);
  }

  get id(): string {
    return this.info.id;
  }

  /** The pod object changed: the container may have started, restarted or stopped. */
  update(view: ContainerView): void {
    const wasStarted = this.view.started;
    const restarted = wasStarted && view.restarts > this.view.restarts;
    this.view = view;
    if (restarted) {
      this.restarted = true;
      this.rearmIdle?.();
    }
    if (view.started !== wasStarted || view.state === 'running') this.waker.wake();
    this.updateDetail(null);
  }

  /**
   * Begins following from the position last committed for this stream id (this run's or the store's), or
   * from nothing. Called once the previous holder of the same id (a pod of the same name) has let go.
   */
  start(position: string | null): void {
    if (this.loop !== null || this.released) return;
    this.acked = position;
    this.status.position = position;
    this.cursor = this.cursorFrom(position);
    this.tailOnly = position === null && this.startAt === 'end';
    this.loop = this.run();
  }

  /**
   * Closes the connection and ends the loop; an outstanding batch is waited for, not abandoned. With
   * podGone, a last line that never got its newline (the log ended mid-line) is delivered as it is.
   */
  async release(podGone = false): Promise<void> {
    this.released = true;
    this.controller?.abort();
    this.endAttempt?.('the stream was released');
    this.waker.wake();
    await this.loop;
    if (podGone) await this.flushPartial();
    this.setState(podGone ? 'ended' : 'stopped');
    this.status.detail.pendingBytes = 0;
  }

  // ---- the follow loop -----------------------------------------------------------------------------

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.released) {
      if (!this.view.started) {
        this.setState('waiting');
        await this.waker.wait();
        continue;
      }
      const before = this.cursor.total;
      const end = await this.followOnce();
      this.lastEnd = end;
      if (this.released) break;
      const progressed = this.cursor.total > before;
      attempt = progressed ? 1 : attempt + 1;
      this.report(end, progressed);
      if (end.kind === 'end' && this.view.state !== 'running') {
        // The container stopped and its log was read to the end: wait for it to run again (or the pod to go).
        this.setState('waiting');
        await this.waker.wait(this.host.backoff.maxMs);
        continue;
      }
      await this.waker.wait(backoffDelayMs(attempt, Math.random(), this.host.backoff));
    }
  }

  private async followOnce(): Promise<End> {
    const options: LogOptions = {follow: true, timestamps: true};
    const since = sinceTimeOf(this.cursor);
    if (since !== null) options.sinceTime = since;
    else if (this.tailOnly) options.sinceSeconds = 1;
    // Whatever was read but not acknowledged is read again: the partial line comes back whole.
    this.framer.reset();
    this.filter = this.cursor.count > 0 ? new ResumeFilter({...this.cursor}) : null;
    // A request that answers only after this attempt was given up must not feed the next one.
    const conn = {live: true, sawEnd: false};
    let resolveEnd: (end: End) => void = () => undefined;
    const ended = new Promise<End>((r) => {
      resolveEnd = (e) => {
        conn.live = false;
        r(e);
      };
    });
    this.endAttempt = (reason) => resolveEnd({kind: 'broken', reason});
    let idle: NodeJS.Timeout | null = null;
    // A connection opened from here on is answered from the container's current run.
    this.restarted = false;
    const armIdle = (): void => {
      if (idle !== null) clearTimeout(idle);
      // A connection that stays silent may be dead without anyone closing it (a restarted API server, a NAT
      // entry that expired): asking again costs one request and reads no line twice.
      const ms = this.restarted ? RESTART_QUIET_MS : this.host.idleTimeoutMs;
      const reason = this.restarted ? 'the container restarted' : `no data for ${Math.round(ms / 1000)} s`;
      idle = setTimeout(() => resolveEnd({kind: 'broken', reason}), ms);
    };
    this.rearmIdle = armIdle;
    const dest = new Writable({
      highWaterMark: 0,
      write: (chunk: Buffer, _encoding, callback) => {
        if (!conn.live) return callback();
        armIdle();
        const work = this.onChunk(chunk);
        this.inflight = work.catch(() => undefined);
        work.then(
          () => callback(),
          (err: unknown) => {
            resolveEnd({kind: 'broken', reason: 'the sink rejected a batch'});
            if (err instanceof SinkRejected) this.host.sinkFailed(err.cause);
            callback();
          },
        );
      },
    });
    dest.on('pipe', (src: Readable) => {
      // The client pipes the response into dest but tells dest nothing when the connection breaks; the
      // response itself does.
      src.once('end', () => {
        conn.sawEnd = true;
      });
      src.once('error', (err: Error) => resolveEnd({kind: 'broken', reason: err.message}));
      src.once('close', () => {
        if (!conn.sawEnd) resolveEnd({kind: 'broken', reason: 'the connection closed'});
      });
    });
    dest.on('finish', () => resolveEnd({kind: 'end'}));
    armIdle();
    const controller = new AbortController();
    this.controller = controller;
    this.host.log.log(this.info.namespace ?? '', this.info.pod ?? '', this.info.container ?? '', dest, options, controller.signal).then(
      () => {
        if (!conn.live || this.released) controller.abort();
        else this.connected(since);
      },
      (err: unknown) => resolveEnd({kind: 'refused', err}),
    );
    const end = await ended;
    this.endAttempt = null;
    this.rearmIdle = null;
    if (idle !== null) clearTimeout(idle);
    controller.abort();
    if (this.controller === controller) this.controller = null;
    // Reconnecting before the outstanding batch settled would read its lines again.
    await this.inflight;
    this.inflight = null;
    return end;
  }

  private async onChunk(chunk: Buffer): Promise<void> {
    this.status.bytes += chunk.length;
    const framed = this.framer.push(chunk);
    if (framed.lines === 0 || this.released) return;
    const next: Cursor = {...this.cursor};
    const kept = keepNew(framed, next, this.filter);
    if (kept.lines === 0) return;
    await this.deliver(kept.data, kept.lines, kept.cut, false, next);
  }

  private async deliver(data: Buffer, lines: number, cut: number[], unterminated: boolean, next: Cursor): Promise<void> {
    const position = encodeCursor(next);
    const batch: SourceBatch = {sourceId: this.host.sourceId, stream: this.info, data, lines, cut, unterminated, from: this.acked, position};
    let delivered: boolean;
    try {
      delivered = await this.host.deliver(batch);
    } catch (err) {
      throw new SinkRejected('the sink rejected a batch', {cause: err});
    }
    if (!delivered) return;
    this.acked = position;
    this.cursor = next;
    this.status.lines += lines;
    this.status.cutLines += cut.length;
    this.status.lastLineAt = new Date().toISOString();
    this.status.position = position;
  }

  // ---- reporting -------------------------------------------------------------------------------------

  private connected(since: string | null): void {
    this.setState('following');
    this.updateDetail(since);
    if (this.failuresInARow > 0) {
      this.host.notice(
        this.id,
        'resumed',
        `${this.info.origin}: reading again${since === null ? ' from the start of the log' : ` from ${since}`} after ${this.failuresInARow} failed attempt(s)`,
      );
    } else if (!this.connectedOnce) {
      const from =
        since !== null ? `resuming at ${since} (${this.cursor.count} line(s) from then on already read)` : this.tailOnly ? 'from its end' : 'from its start';
      this.host.notice(this.id, since !== null ? 'resumed' : 'opened', `following ${this.info.origin} ${from}`);
    }
    this.connectedOnce = true;
    this.tailOnly = false;
    this.failuresInARow = 0;
  }

  private report(end: End, progressed: boolean): void {
    if (end.kind === 'refused') {
      this.failuresInARow += 1;
      this.setState('error');
      this.status.detail.lastError = describeError(end.err);
      // One notice per run of failures: a pod that is gone for good would otherwise fill the notices.
      if (this.failuresInARow === 1) this.host.notice(this.id, 'error', `${this.info.origin}: cannot read the log: ${describeError(end.err)}`);
      return;
    }
    if (end.kind === 'broken') {
      this.status.detail.lastError = end.reason;
      this.status.detail.reconnects = Number(this.status.detail.reconnects ?? 0) + 1;
      this.setState('starting');
    } else if (!progressed) {
      this.setState('waiting');
    }
  }

  private setState(state: SourceState): void {
    if (this.status.state === 'ended' || this.status.state === 'stopped') return;
    this.status.state = state;
  }

  private updateDetail(since: string | null): void {
    const d = this.status.detail;
    d.namespace = this.info.namespace ?? null;
    d.pod = this.info.pod ?? null;
    d.container = this.info.container ?? null;
    d.uid = this.uid;
    d.containerState = this.view.state;
    d.pendingBytes = this.framer.pendingBytes;
    if (since !== null) d.sinceTime = since;
    d.reconnects ??= 0;
    d.lastError ??= null;
  }

  /** Lines from a stored position count only for the pod instance that wrote them. */
  private cursorFrom(position: string | null): Cursor {
    if (position === null) return freshCursor(this.uid);
    const c = decodeCursor(position);
    if (c === null) {
      this.host.notice(this.id, 'resume-invalid', `${this.info.origin}: the stored position is not a Kubernetes log position; reading the log from its start`);
      return freshCursor(this.uid);
    }
    if (c.uid !== this.uid) {
      // Same pod name, new pod (a StatefulSet, or a restored name): its log is new from the first line.
      return {...freshCursor(this.uid), total: c.total};
    }
    return c;
  }

  private async flushPartial(): Promise<void> {
    if (this.lastEnd?.kind !== 'end' || this.framer.pendingBytes === 0) return;
    const next: Cursor = {...this.cursor};
    const kept = keepNew(this.framer.flush(), next, this.filter);
    if (kept.lines === 0) return;
    try {
      await this.deliver(kept.data, kept.lines, kept.cut, true, next);
    } catch (err) {
      this.host.sinkFailed(err instanceof SinkRejected ? err.cause : err);
    }
  }
}
