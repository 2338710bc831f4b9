import {PassThrough, Readable} from 'node:stream';
import {StdinSource} from './stdin';
import {gate, RecordingSink, waitFor} from './testing';

jest.setTimeout(30_000);

describe('StdinSource', () => {
  it('delivers lines across writes, the unterminated last one at EOF, then ends', async () => {
    const input = new PassThrough();
    const source = new StdinSource(input, {kind: 'app'});
    const sink = new RecordingSink();
    await source.start(sink);
    expect(source.status().state).toBe('following');
    input.write('one\ntw');
    await waitFor(() => sink.lines.length === 1, 'the first line');
    input.write('o\nlast');
    await waitFor(() => sink.lines.length === 2, 'the completed line');
    input.end();
    await waitFor(() => source.status().state === 'ended', 'state ended');
    expect(sink.lines).toEqual(['one', 'two', 'last']);
    expect(sink.batches.map((b) => b.unterminated)).toEqual([false, false, true]);
    expect(sink.batches.every((b) => b.from === null && b.stream.log === 'app')).toBe(true);
    expect(sink.codes()).toEqual(['ended']);
    expect(source.resumable).toBe(false);
    await source.stop();
    expect(source.status().state).toBe('ended');
  });

  it('leaves the input in the pipe while the sink is slow', async () => {
    const input = new PassThrough({highWaterMark: 16 * 1024});
    const source = new StdinSource(input);
    const sink = new RecordingSink();
    const held = gate();
    sink.before = () => (sink.batches.length === 0 ? held.promise : undefined);
    await source.start(sink);
    const line = 'x'.repeat(99) + '\n';
    let accepted = 0;
    while (input.write(line)) accepted += 1;
    await waitFor(() => sink.outstanding === 1, 'the first batch to be held');
    // The writer is told to wait, and the source takes nothing more while the batch is held.
    const queued = input.readableLength;
    await new Promise((r) => setTimeout(r, 100));
    expect(input.readableLength).toBe(queued);
    expect(queued).toBeGreaterThan(0);
    expect(source.status().bytes).toBeLessThanOrEqual(64 * 1024);
    held.open();
    input.end();
    await waitFor(() => source.status().state === 'ended', 'state ended');
    expect(sink.lines).toHaveLength(accepted + 1);
    expect(sink.maxOutstanding).toBe(1);
  });

  it('cuts giant lines, passes hostile bytes, and accepts string chunks', async () => {
    const raw = Buffer.concat([Buffer.from([0xff, 0x00, 0x0a]), Buffer.from('y'.repeat(500) + '\nok\n')]);
    const input = Readable.from([raw.subarray(0, 2), raw.subarray(2, 300), raw.subarray(300), 'caf\u00e9\n']);
    const source = new StdinSource(input, {maxLineBytes: 50});
    const sink = new RecordingSink();
    await source.start(sink);
    await waitFor(() => source.status().state === 'ended', 'state ended');
    expect(sink.lines).toEqual(['\ufffd\u0000', 'y'.repeat(50), 'ok', 'caf\u00e9']);
    expect(source.status().streams[0].cutLines).toBe(1);
  });

  it('stops without losing what it took, and continues when started again', async () => {
    const input = new PassThrough();
    const source = new StdinSource(input);
    const sink = new RecordingSink();
    await source.start(sink);
    input.write('a\npart');
    await waitFor(() => sink.lines.length === 1, 'the first line');
    await source.stop();
    expect(source.status().state).toBe('stopped');
    input.write('ial\nb\n');
    await new Promise((r) => setImmediate(r));
    expect(sink.lines).toEqual(['a']);
    await source.start(sink, new Map([['stdin', 'ignored']]));
    await waitFor(() => sink.lines.length === 3, 'the lines written while stopped');
    expect(sink.lines).toEqual(['a', 'partial', 'b']);
    await source.stop();
  });

  it('stops in error when the sink rejects', async () => {
    const input = new PassThrough();
    const source = new StdinSource(input);
    const sink = new RecordingSink();
    sink.before = () => {
      throw new Error('disk full');
    };
    await source.start(sink);
    input.write('a\n');
    await waitFor(() => source.status().state === 'error', 'state error');
    expect(source.status().lastError).toMatch(/disk full/);
    await source.stop();
  });

  it('reports an input stream error', async () => {
    const input = new PassThrough();
    const source = new StdinSource(input);
    const sink = new RecordingSink();
    await source.start(sink);
    input.destroy(new Error('EPIPE'));
    await waitFor(() => source.status().state === 'error', 'state error');
    expect(source.status().lastError).toMatch(/EPIPE/);
    await source.stop();
  });
});
