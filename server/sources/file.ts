// Follows a log file that is being appended to, the way `tail -F` does, but with resume points: it reads
// one chunk at a time and only after the sink committed the previous batch, survives rotation (rename and
// create, the kubelet's rename and reopen), truncation (copytruncate) and a file that does not exist yet.
//
// File-system notifications (fs.watch on the directory) make it react at once where they work; polling
// every pollMs is the safety net where they do not (NFS, some overlay and FUSE mounts, an exhausted
// inotify limit) and also catches what a notification cannot say, such as a truncation.
import {watch, type FSWatcher} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {DEFAULT_MAX_LINE_BYTES} from '../engine/lines';
import {findRenamed, headMatches, identityOfHandle, identityOfPath, lineAlignedEnd, openFile, forgetHead, readAt, verifyHead, type OpenFile} from './fileio';
import {LineFramer, type Framed} from './frame';
import {decodeFilePosition, encodeFilePosition, type FilePosition} from './position';
import {SourceTracker} from './status';
import type {LogKind, LogSource, ResumePoints, SourceSink, SourceStatus, StreamInfo} from './types';
import {Waker} from './wake';

export interface FileSourceOptions {
  /** Defaults to "file:" and the absolute path; it is also the stream id the resume point is kept under. */
  id?: string;
  /** Which log the file holds. Default 'proxy'. */
  kind?: LogKind;
  /** Poll interval, the safety net under fs.watch. Default 1000. */
  pollMs?: number;
  /** Longer lines are cut (the batch marks them). Default the engine's 1 MiB. */
  maxLineBytes?: number;
  /** Where a first start (no resume point) begins. Default 'beginning': old blocked lines matter too. */
  startAt?: 'beginning' | 'end';
  /** Bytes read per step: together with maxLineBytes the bound on what the source holds. Default 64 KiB. */
  chunkBytes?: number;
  /**
   * After the path starts naming a new file, the old one is still read for this long: a writer may go on
   * appending to it until it reopens (logrotate's postrotate signal, the kubelet's reopen call). Default 1000.
   */
  rotateGraceMs?: number;
  /** Use fs.watch as well as polling. Default true. */
  watch?: boolean;
}

const DEFAULT_CHUNK = 64 * 1024;
const MAX_ERROR_BACKOFF_MS = 30_000;

/** The sink's own failure: final for this run, unlike a read error, which is retried. */
class SinkFailure extends Error {
  constructor(readonly reason: unknown) {
    super('the sink rejected a batch');
  }
}

export class FileSource implements LogSource {
  readonly id: string;
  readonly kind = 'file' as const;
  readonly resumable = true;
  readonly path: string;
  private readonly log: LogKind;
  private readonly pollMs: number;
  private readonly chunkBytes: number;
  private readonly graceMs: number;
  private readonly useWatch: boolean;
  private readonly startAt: 'beginning' | 'end';
  private readonly info: StreamInfo;
  private readonly tracker: SourceTracker;
  private readonly framer: LineFramer;
  private readonly waker = new Waker();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly watchComplained = new Set<string>();
  private current: OpenFile | null = null;
  /** The position the sink last acknowledged (or the stream resumed from): the next batch's `from`. */
  private acked: string | null = null;
  private loop: Promise<void> | null = null;
  private running = false;
  private stopping = false;
  /** The stored position still has to be applied (the first attempt failed, e.g. EACCES). */
  private needsBegin = false;
  private errorsInARow = 0;

  constructor(path: string, opts: FileSourceOptions = {}) {
    this.path = resolve(path);
    this.id = opts.id ?? `file:${this.path}`;
    this.log = opts.kind ?? 'proxy';
    this.pollMs = positive(opts.pollMs, 1000, 'pollMs');
    this.chunkBytes = positive(opts.chunkBytes, DEFAULT_CHUNK, 'chunkBytes');
    this.graceMs = opts.rotateGraceMs === undefined ? 1000 : Math.max(0, opts.rotateGraceMs);
    this.useWatch = opts.watch ?? true;
    this.startAt = opts.startAt ?? 'beginning';
    this.framer = new LineFramer(positive(opts.maxLineBytes, DEFAULT_MAX_LINE_BYTES, 'maxLineBytes'));
    this.info = {id: this.id, log: this.log, origin: this.path};
    this.tracker = new SourceTracker(this.id, 'file');
    this.tracker.stream(this.info).state = 'stopped';
    this.updateDetail();
  }

  async start(sink: SourceSink, resume?: ResumePoints | null): Promise<void> {
    if (this.running) throw new Error(`source ${this.id} is already running`);
    this.running = true;
    this.tracker.sink = sink;
    this.stopping = false;
    this.errorsInARow = 0;
    this.tracker.setState('starting', this.id);
    // Restarting this instance without a stored point continues from what the sink last acknowledged.
    const stored = resume?.get(this.id) ?? this.acked;
    this.acked = stored;
    this.needsBegin = true;
    try {
      await this.begin(stored);
      this.needsBegin = false;
    } catch (err) {
      this.tracker.error(this.id, err, `opening ${this.path}`);
    }
    this.ensureWatch();
    this.loop = this.run().finally(async () => {
      // stop() during start(): nothing else will close what begin() opened.
      if (this.stopping) {
        await this.release();
        this.tracker.setState('stopped', this.id);
      }
      this.running = false;
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.waker.wake();
    await this.loop;
    this.loop = null;
    this.running = false;
    await this.release();
    this.tracker.setState('stopped', this.id);
    this.updateDetail();
  }

  status(): SourceStatus {
    this.updateDetail();
    return this.tracker.snapshot();
  }

  // ---- starting ------------------------------------------------------------------------------------

  private async begin(stored: string | null): Promise<void> {
    await this.closeCurrent();
    this.framer.reset();
    if (stored === null) return this.beginFresh();
    const p = decodeFilePosition(stored);
    if (p === null) {
      this.tracker.notice(this.id, 'resume-invalid', `the stored position is not a file position; starting at the ${this.startAt}`);
      return this.beginFresh();
    }
    return this.resumeAt(p);
  }

  private async beginFresh(): Promise<void> {
    const f = await openFile(this.path);
    if (f === null) return this.enterWaiting();
    if (this.startAt === 'end') {
      const {size} = await identityOfHandle(f.fh);
      const end = await lineAlignedEnd(f.fh, size, this.chunkBytes);
      f.offset = end.offset;
      this.framer.reset(end.skip);
    }
    await this.adopt(f, 'opened', `following ${this.path} from ${this.startAt === 'end' ? `byte ${f.offset}` : 'its start'}`);
  }

  private async resumeAt(p: FilePosition): Promise<void> {
    const opened: OpenFile[] = [];
    try {
      await this.resumeWith(p, opened);
    } catch (err) {
      for (const f of opened) if (f !== this.current) await f.fh.close().catch(() => undefined);
      throw err;
    }
  }

  private async resumeWith(p: FilePosition, opened: OpenFile[]): Promise<void> {
    const f = await openFile(this.path);
    if (f !== null) opened.push(f);
    if (f !== null && f.ino === p.ino && (f.dev === p.dev || (p.headLen > 0 && (await headMatches(f.fh, p.headLen, p.head))))) {
      const {size} = await identityOfHandle(f.fh);
      if (size >= p.offset && (await headMatches(f.fh, p.headLen, p.head))) {
        f.offset = p.offset;
        this.framer.reset(p.skip);
        return this.adopt(f, 'resumed', `continuing ${this.path} at byte ${p.offset}`);
      }
      this.stream().truncations += 1;
      return this.adopt(
        f,
        'resume-truncated',
        `${this.path} was truncated or rewritten while stopped (now ${size} bytes, resume point ${p.offset}); reading it again from its start`,
      );
    }
    const renamed = await findRenamed(this.siblingsOf(f), p.dev, p.ino);
    const old = renamed === null ? null : await openFile(renamed);
    if (old !== null) opened.push(old);
    if (old !== null && old.ino === p.ino && (await identityOfHandle(old.fh)).size >= p.offset && (await headMatches(old.fh, p.headLen, p.head))) {
      await f?.fh.close();
      old.offset = p.offset;
      this.framer.reset(p.skip);
      this.stream().rotations += 1;
      return this.adopt(
        old,
        'resume-rotated',
        `${this.path} was rotated while stopped; finishing ${old.name} from byte ${p.offset}, then the new file from its start`,
      );
    }
    await old?.fh.close();
    this.stream().rotations += 1;
    const lost = 'the file it was reading is gone, so lines appended to it after the resume point are lost';
    if (f === null) {
      this.tracker.notice(this.id, 'resume-rotated', `${this.path} was rotated while stopped and no new file exists yet; ${lost}`);
      return this.enterWaiting();
    }
    return this.adopt(f, 'resume-rotated', `${this.path} was rotated while stopped; reading the new file from its start (${lost})`);
  }

  /** Where a renamed file may be: beside the path, and beside the file a symlinked path pointed to. */
  private siblingsOf(f: OpenFile | null): string[] {
    return f === null || f.realName === this.path ? [this.path] : [this.path, f.realName];
  }

  private async adopt(f: OpenFile, code: 'opened' | 'resumed' | 'resume-rotated' | 'resume-truncated', message: string): Promise<void> {
    // The file was checked against the stored head (or is read from 0), so what it starts with now is its head.
    await verifyHead(f);
    this.current = f;
    this.tracker.setState('following', this.id);
    this.tracker.notice(this.id, code, message);
    this.ensureWatch();
  }

  private enterWaiting(): void {
    if (this.tracker.state !== 'waiting') {
      this.tracker.setState('waiting', this.id);
      this.tracker.notice(this.id, 'waiting', `${this.path} does not exist; waiting for it`);
    }
  }

  // ---- following -----------------------------------------------------------------------------------

  private async run(): Promise<void> {
    while (!this.stopping) {
      let progressed: boolean;
      try {
        progressed = await this.step();
        this.errorsInARow = 0;
        if (!this.stopping) this.tracker.setState(this.current === null ? 'waiting' : 'following', this.id);
      } catch (err) {
        if (this.stopping) break;
        if (err instanceof SinkFailure) {
          this.tracker.error(this.id, err.reason, 'the sink failed; stopped until restarted from the stored resume point');
          await this.release();
          break;
        }
        this.errorsInARow += 1;
        this.tracker.error(this.id, err, `reading ${this.current?.name ?? this.path}`);
        await this.waker.wait(Math.min(MAX_ERROR_BACKOFF_MS, this.pollMs * 2 ** Math.min(this.errorsInARow - 1, 10)));
        continue;
      }
      if (!progressed && !this.stopping) await this.waker.wait(this.nextWaitMs());
    }
  }

  private nextWaitMs(): number {
    const since = this.current?.supersededAt;
    if (since === null || since === undefined) return this.pollMs;
    return Math.max(1, Math.min(this.pollMs, since + this.graceMs - Date.now()));
  }

  /** One read or one decision; true when there may be more to do at once. */
  private async step(): Promise<boolean> {
    if (this.needsBegin) {
      // Retried as a whole: opening the path as if new would read a file again that was half committed.
      await this.begin(this.acked);
      this.needsBegin = false;
      return true;
    }
    const f = this.current;
    if (f === null) return this.tryOpen();
    const chunk = await readAt(f.fh, this.chunkBytes, f.offset);
    if (chunk.length === 0) return this.atEnd(f);
    this.stream().bytes += chunk.length;
    // Checked after the read, so that a rewrite that happened before it is always seen: the chunk may
    // then be the middle of the new content and is dropped.
    if (!(await verifyHead(f))) {
      this.restartTruncated(f, (await identityOfHandle(f.fh)).size);
      return true;
    }
    f.offset += chunk.length;
    await this.deliver(this.framer.push(chunk), f);
    return true;
  }

  private async tryOpen(): Promise<boolean> {
    this.ensureWatch();
    const f = await openFile(this.path);
    if (f === null) {
      this.enterWaiting();
      return false;
    }
    this.framer.reset();
    // A file that appears after the start, or after a rotation, is new: all of it is read.
    await this.adopt(f, 'opened', `following ${this.path} from its start`);
    return true;
  }

  private async atEnd(f: OpenFile): Promise<boolean> {
    const now = await identityOfHandle(f.fh);
    if (now.size < f.offset || !(await verifyHead(f))) {
      this.restartTruncated(f, now.size);
      return true;
    }
    // Written between the read and the stat.
    if (now.size > f.offset) return true;
    const there = await identityOfPath(this.path);
    const replaced = there !== null && (there.ino !== f.ino || there.dev !== f.dev);
    const deleted = there === null && now.nlink === 0;
    if (!replaced && !deleted) {
      // Renamed away with nothing new at the path yet: the writer may still be using it.
      f.supersededAt = null;
      return false;
    }
    if (f.supersededAt === null) f.supersededAt = Date.now();
    if (Date.now() - f.supersededAt < this.graceMs) return false;
    await this.deliver(this.framer.flush(), f);
    this.current = null;
    await f.fh.close();
    if (replaced) {
      this.stream().rotations += 1;
      this.tracker.notice(
        this.id,
        'rotated',
        `${this.path} was rotated; ${f.name === this.path ? 'the old file' : f.name} was read to its end (${f.offset} bytes)`,
      );
    } else {
      this.tracker.notice(this.id, 'deleted', `${this.path} was deleted after it was read to its end (${f.offset} bytes)`);
    }
    return true;
  }

  private restartTruncated(f: OpenFile, size: number): void {
    const at = f.offset;
    f.offset = 0;
    forgetHead(f);
    f.supersededAt = null;
    this.framer.reset();
    this.stream().truncations += 1;
    this.tracker.notice(
      this.id,
      'truncated',
      `${this.path} shrank from ${at} to ${size} bytes or was rewritten in place (copytruncate); reading it again from its start`,
    );
  }

  private async deliver(framed: Framed, f: OpenFile): Promise<void> {
    const sink = this.tracker.sink;
    // After stop() nothing is delivered; the next start reads again from the acknowledged position.
    if (framed.lines === 0 || this.stopping || sink === null) return;
    const position = encodeFilePosition({
      dev: f.dev,
      ino: f.ino,
      offset: f.offset - this.framer.pendingBytes,
      skip: this.framer.skipping,
      headLen: f.headBytes.length,
      head: f.head,
    });
    const batch = {
      sourceId: this.id,
      stream: this.info,
      data: framed.data,
      lines: framed.lines,
      cut: framed.cut,
      unterminated: framed.unterminated,
      from: this.acked,
      position,
    };
    try {
      await sink.batch(batch);
    } catch (err) {
      throw new SinkFailure(err);
    }
    this.acked = position;
    this.tracker.acknowledged(batch);
  }

  // ---- notifications and cleanup ---------------------------------------------------------------------

  private ensureWatch(): void {
    if (!this.useWatch || this.stopping) return;
    const dirs = new Set([dirname(this.path)]);
    if (this.current !== null) dirs.add(dirname(this.current.realName));
    for (const dir of dirs) {
      if (this.watchers.has(dir)) continue;
      try {
        // Any event in the directory may concern the file (append, rename, create, truncate): the loop
        // finds out which by looking, so the event itself is only a wake-up.
        const w = watch(dir, {persistent: false}, () => this.waker.wake());
        w.on('error', (err) => {
          w.close();
          this.watchers.delete(dir);
          this.complainWatch(dir, err);
        });
        this.watchers.set(dir, w);
        this.watchComplained.delete(dir);
      } catch (err) {
        this.complainWatch(dir, err);
      }
    }
  }

  private complainWatch(dir: string, err: unknown): void {
    if (this.watchComplained.has(dir)) return;
    this.watchComplained.add(dir);
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    this.tracker.notice(this.id, 'watch-unavailable', `cannot watch ${dir} (${why}); polling every ${this.pollMs} ms`);
  }

  private async release(): Promise<void> {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.closeCurrent();
  }

  private async closeCurrent(): Promise<void> {
    const f = this.current;
    this.current = null;
    if (f !== null) await f.fh.close().catch(() => undefined);
  }

  private stream(): ReturnType<SourceTracker['stream']> {
    return this.tracker.stream(this.info);
  }

  private updateDetail(): void {
    const f = this.current;
    this.stream().detail = {
      path: this.path,
      reading: f?.name ?? null,
      inode: f?.ino ?? null,
      offset: f?.offset ?? null,
      pendingBytes: this.framer.pendingBytes,
      watching: this.watchers.size > 0,
    };
  }
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number`);
  return Math.floor(v);
}
