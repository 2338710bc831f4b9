// Where a container log stream resumes. The log API cannot seek to a byte: the only handle is sinceTime,
// and the API server keeps it to whole seconds on its way to the kubelet (kubernetes/kubernetes#77856,
// #92389), which then sends every line stamped at or after that second, in file order. So the cursor names a
// whole second S and counts the lines already delivered from S on, in the order they came; a resumed stream
// asks for sinceTime=S and drops that many lines first. Counting from a whole second keeps the result the
// same whether the server truncates sinceTime or not, and file order (not time order) keeps it exact when
// stdout and stderr lines carry slightly out-of-order stamps. The latest stamp seen from S on bounds the
// skipping: a line stamped later than anything delivered cannot have been delivered (the kubelet rotated the
// file in between, or the container restarted), so skipping stops there rather than leave a gap.
import {compareTime, formatSecond, formatTime, parseTime, type LogTime} from './timestamp';

export interface Cursor {
  /** The pod instance the lines came from; a new pod with the same name starts afresh. */
  uid: string | null;
  /** The whole second S (epoch seconds), or null before the first stamped line. */
  since: number | null;
  /** Lines delivered, in file order, whose stamp is S or later (or that had no stamp). */
  count: number;
  /** The latest stamp among those lines. */
  latest: LogTime | null;
  /** Every line ever delivered on this stream: only ever grows, so each batch moves the position. */
  total: number;
}

const TAG = 'k8s-log';
const VERSION = 1;

export function freshCursor(uid: string | null): Cursor {
  return {uid, since: null, count: 0, latest: null, total: 0};
}

/** The same cursor always gives the same string: the store compares positions as strings. */
export function encodeCursor(c: Cursor): string {
  return JSON.stringify({
    t: TAG,
    v: VERSION,
    uid: c.uid,
    since: c.since === null ? null : formatSecond(c.since),
    count: c.count,
    latest: c.latest === null ? null : formatTime(c.latest),
    total: c.total,
  });
}

export function decodeCursor(s: string): Cursor | null {
  let o: unknown;
  try {
    o = JSON.parse(s);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const r = o as Record<string, unknown>;
  if (r.t !== TAG || r.v !== VERSION) return null;
  const count = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!count(r.count) || !count(r.total) || r.count > r.total) return null;
  if (r.uid !== null && (typeof r.uid !== 'string' || r.uid.length > 128)) return null;
  const since = typeof r.since === 'string' ? parseTime(r.since) : null;
  const latest = typeof r.latest === 'string' ? parseTime(r.latest) : null;
  if ((r.since !== null && (since === null || since.nanos !== 0)) || (r.latest !== null && latest === null)) return null;
  if ((since === null) !== (latest === null)) return null;
  return {uid: r.uid, since: since?.sec ?? null, count: r.count, latest, total: r.total};
}

/** Moves the cursor past one delivered line. */
export function advance(c: Cursor, t: LogTime | null): void {
  c.total += 1;
  if (t === null) {
    // The kubelet stamps every line; should one lack it, it is counted where it stands in file order.
    c.count += 1;
    return;
  }
  if (c.since === null || t.sec > c.since) {
    c.since = t.sec;
    c.count = 1;
    c.latest = t;
    return;
  }
  if (t.sec === c.since) {
    c.count += 1;
    if (c.latest === null || compareTime(t, c.latest) > 0) c.latest = t;
  }
  // Earlier than S: a resumed request does not send it again, so it is not counted.
}

/** What to ask the log API for, to resume after the cursor. */
export function sinceTimeOf(c: Cursor): string | null {
  return c.since === null ? null : formatSecond(c.since);
}

/**
 * Drops, from a resumed stream, the lines the cursor says were delivered already. Once a line passes, every
 * later one does too.
 */
export class ResumeFilter {
  private skipped = 0;
  private passing: boolean;

  constructor(private readonly from: Readonly<Cursor>) {
    this.passing = from.count === 0;
  }

  get done(): boolean {
    return this.passing;
  }

  accept(t: LogTime | null): boolean {
    if (this.passing) return true;
    const c = this.from;
    if (c.since !== null && t !== null && t.sec < c.since) return false;
    if (this.skipped < c.count && (t === null || c.latest === null || compareTime(t, c.latest) <= 0)) {
      this.skipped += 1;
      return false;
    }
    this.passing = true;
    return true;
  }
}
