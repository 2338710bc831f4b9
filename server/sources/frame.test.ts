import fc from 'fast-check';
import {LineReader} from '../engine/lines';
import {forEachLine, LineFramer, type Framed} from './frame';

type Line = [string, boolean];

function frameAll(chunks: Buffer[], max: number): {out: Framed[]; maxPending: number} {
  const f = new LineFramer(max);
  const out: Framed[] = [];
  let maxPending = 0;
  for (const c of chunks) {
    out.push(f.push(c));
    maxPending = Math.max(maxPending, f.pendingBytes);
  }
  out.push(f.flush());
  return {out, maxPending};
}

function linesOf(out: Framed[]): Line[] {
  const got: Line[] = [];
  for (const b of out) forEachLine(b, (l, _i, cut) => got.push([l, cut]));
  return got;
}

function reader(chunks: Buffer[], max: number): Line[] {
  const got: Line[] = [];
  const r = new LineReader((l, _n, t) => got.push([l, t]), {maxLineBytes: max});
  for (const c of chunks) r.push(c);
  r.end();
  return got;
}

function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('LineFramer', () => {
  it('holds a partial line back until its newline', () => {
    const f = new LineFramer(100);
    expect(f.push(Buffer.from('one\ntw')).data.toString()).toBe('one\n');
    expect(f.pendingBytes).toBe(2);
    expect(f.push(Buffer.from('o')).lines).toBe(0);
    const b = f.push(Buffer.from('\nthree\n'));
    expect(b.data.toString()).toBe('two\nthree\n');
    expect(b.lines).toBe(2);
    expect(f.flush().lines).toBe(0);
  });

  it('delivers a final line without newline only on flush, marked unterminated', () => {
    const f = new LineFramer(100);
    f.push(Buffer.from('a\nlast'));
    const t = f.flush();
    expect(t).toMatchObject({lines: 1, unterminated: true, cut: []});
    expect(t.data.toString()).toBe('last\n');
  });

  it('cuts a giant line as soon as it exceeds the limit and skips its tail up to the newline', () => {
    const f = new LineFramer(10);
    const first = f.push(Buffer.from('ok\n0123456789ABCDEF'));
    expect(first.data.toString()).toBe('ok\n0123456789\n');
    expect(first.cut).toEqual([1]);
    expect(f.skipping).toBe(true);
    expect(f.pendingBytes).toBe(0);
    expect(f.push(Buffer.from('more tail without end')).lines).toBe(0);
    const next = f.push(Buffer.from('tail end\nnext\n'));
    expect(next.data.toString()).toBe('next\n');
    expect(next.cut).toEqual([]);
  });

  it('cuts long lines inside one chunk and keeps the others as they are', () => {
    const f = new LineFramer(4);
    const b = f.push(Buffer.from('abcd\nabcdefgh\nxy\n'));
    expect(b.data.toString()).toBe('abcd\nabcd\nxy\n');
    expect(b.cut).toEqual([1]);
    expect(b.lines).toBe(3);
  });

  it('passes hostile bytes through untouched', () => {
    const raw = Buffer.from([0x41, 0xff, 0x00, 0x1b, 0x5b, 0x0d, 0x0a, 0xc3, 0x0a]);
    const b = new LineFramer(100).push(raw);
    expect(b.data.equals(raw)).toBe(true);
    const got: string[] = [];
    forEachLine(b, (l) => got.push(l));
    expect(got).toEqual(['A\ufffd\u0000\u001b[\r', '\ufffd']);
  });

  it('yields exactly the lines the engine LineReader sees, for any bytes and any chunking', () => {
    const piece = fc.oneof(
      fc.constantFrom('\n', '\n', '\r\n', 'abc', 'BlackHoleCluster', '\u00e9', '\ud83d\ude00'),
      fc.string({maxLength: 30}),
      fc.uint8Array({maxLength: 8}).map((a) => Buffer.from(a).toString('latin1')),
    );
    fc.assert(
      fc.property(fc.array(piece, {maxLength: 50}), fc.array(fc.nat(), {maxLength: 8}), fc.integer({min: 1, max: 40}), (pieces, cuts, max) => {
        const buf = Buffer.from(pieces.join(''), 'utf8');
        const chunks = split(buf, cuts);
        const {out, maxPending} = frameAll(chunks, max);
        expect(linesOf(out)).toEqual(reader(chunks, max));
        expect(maxPending).toBeLessThanOrEqual(max);
        for (const b of out) {
          if (b.lines > 0) expect(b.data[b.data.length - 1]).toBe(10);
          let n = 0;
          for (const byte of b.data) if (byte === 10) n++;
          expect(n).toBe(b.lines);
        }
      }),
      {numRuns: 1000},
    );
  });

  it('keeps the bytes unchanged when no line is cut', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 300}), fc.array(fc.nat(), {maxLength: 6}), (arr, cuts) => {
        const buf = Buffer.from(arr);
        const {out} = frameAll(split(buf, cuts), 1000);
        const joined = Buffer.concat(out.map((b) => b.data));
        const expected = buf.length === 0 || buf[buf.length - 1] === 10 ? buf : Buffer.concat([buf, Buffer.from('\n')]);
        expect(joined.equals(expected)).toBe(true);
      }),
      {numRuns: 500},
    );
  });
});
