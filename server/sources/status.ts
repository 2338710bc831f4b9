// Status bookkeeping shared by every source, so that the status page reads the same fields whatever the
// source, and a notice always reaches both the status and the sink.
import type {NoticeCode, SourceBatch, SourceKind, SourceNotice, SourceSink, SourceState, SourceStatus, StreamInfo, StreamStatus} from './types';

const KEPT_NOTICES = 20;

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export class SourceTracker {
  state: SourceState = 'stopped';
  private since = new Date().toISOString();
  private lastError: string | null = null;
  private lastErrorAt: string | null = null;
  private lastLineAt: string | null = null;
  private readonly notices: SourceNotice[] = [];
  private readonly streams = new Map<string, StreamStatus>();
  sink: SourceSink | null = null;

  constructor(
    readonly id: string,
    readonly kind: SourceKind,
  ) {}

  setState(state: SourceState, streamId?: string): void {
    if (streamId !== undefined) {
      const s = this.streams.get(streamId);
      if (s !== undefined) s.state = state;
    }
    if (state === this.state) return;
    this.state = state;
    this.since = new Date().toISOString();
  }

  stream(info: StreamInfo): StreamStatus {
    let s = this.streams.get(info.id);
    if (s === undefined) {
      s = {
        id: info.id,
        log: info.log,
        origin: info.origin,
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
      this.streams.set(info.id, s);
    }
    return s;
  }

  notice(streamId: string | null, code: NoticeCode, message: string): void {
    const n: SourceNotice = {at: new Date().toISOString(), sourceId: this.id, streamId, code, message};
    this.notices.push(n);
    if (this.notices.length > KEPT_NOTICES) this.notices.shift();
    try {
      this.sink?.notice?.(n);
    } catch {
      // A notice is advice; a failing listener must not stop the lines.
    }
  }

  error(streamId: string | null, err: unknown, context: string): void {
    const message = `${context}: ${errorMessage(err)}`;
    this.lastError = message;
    this.lastErrorAt = new Date().toISOString();
    this.setState('error', streamId ?? undefined);
    this.notice(streamId, 'error', message);
  }

  acknowledged(batch: SourceBatch): void {
    const s = this.stream(batch.stream);
    const now = new Date().toISOString();
    s.lines += batch.lines;
    s.cutLines += batch.cut.length;
    s.lastLineAt = now;
    s.position = batch.position;
    this.lastLineAt = now;
  }

  snapshot(): SourceStatus {
    const streams = [...this.streams.values()].map((s) => ({...s, detail: {...s.detail}}));
    return {
      id: this.id,
      kind: this.kind,
      state: this.state,
      since: this.since,
      lastLineAt: this.lastLineAt,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      bytes: streams.reduce((a, s) => a + s.bytes, 0),
      lines: streams.reduce((a, s) => a + s.lines, 0),
      streams,
      notices: this.notices.map((n) => ({...n})),
    };
  }
}
