// Lines piped in (`kubectl logs -f … | egress-advisor-bridge --stdin`). A pipe cannot be rewound, so
// positions are only a byte count for the status page and a stored resume point is ignored. The stream is
// read in paused mode, one chunk per committed batch, so a slow sink leaves the rest in the pipe, where the
// writer feels the backpressure.
import type {Readable} from 'node:stream';
import {DEFAULT_MAX_LINE_BYTES} from '../engine/lines';
import {LineFramer, type Framed} from './frame';
import {encodeStdinPosition} from './position';
import {SourceTracker} from './status';
import type {LogKind, LogSource, ResumePoints, SourceSink, SourceStatus, StreamInfo} from './types';
import {Waker} from './wake';

export interface StdinSourceOptions {
  /** Default "stdin"; also the stream id. */
  id?: string;
  kind?: LogKind;
  maxLineBytes?: number;
}

export class StdinSource implements LogSource {
  readonly id: string;
  readonly kind = 'stdin' as const;
  readonly resumable = false;
  private readonly input: Readable;
  private readonly info: StreamInfo;
  private readonly tracker: SourceTracker;
  private readonly framer: LineFramer;
  private readonly waker = new Waker();
  private loop: Promise<void> | null = null;
  private running = false;
  private stopping = false;
  private ended = false;
  private failure: Error | null = null;
  private consumed = 0;
  private readonly onReadable = (): void => this.waker.wake();
  private readonly onEnd = (): void => {
    this.ended = true;
    this.waker.wake();
  };
  private readonly onError = (err: Error): void => {
    this.failure = err;
    this.waker.wake();
  };

  constructor(input: Readable = process.stdin, opts: StdinSourceOptions = {}) {
    this.input = input;
    this.id = opts.id ?? 'stdin';
    this.info = {id: this.id, log: opts.kind ?? 'proxy', origin: 'stdin'};
    this.tracker = new SourceTracker(this.id, 'stdin');
    this.tracker.stream(this.info).state = 'stopped';
    this.framer = new LineFramer(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  }

  async start(sink: SourceSink, _resume?: ResumePoints | null): Promise<void> {
    if (this.running) throw new Error(`source ${this.id} is already running`);
    if (this.ended) throw new Error(`source ${this.id} has already ended`);
    this.running = true;
    this.tracker.sink = sink;
    this.stopping = false;
    this.input.on('readable', this.onReadable);
    this.input.on('end', this.onEnd);
    this.input.on('error', this.onError);
    this.tracker.setState('following', this.id);
    this.loop = this.run().finally(() => this.detach());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.waker.wake();
    await this.loop;
    this.loop = null;
    if (this.tracker.state !== 'ended') this.tracker.setState('stopped', this.id);
  }

  status(): SourceStatus {
    this.tracker.stream(this.info).detail = {pendingBytes: this.framer.pendingBytes, ended: this.ended};
    return this.tracker.snapshot();
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopping) {
        if (this.failure !== null) {
          this.tracker.error(this.id, this.failure, 'reading stdin');
          return;
        }
        const chunk = this.input.read() as Buffer | string | null;
        if (chunk !== null) {
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
          this.consumed += bytes.length;
          this.tracker.stream(this.info).bytes += bytes.length;
          await this.deliver(this.framer.push(bytes));
          continue;
        }
        if (this.ended || this.input.readableEnded) {
          await this.deliver(this.framer.flush());
          this.ended = true;
          this.tracker.setState('ended', this.id);
          this.tracker.notice(this.id, 'ended', `stdin ended after ${this.consumed} bytes`);
          return;
        }
        await this.waker.wait();
      }
    } catch (err) {
      if (!this.stopping) this.tracker.error(this.id, err, 'the sink failed; the rest of stdin is not read');
    }
  }

  private async deliver(framed: Framed): Promise<void> {
    const sink = this.tracker.sink;
    // Delivered even while stopping: what was taken from a pipe cannot be read again.
    if (framed.lines === 0 || sink === null) return;
    const batch = {
      sourceId: this.id,
      stream: this.info,
      data: framed.data,
      lines: framed.lines,
      cut: framed.cut,
      unterminated: framed.unterminated,
      // The store has nothing to compare a pipe's position with.
      from: null,
      position: encodeStdinPosition(this.consumed - this.framer.pendingBytes),
    };
    await sink.batch(batch);
    this.tracker.acknowledged(batch);
  }

  private detach(): void {
    this.input.off('readable', this.onReadable);
    this.input.off('end', this.onEnd);
    this.input.off('error', this.onError);
    this.running = false;
  }
}
