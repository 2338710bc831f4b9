// Cuts a byte stream into whole lines for a batch, holding back at most one partial line of at most
// maxLineBytes. A line longer than that is delivered as its head at once (so a newline-free flood can
// never grow memory) and its tail is skipped up to the next newline. Pure: no I/O, no clock.

const NL = Buffer.from('\n');

export interface Framed {
  /** Whole lines, each ending in "\n"; empty when the chunk completed no line. */
  data: Buffer;
  lines: number;
  /** Indices in this result of lines cut at maxLineBytes. */
  cut: number[];
  unterminated: boolean;
}

function empty(): Framed {
  return {data: Buffer.alloc(0), lines: 0, cut: [], unterminated: false};
}

export class LineFramer {
  private pending: Buffer | null = null;
  /** Inside the tail of a line that was already delivered cut: drop bytes up to its newline. */
  skipping = false;

  constructor(readonly maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError('maxLineBytes must be a positive integer');
  }

  /** Bytes read but not yet part of a delivered line: the partial last line. */
  get pendingBytes(): number {
    return this.pending?.length ?? 0;
  }

  reset(skipping = false): void {
    this.pending = null;
    this.skipping = skipping;
  }

  push(chunk: Buffer): Framed {
    const out = new Output();
    let pos = 0;
    if (this.skipping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) return empty();
      this.skipping = false;
      pos = nl + 1;
    }
    if (this.pending !== null) {
      const nl = chunk.indexOf(10, pos);
      const head = this.pending;
      if (nl < 0) {
        this.extendPending(chunk.subarray(pos), out);
        return out.result(false);
      }
      this.pending = null;
      const room = this.maxLineBytes - head.length;
      if (nl - pos > room) out.cutLine(head, chunk.subarray(pos, pos + room), this.maxLineBytes);
      else out.line(head, chunk.subarray(pos, nl + 1));
      pos = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= pos) {
      out.region(chunk, pos, last + 1, this.maxLineBytes);
      pos = last + 1;
    }
    if (pos < chunk.length) this.extendPending(chunk.subarray(pos), out);
    return out.result(false);
  }

  /** The partial last line as a line of its own (the input ended or was rotated away). */
  flush(): Framed {
    const head = this.pending;
    this.reset();
    if (head === null || head.length === 0) return empty();
    const out = new Output();
    out.line(head, NL);
    return out.result(true);
  }

  private extendPending(part: Buffer, out: Output): void {
    if (part.length === 0) return;
    const have = this.pending?.length ?? 0;
    if (have + part.length > this.maxLineBytes) {
      out.cutLine(this.pending ?? Buffer.alloc(0), part.subarray(0, this.maxLineBytes - have), this.maxLineBytes);
      this.pending = null;
      this.skipping = true;
      return;
    }
    // A copy, so that the partial line does not pin the whole chunk it came from.
    this.pending = this.pending === null ? Buffer.from(part) : Buffer.concat([this.pending, part]);
  }
}

/** Collects the parts of one result; whole-line runs of the chunk are kept as views, not copied. */
class Output {
  private parts: Buffer[] = [];
  private lines = 0;
  private cut: number[] = [];

  line(a: Buffer, b: Buffer): void {
    this.parts.push(a, b);
    this.lines += 1;
  }

  cutLine(a: Buffer, b: Buffer, max: number): void {
    const head = a.length + b.length > max ? Buffer.concat([a, b]).subarray(0, max) : Buffer.concat([a, b]);
    this.parts.push(head, NL);
    this.cut.push(this.lines);
    this.lines += 1;
  }

  /** [from, to) holds whole lines, the last ending in a newline. */
  region(buf: Buffer, from: number, to: number, max: number): void {
    let runStart = from;
    let s = from;
    while (s < to) {
      const nl = buf.indexOf(10, s);
      if (nl - s > max) {
        if (s > runStart) this.parts.push(buf.subarray(runStart, s));
        this.parts.push(buf.subarray(s, s + max), NL);
        this.cut.push(this.lines);
        runStart = nl + 1;
      }
      this.lines += 1;
      s = nl + 1;
    }
    if (to > runStart) this.parts.push(buf.subarray(runStart, to));
  }

  result(unterminated: boolean): Framed {
    if (this.lines === 0) return empty();
    const data = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    return {data, lines: this.lines, cut: this.cut, unterminated};
  }
}

/** Calls fn for every line of a batch's data, decoded as UTF-8 (invalid bytes become U+FFFD). */
export function forEachLine(batch: {data: Buffer; cut: readonly number[]}, fn: (line: string, index: number, cut: boolean) => void): void {
  const cut = new Set(batch.cut);
  const data = batch.data;
  let s = 0;
  let i = 0;
  while (s < data.length) {
    let nl = data.indexOf(10, s);
    if (nl < 0) nl = data.length;
    fn(data.toString('utf8', s, nl), i, cut.has(i));
    i += 1;
    s = nl + 1;
  }
}
