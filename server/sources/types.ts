// The contract between log sources and the bridge. A source turns some live log (a file being appended to,
// stdin, later the Kubernetes log API) into batches of whole lines, each batch carrying the resume point
// that is valid once the bridge has committed what it derived from those lines. The bridge stores that
// point in the same transaction, so a crash replays a batch at most once and never skips one.

export type SourceKind = 'file' | 'stdin' | 'kubernetes';

/** Which log a stream is: the istio-proxy access log, or Mattermost's own server log. */
export type LogKind = 'proxy' | 'app';

/**
 * starting: start() was called and the first open has not happened yet. following: reading.
 * waiting: the file does not exist (yet). error: the last attempt failed; a file source keeps retrying,
 * a sink failure is final (the bridge restarts the source from its stored resume point).
 * ended: the input ended (stdin EOF). stopped: never started, or stop() returned.
 */
export type SourceState = 'starting' | 'following' | 'waiting' | 'error' | 'ended' | 'stopped';

/** One log inside a source. File and stdin sources have exactly one; a Kubernetes source one per container. */
export interface StreamInfo {
  /**
   * Unique across all sources, stable across restarts: the key the bridge stores this stream's resume
   * point under (the store calls it sourceId). For single-stream sources it equals the source id.
   */
  id: string;
  log: LogKind;
  /** For people: a path, "stdin", "namespace/pod/container". */
  origin: string;
  namespace?: string;
  pod?: string;
  container?: string;
}

export interface SourceBatch {
  sourceId: string;
  stream: StreamInfo;
  /**
   * Whole lines, every one ending in "\n", bytes exactly as read (never decoded, so hostile bytes cannot
   * throw here): push it into the engine's LineReader or Scan as it is. The buffer is the batch's own;
   * the source never writes to it again.
   */
  data: Buffer;
  /** Lines in data. Never 0: a batch always moves the stream forward by at least one line. */
  lines: number;
  /**
   * 0-based indices (within this batch) of lines that were longer than maxLineBytes: data holds their
   * first maxLineBytes bytes and a "\n"; the rest of the line was skipped.
   */
  cut: number[];
  /**
   * The last line had no newline of its own (the file was rotated away or deleted, stdin ended); data
   * still ends in "\n", added by the source.
   */
  unterminated: boolean;
  /**
   * The position this batch was read from: the previous batch's position, or the resume point the
   * stream started from, or null for a stream that started fresh. Pass it to the store as `from`.
   */
  from: string | null;
  /**
   * Opaque to everything outside the source: where the stream resumes once this batch is committed.
   * Valid only after the lines in data; store it in the same transaction as what they produced.
   */
  position: string;
}

export type NoticeCode =
  | 'opened' // a file was opened (first time, or after it appeared)
  | 'waiting' // the file does not exist; polling for it
  | 'rotated' // the path names a new file: the old one was read to its end first
  | 'truncated' // the file shrank or was rewritten (copytruncate): reading restarts at 0
  | 'deleted' // the file was removed and no new one has appeared
  | 'resumed' // continued exactly at the stored resume point
  | 'resume-rotated' // the file was rotated while the source was stopped
  | 'resume-truncated' // the file was truncated or replaced in place while the source was stopped
  | 'resume-invalid' // the stored resume point could not be used
  | 'watch-unavailable' // file-system notifications failed; polling alone keeps the source going
  | 'error'
  | 'ended';

/** Something an operator should know about; never line content. */
export interface SourceNotice {
  at: string;
  sourceId: string;
  streamId: string | null;
  code: NoticeCode;
  message: string;
}

export interface SourceSink {
  /**
   * Commit the batch. The source reads no further in this stream until the promise settles (that is the
   * backpressure), and at most one batch per stream is outstanding; batches of different streams of one
   * source may overlap. A rejection stops the source in state 'error' without moving its position.
   */
  batch(batch: SourceBatch): Promise<void>;
  /** Rotation, truncation, waiting, errors: for the bridge's log and status page. Must not throw. */
  notice?(notice: SourceNotice): void;
}

/**
 * The committed positions a source may resume from, keyed by stream id (what the store's
 * listResumePoints returns, as sourceId → position). A stream missing from it starts fresh.
 */
export type ResumePoints = ReadonlyMap<string, string>;

export interface StreamStatus {
  id: string;
  log: LogKind;
  origin: string;
  state: SourceState;
  /** Bytes read from this stream (including bytes read again after a truncation or restart). */
  bytes: number;
  /** Lines delivered and acknowledged by the sink. */
  lines: number;
  cutLines: number;
  /** When the sink last acknowledged a batch of this stream (ISO-8601), not the time inside the log. */
  lastLineAt: string | null;
  /** The last position the sink acknowledged (or resumed from). */
  position: string | null;
  rotations: number;
  truncations: number;
  /** Kind-specific facts for the status page, e.g. inode and offset of a file. */
  detail: Record<string, string | number | boolean | null>;
}

export interface SourceStatus {
  id: string;
  kind: SourceKind;
  state: SourceState;
  /** When the source entered its current state. */
  since: string;
  lastLineAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  bytes: number;
  lines: number;
  streams: StreamStatus[];
  /** The most recent notices, oldest first. */
  notices: SourceNotice[];
}

export interface LogSource {
  readonly id: string;
  readonly kind: SourceKind;
  /** False when the input cannot be re-read (stdin): positions are informational and resume is ignored. */
  readonly resumable: boolean;
  /**
   * Resolves once the source is running (its resume points applied, the first open tried); lines then
   * flow to the sink until stop(), the end of the input or a sink failure. Rejects if already running.
   */
  start(sink: SourceSink, resume?: ResumePoints | null): Promise<void>;
  /** Resolves when no batch is outstanding and every handle is closed; the sink is not called again. */
  stop(): Promise<void>;
  status(): SourceStatus;
}
