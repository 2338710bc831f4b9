import fc from 'fast-check';
import {INTERESTING_NEEDLES, LineReader} from './lines';

type Got = {line: string; n: number; truncated: boolean};

function run(chunks: Buffer[], opts: ConstructorParameters<typeof LineReader>[1] = {}): {got: Got[]; reader: LineReader} {
  const got: Got[] = [];
  const reader = new LineReader((line, n, truncated) => got.push({line, n, truncated}), opts);
  for (const c of chunks) reader.push(c);
  reader.end();
  return {got, reader};
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
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

describe('LineReader', () => {
  it('numbers lines across chunk boundaries and keeps a final line without newline', () => {
    const {got, reader} = run([Buffer.from('one\ntw'), Buffer.from('o\n'), Buffer.from('three')]);
    expect(got.map((g) => [g.line, g.n])).toEqual([
      ['one', 1],
      ['two', 2],
      ['three', 3],
    ]);
    expect(reader.lines).toBe(3);
  });

  it('counts empty lines and keeps a CR for the parser to strip', () => {
    const {got} = run([Buffer.from('a\r\n\nb\n')]);
    expect(got.map((g) => g.line)).toEqual(['a\r', '', 'b']);
  });

  it('cuts a giant line at the limit without buffering it whole, and goes on with the next line', () => {
    const giant = Buffer.alloc(5000, 0x61);
    const chunks = [Buffer.from('first\n'), giant.subarray(0, 2000), giant.subarray(2000), Buffer.from('\nlast\n')];
    const {got} = run(chunks, {maxLineBytes: 1000});
    expect(got).toHaveLength(3);
    expect(got[1].truncated).toBe(true);
    expect(got[1].line).toHaveLength(1000);
    expect(got[2]).toEqual({line: 'last', n: 3, truncated: false});
  });

  it('cuts a giant line that arrives inside one chunk as well', () => {
    const {got} = run([Buffer.from(`${'b'.repeat(3000)}\nok\n`)], {maxLineBytes: 100});
    expect(got[0]).toMatchObject({n: 1, truncated: true});
    expect(got[0].line).toHaveLength(100);
    expect(got[1]).toEqual({line: 'ok', n: 2, truncated: false});
  });

  it('decodes bytes that are not UTF-8 without throwing', () => {
    const {got} = run([Buffer.from([0x41, 0xff, 0xfe, 0x42, 0x0a])]);
    expect(got[0].line).toBe('A\ufffd\ufffdB');
  });

  it('in interesting-only mode delivers exactly the needle lines, with the same numbers, for any chunking', () => {
    const piece = fc.oneof(
      fc.constantFrom(...INTERESTING_NEEDLES),
      fc.constantFrom('GET /x HTTP/1.1', 'outbound|443||a.b', 'B', 'Bl', 'U', 'k_al', '\n', '\n', '\r\n', ' ', '-'),
      fc.string({maxLength: 12}),
    );
    fc.assert(
      fc.property(fc.array(piece, {maxLength: 60}), fc.array(fc.nat(), {maxLength: 6}), (pieces, cuts) => {
        const buf = Buffer.from(pieces.join(''));
        const all = run(splitAt(buf, cuts));
        const fast = run(splitAt(buf, cuts), {interestingOnly: true});
        const expected = all.got.filter((g) => INTERESTING_NEEDLES.some((n) => g.line.includes(n)));
        expect(fast.got).toEqual(expected);
        expect(fast.reader.lines).toBe(all.reader.lines);
      }),
      {numRuns: 500},
    );
  });
});
