// Turns a byte stream into lines without ever holding more than one chunk and one bounded partial line.
// In "interesting only" mode it does not decode ordinary lines at all: it looks for the few byte strings
// that every blocked, passthrough or failed-egress record contains (in TEXT and JSON alike), which is what
// lets a scan keep pace with grep on a multi-gigabyte log.

/**
 * Every record whose verdict matters to a scan carries one of these: "Cluster" (BlackHoleCluster,
 * PassthroughCluster, AllowAnyDynamicDNSCluster), the block_all route, or the UF/UH connect-failure flags.
 * Few and short on purpose: each needle is one more pass over the bytes, and the search cost grows with how
 * often the needle's first bytes occur in ordinary traffic (measured on the bench log).
 */
export const INTERESTING_NEEDLES: readonly string[] = ['Cluster', 'k_all', 'UF', 'UH'];

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export interface LineReaderOptions {
  /** Only lines containing a needle reach the sink (lines are still counted). */
  interestingOnly?: boolean;
  /** Longer lines are cut: the sink gets the first bytes and `truncated` set. */
  maxLineBytes?: number;
}

/** lineNo is 1-based; in interesting-only mode it is still exact. */
export type LineSink = (line: string, lineNo: number, truncated: boolean) => void;

export class LineReader {
  /** Lines seen so far (a final line without a newline counts once end() is called). */
  lines = 0;
  bytes = 0;
  private carry: Buffer | null = null;
  private carryTruncated = false;
  private readonly needles: Buffer[];
  /** The needles as searched: one pass per first byte (see searchPlan). */
  private readonly plan: NeedleSearch[];
  private readonly maxLineBytes: number;
  interestingOnly: boolean;

  constructor(
    private readonly sink: LineSink,
    opts: LineReaderOptions = {},
  ) {
    this.interestingOnly = opts.interestingOnly ?? false;
    this.maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.needles = INTERESTING_NEEDLES.map((n) => Buffer.from(n, 'latin1'));
    this.plan = searchPlan(this.needles);
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let start = 0;
    if (this.carry !== null || this.carryTruncated) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.extendCarry(chunk);
        return;
      }
      this.extendCarry(chunk.subarray(0, nl));
      this.flushCarry();
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= start) {
      this.region(chunk, start, last + 1);
      start = last + 1;
    }
    if (start < chunk.length) this.extendCarry(chunk.subarray(start));
  }

  end(): void {
    if (this.carry !== null || this.carryTruncated) this.flushCarry();
  }

  private extendCarry(part: Buffer): void {
    if (this.carryTruncated) return;
    const have = this.carry?.length ?? 0;
    if (have + part.length > this.maxLineBytes) {
      const room = this.maxLineBytes - have;
      this.carry = Buffer.concat([this.carry ?? Buffer.alloc(0), part.subarray(0, room)]);
      this.carryTruncated = true;
      return;
    }
    // Copy: the caller may reuse the chunk's memory for its next read.
    this.carry = this.carry === null ? Buffer.from(part) : Buffer.concat([this.carry, part]);
  }

  private flushCarry(): void {
    const line = this.carry ?? Buffer.alloc(0);
    const truncated = this.carryTruncated;
    this.carry = null;
    this.carryTruncated = false;
    this.lines += 1;
    if (!this.interestingOnly || truncated || this.hasNeedle(line, 0, line.length)) {
      this.sink(line.toString('utf8'), this.lines, truncated);
    }
  }

  private hasNeedle(buf: Buffer, from: number, to: number): boolean {
    for (const n of this.needles) {
      const at = buf.indexOf(n, from);
      if (at >= 0 && at + n.length <= to) return true;
    }
    return false;
  }

  /** [from, to) holds whole lines, the last ending with a newline. */
  private region(buf: Buffer, from: number, to: number): void {
    if (!this.interestingOnly) {
      let s = from;
      while (s < to) {
        const nl = buf.indexOf(10, s);
        this.emit(buf, s, nl);
        s = nl + 1;
      }
      return;
    }
    const starts = this.interestingLineStarts(buf, from, to);
    let counted = from;
    for (const s of starts) {
      this.lines += countNewlines(buf, counted, s);
      const nl = buf.indexOf(10, s);
      this.lines += 1;
      this.deliver(buf, s, nl);
      counted = nl + 1;
    }
    this.lines += countNewlines(buf, counted, to);
  }

  private emit(buf: Buffer, s: number, nl: number): void {
    this.lines += 1;
    this.deliver(buf, s, nl);
  }

  private deliver(buf: Buffer, s: number, nl: number): void {
    const len = nl - s;
    if (len > this.maxLineBytes) this.sink(buf.toString('utf8', s, s + this.maxLineBytes), this.lines, true);
    else this.sink(buf.toString('utf8', s, nl), this.lines, false);
  }

  /** Sorted, unique starts of the lines in [from, to) that contain a needle. */
  private interestingLineStarts(buf: Buffer, from: number, to: number): number[] {
    const starts = new Set<number>();
    for (const p of this.plan) {
      let at = buf.indexOf(p.search, from);
      while (at >= 0 && at < to) {
        if (p.rest !== null && !p.rest.some((n) => startsWith(buf, at, n))) {
          at = buf.indexOf(p.search, at + 1);
          continue;
        }
        const s = at === 0 ? 0 : buf.lastIndexOf(10, at - 1) + 1;
        starts.add(Math.max(s, from));
        const nl = buf.indexOf(10, at);
        at = buf.indexOf(p.search, nl + 1);
      }
    }
    return starts.size === 0 ? [] : [...starts].sort((a, b) => a - b);
  }
}

/**
 * One pass over a chunk: a needle of its own (`rest` null), or the first byte several needles share, each
 * hit checked against those needles ("UF" and "UH" cost one pass for "U", which is rare in access logs,
 * instead of two).
 */
interface NeedleSearch {
  search: Buffer | number;
  rest: Buffer[] | null;
}

function searchPlan(needles: readonly Buffer[]): NeedleSearch[] {
  const byFirst = new Map<number, Buffer[]>();
  for (const n of needles) byFirst.set(n[0], [...(byFirst.get(n[0]) ?? []), n]);
  return [...byFirst].map(([first, group]) => (group.length === 1 ? {search: group[0], rest: null} : {search: first, rest: group}));
}

function startsWith(buf: Buffer, at: number, needle: Buffer): boolean {
  if (at + needle.length > buf.length) return false;
  for (let i = 1; i < needle.length; i++) if (buf[at + i] !== needle[i]) return false;
  return true;
}

function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let at = buf.indexOf(10, from);
  while (at >= 0 && at < to) {
    n++;
    at = buf.indexOf(10, at + 1);
  }
  return n;
}
