// Real files in a temporary directory, real renames and truncations: what logrotate and the kubelet do.
import {spawn} from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {FileSource, type FileSourceOptions} from './file';
import {decodeFilePosition} from './position';
import {gate, RecordingSink, waitFor} from './testing';

jest.setTimeout(30_000);

let dir: string;
let running: FileSource[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'egress-file-source-'));
});

afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
  rmSync(dir, {recursive: true, force: true});
});

function numbered(from: number, to: number, prefix = 'line'): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${prefix} ${i}\n`;
  return s;
}

function names(from: number, to: number, prefix = 'line'): string[] {
  return numbered(from, to, prefix).split('\n').slice(0, -1);
}

async function follow(path: string, opts: FileSourceOptions = {}, resume?: string | null): Promise<{source: FileSource; sink: RecordingSink}> {
  const source = new FileSource(path, {pollMs: 40, rotateGraceMs: 40, ...opts});
  const sink = new RecordingSink();
  running.push(source);
  await source.start(sink, resume === undefined || resume === null ? null : new Map([[source.id, resume]]));
  return {source, sink};
}

async function stopped(source: FileSource): Promise<void> {
  await source.stop();
  running = running.filter((s) => s !== source);
}

describe.each([
  ['fs.watch and polling', true],
  ['polling alone', false],
])('FileSource with %s', (_name, watch) => {
  it('delivers appended lines, byte for byte, with chained positions', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 3));
    const {source, sink} = await follow(path, {watch});
    await waitFor(() => sink.lines.length === 3, 'the existing lines');
    appendFileSync(path, numbered(3, 5));
    await waitFor(() => sink.lines.length === 5, 'the appended lines');
    expect(sink.lines).toEqual(names(0, 5));
    expect(sink.bytes().toString()).toBe(numbered(0, 5));
    expect(sink.batches[0].from).toBeNull();
    for (let i = 1; i < sink.batches.length; i++) expect(sink.batches[i].from).toBe(sink.batches[i - 1].position);
    expect(decodeFilePosition(sink.position ?? '')?.offset).toBe(Buffer.byteLength(numbered(0, 5)));
    expect(sink.batches[0].stream).toMatchObject({id: source.id, log: 'proxy', origin: path});
    const st = source.status();
    expect(st).toMatchObject({id: `file:${path}`, kind: 'file', state: 'following', lines: 5, lastError: null});
    expect(st.streams[0].detail.watching).toBe(watch);
  });

  it('delivers a line written in two pieces once, whole', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, 'first\nhalf of a ');
    const {source, sink} = await follow(path, {watch});
    await waitFor(() => sink.lines.length === 1 && source.status().bytes === 16, 'the first line and the partial one read');
    expect(source.status().streams[0].detail.pendingBytes).toBe(10);
    appendFileSync(path, 'line\n');
    await waitFor(() => sink.lines.length === 2, 'the completed line');
    expect(sink.lines).toEqual(['first', 'half of a line']);
    expect(sink.batches.every((b) => !b.unterminated)).toBe(true);
  });

  it('loses nothing and repeats nothing across a rename-and-create rotation', async () => {
    const path = join(dir, 'proxy.log');
    const writer = openSync(path, 'a');
    writeSync(writer, numbered(0, 10));
    const {source, sink} = await follow(path, {watch, rotateGraceMs: 300});
    await waitFor(() => sink.lines.length === 10, 'the lines before rotation');
    renameSync(path, `${path}.1`);
    // The writer has not reopened yet: these land in the renamed file.
    writeSync(writer, numbered(10, 15) + 'unfinished');
    writeFileSync(path, numbered(0, 5, 'new'));
    writeSync(writer, ' tail written during the grace');
    closeSync(writer);
    await waitFor(() => sink.lines.length === 21, 'the rest of the old file and the new file');
    expect(sink.lines).toEqual([...names(0, 15), 'unfinished tail written during the grace', ...names(0, 5, 'new')]);
    expect(sink.batches.filter((b) => b.unterminated)).toHaveLength(1);
    expect(sink.codes()).toContain('rotated');
    expect(source.status().streams[0].rotations).toBe(1);
    appendFileSync(path, numbered(5, 6, 'new'));
    await waitFor(() => sink.lines.length === 22, 'a line appended to the new file');
    expect(sink.lines[21]).toBe('new 5');
  });

  it('restarts at 0 after copytruncate and says so', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 20));
    const {source, sink} = await follow(path, {watch});
    await waitFor(() => sink.lines.length === 20, 'the lines before truncation');
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, numbered(0, 3, 'after'));
    await waitFor(() => sink.lines.length === 23, 'the lines after truncation');
    expect(sink.lines.slice(20)).toEqual(names(0, 3, 'after'));
    expect(sink.codes()).toContain('truncated');
    expect(source.status().streams[0].truncations).toBe(1);
  });

  it('waits for a file that does not exist yet and reads all of it when it appears', async () => {
    const path = join(dir, 'later.log');
    const {source, sink} = await follow(path, {watch, startAt: 'end'});
    expect(source.status().state).toBe('waiting');
    expect(sink.codes()).toEqual(['waiting']);
    writeFileSync(path, numbered(0, 4));
    await waitFor(() => sink.lines.length === 4, 'the lines of the new file');
    expect(sink.lines).toEqual(names(0, 4));
    await waitFor(() => source.status().state === 'following', 'state following');
  });
});

describe('FileSource', () => {
  it('notices a file rewritten in place to a larger size by its first bytes', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 5, 'old'));
    const {source, sink} = await follow(path, {watch: false, pollMs: 30});
    await waitFor(() => sink.lines.length === 5, 'the old lines');
    // One synchronous rewrite: whichever state the next poll sees, the new content must arrive once.
    writeFileSync(path, numbered(0, 40, 'new'));
    await waitFor(() => sink.lines.length === 45, 'the rewritten content');
    expect(sink.lines).toEqual([...names(0, 5, 'old'), ...names(0, 40, 'new')]);
    expect(source.status().streams[0].truncations).toBe(1);
  });

  it('starts after the last complete line with startAt end, and reads the partial one whole', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 50) + 'par');
    const {sink} = await follow(path, {startAt: 'end'});
    appendFileSync(path, 'tial\nnext\n');
    await waitFor(() => sink.lines.length === 2, 'the lines after the start');
    expect(sink.lines).toEqual(['partial', 'next']);
  });

  it('waits for a directory that does not exist yet, polling', async () => {
    const path = join(dir, 'sub', 'deeper', 'proxy.log');
    const {source, sink} = await follow(path);
    expect(sink.codes()).toEqual(expect.arrayContaining(['watch-unavailable', 'waiting']));
    mkdirSync(join(dir, 'sub', 'deeper'), {recursive: true});
    writeFileSync(path, numbered(0, 2));
    await waitFor(() => sink.lines.length === 2, 'the lines');
    expect(source.status().state).toBe('following');
  });

  it('finishes a deleted file, waits, and reads a recreated one from its start', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 3) + 'no newline');
    const {source, sink} = await follow(path);
    await waitFor(() => sink.lines.length === 3, 'the complete lines');
    unlinkSync(path);
    await waitFor(() => source.status().state === 'waiting', 'state waiting');
    expect(sink.lines).toEqual([...names(0, 3), 'no newline']);
    expect(sink.codes()).toContain('deleted');
    writeFileSync(path, numbered(0, 2, 'again'));
    await waitFor(() => sink.lines.length === 6, 'the recreated file');
    expect(sink.lines.slice(4)).toEqual(names(0, 2, 'again'));
  });

  it('cuts giant lines, marks them, and never holds more than maxLineBytes of one', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, `short\n${'x'.repeat(5000)}\nafter\n`);
    const {source, sink} = await follow(path, {maxLineBytes: 100, chunkBytes: 1000});
    await waitFor(() => sink.lines.length === 3, 'three lines');
    expect(sink.lines).toEqual(['short', 'x'.repeat(100), 'after']);
    expect(sink.batches.flatMap((b) => b.cut.map((i) => sink.batches.slice(0, sink.batches.indexOf(b)).reduce((a, x) => a + x.lines, 0) + i))).toEqual([1]);
    expect(source.status().streams[0].cutLines).toBe(1);
  });

  it('resumes inside the skipped tail of a cut line without delivering the tail', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, `ok\n${'y'.repeat(150)}`);
    const first = await follow(path, {maxLineBytes: 100});
    await waitFor(() => first.sink.lines.length === 2, 'the cut head');
    const at = first.sink.position;
    expect(decodeFilePosition(at ?? '')).toMatchObject({skip: true, offset: 153});
    await stopped(first.source);
    appendFileSync(path, 'yyyy tail\nnext\n');
    const second = await follow(path, {maxLineBytes: 100}, at);
    await waitFor(() => second.sink.lines.length === 1, 'the next line');
    expect(second.sink.lines).toEqual(['next']);
    expect(second.sink.batches[0].from).toBe(at);
  });

  it('passes hostile bytes through and never throws', async () => {
    const path = join(dir, 'proxy.log');
    const hostile = Buffer.concat([
      Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x0d, 0x0a]),
      Buffer.from('\u202e\ud83d\ude00 ok\n'),
      Buffer.from([0xc3, 0x28, 0xe2, 0x82, 0x0a]),
    ]);
    writeFileSync(path, hostile);
    const {source, sink} = await follow(path);
    await waitFor(() => sink.lines.length === 3, 'the lines');
    expect(sink.bytes().equals(hostile)).toBe(true);
    expect(sink.lines[0]).toBe('\ufffd\ufffd\u0000\u001b[31m\r');
    expect(source.status().state).toBe('following');
  });

  it('continues exactly at the resume point after stop and start', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 100));
    const first = await follow(path);
    await waitFor(() => first.sink.lines.length === 100, 'the first lines');
    await stopped(first.source);
    appendFileSync(path, numbered(100, 120));
    const second = await follow(path, {}, first.sink.position);
    await waitFor(() => second.sink.lines.length === 20, 'the lines written while stopped');
    expect([...first.sink.lines, ...second.sink.lines]).toEqual(names(0, 120));
    expect(second.sink.codes()).toContain('resumed');
    expect(second.sink.batches[0].from).toBe(first.sink.position);
  });

  it('finishes the renamed file first when the rotation happened while stopped', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 10));
    const first = await follow(path);
    await waitFor(() => first.sink.lines.length === 10, 'the first lines');
    await stopped(first.source);
    appendFileSync(path, numbered(10, 12));
    renameSync(path, `${path}.1`);
    writeFileSync(path, numbered(0, 3, 'new'));
    const second = await follow(path, {}, first.sink.position);
    await waitFor(() => second.sink.lines.length === 5, 'the rest of the old file and the new file');
    expect(second.sink.lines).toEqual([...names(10, 12), ...names(0, 3, 'new')]);
    expect(second.sink.notices.find((n) => n.code === 'resume-rotated')?.message).toMatch(/finishing .*proxy\.log\.1 from byte/);
  });

  it('starts the new file at 0 when the old one is gone, and says what was lost', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 10));
    const first = await follow(path);
    await waitFor(() => first.sink.lines.length === 10, 'the first lines');
    await stopped(first.source);
    unlinkSync(path);
    // Larger than the old offset, so that only the inode and the first bytes can tell it apart.
    writeFileSync(path, numbered(0, 30, 'new'));
    const second = await follow(path, {}, first.sink.position);
    await waitFor(() => second.sink.lines.length === 30, 'the new file');
    expect(second.sink.lines).toEqual(names(0, 30, 'new'));
    expect(second.sink.notices.find((n) => n.code === 'resume-rotated' || n.code === 'resume-truncated')?.message).toMatch(/from its start/);
  });

  it('restarts at 0 when the file was truncated while stopped', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 10));
    const first = await follow(path);
    await waitFor(() => first.sink.lines.length === 10, 'the first lines');
    await stopped(first.source);
    truncateSync(path, 0);
    appendFileSync(path, numbered(0, 2, 'after'));
    const second = await follow(path, {}, first.sink.position);
    await waitFor(() => second.sink.lines.length === 2, 'the lines after truncation');
    expect(second.sink.lines).toEqual(names(0, 2, 'after'));
    expect(second.sink.codes()).toContain('resume-truncated');
  });

  it('reports an unusable resume point, starts per startAt and still chains from the stored string', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 2));
    const {sink} = await follow(path, {}, 'garbage');
    await waitFor(() => sink.lines.length === 2, 'the lines');
    expect(sink.codes()).toContain('resume-invalid');
    expect(sink.batches[0].from).toBe('garbage');
  });

  it('stops in error when the sink rejects, and a restart from the committed point loses nothing', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, numbered(0, 5));
    const first = await follow(path);
    await waitFor(() => first.sink.lines.length === 5, 'the first lines');
    first.sink.before = () => {
      throw new Error('database is locked');
    };
    appendFileSync(path, numbered(5, 8));
    await waitFor(() => first.source.status().state === 'error', 'state error');
    expect(first.source.status().lastError).toMatch(/database is locked/);
    appendFileSync(path, numbered(8, 9));
    await stopped(first.source);
    const second = await follow(path, {}, first.sink.position);
    await waitFor(() => second.sink.lines.length === 4, 'the lines after the failure');
    expect([...first.sink.lines, ...second.sink.lines]).toEqual(names(0, 9));
  });

  it('reads one chunk at a time behind a slow sink instead of buffering the file', async () => {
    const path = join(dir, 'big.log');
    const chunkBytes = 16 * 1024;
    const maxLineBytes = 4096;
    writeFileSync(path, numbered(0, 400_000));
    const held = gate();
    const {source, sink} = await follow(path, {chunkBytes, maxLineBytes});
    let readAheadMax = 0;
    let delivered = 0;
    sink.before = async (b) => {
      readAheadMax = Math.max(readAheadMax, source.status().bytes - delivered);
      delivered += b.data.length;
      if (sink.batches.length === 2) await held.promise;
      else await new Promise((r) => setImmediate(r));
    };
    await waitFor(() => sink.batches.length === 2 && sink.outstanding === 1, 'the third batch to be held');
    const readWhileHeld = source.status().bytes;
    // Give the source every chance to read ahead; it must not.
    await new Promise((r) => setTimeout(r, 200));
    expect(source.status().bytes).toBe(readWhileHeld);
    expect(readWhileHeld).toBeLessThanOrEqual(3 * chunkBytes);
    held.open();
    await waitFor(() => sink.lines.length === 400_000, 'every line', 60_000);
    expect(sink.maxOutstanding).toBe(1);
    expect(readAheadMax).toBeLessThanOrEqual(chunkBytes + maxLineBytes);
    expect(sink.lines[399_999]).toBe('line 399999');
  });
});

describe('FileSource notifications and links', () => {
  it('reacts to file-system events without waiting for the poll, where they work', async () => {
    const path = join(dir, 'proxy.log');
    writeFileSync(path, '');
    const {source, sink} = await follow(path, {pollMs: 60_000});
    if (source.status().streams[0].detail.watching !== true) return; // no notifications here: polling is all there is
    appendFileSync(path, numbered(0, 2));
    await waitFor(() => sink.lines.length === 2, 'lines announced by fs.watch', 5_000);
  });

  it('follows a symlinked path (as /var/log/containers links into /var/log/pods) through a rotation while stopped', async () => {
    const real = join(dir, 'pods', 'mattermost_mm-0_uid', 'istio-proxy');
    mkdirSync(real, {recursive: true});
    const target = join(real, '0.log');
    const link = join(dir, 'mm-0_istio-proxy.log');
    writeFileSync(target, numbered(0, 3));
    symlinkSync(target, link);
    const first = await follow(link);
    await waitFor(() => first.sink.lines.length === 3, 'the first lines');
    await stopped(first.source);
    appendFileSync(target, numbered(3, 5));
    renameSync(target, `${target}.20240501-120000`);
    writeFileSync(target, numbered(0, 2, 'new'));
    const second = await follow(link, {}, first.sink.position);
    await waitFor(() => second.sink.lines.length === 4, 'the renamed file and the new one');
    expect(second.sink.lines).toEqual([...names(3, 5), ...names(0, 2, 'new')]);
    appendFileSync(target, numbered(2, 3, 'new'));
    renameSync(target, `${target}.20240501-130000`);
    writeFileSync(target, numbered(0, 1, 'newer'));
    await waitFor(() => second.sink.lines.length === 6, 'the lines after a live rotation');
    expect(second.sink.lines.slice(4)).toEqual(['new 2', 'newer 0']);
  });
});

describe('FileSource with a concurrent writer', () => {
  // The writer is another process, so its writes interleave with the source's reads at arbitrary points.
  function spawnWriter(path: string, total: number, mode: 'pieces' | 'lines'): {done: () => boolean; exited: Promise<void>} {
    const script = `
      const fs = require('fs');
      const [path, total, mode] = process.argv.slice(1);
      let text = '';
      for (let i = 0; i < Number(total); i++) text += 'line ' + i + '\\n';
      let at = 0;
      let seed = 7;
      const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
      function tick() {
        for (let k = 0; k < 4 && at < text.length; k++) {
          // 'pieces': arbitrary cuts, so lines arrive in parts; 'lines': whole lines, opened afresh each
          // time, as a writer that reopens its file after every rotation.
          const end = mode === 'pieces' ? Math.min(text.length, at + 1 + rnd(120)) : text.indexOf('\\n', at) + 1;
          fs.appendFileSync(path, text.slice(at, end));
          at = end;
        }
        if (at < text.length) setTimeout(tick, 1);
      }
      tick();
    `;
    const child = spawn(process.execPath, ['-e', script, path, String(total), mode], {stdio: 'inherit'});
    let finished = false;
    const exited = new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => {
        finished = true;
        if (code === 0) resolve();
        else reject(new Error(`writer exited with ${code}`));
      });
    });
    return {done: () => finished, exited};
  }

  function inodeOf(path: string): string | null {
    try {
      return statSync(path, {bigint: true}).ino.toString();
    } catch {
      return null;
    }
  }

  it('delivers every line exactly once across stop and start while lines are written in pieces', async () => {
    const path = join(dir, 'proxy.log');
    const total = 6000;
    const writer = spawnWriter(path, total, 'pieces');
    const got: string[] = [];
    let position: string | null = null;
    for (let cycle = 0; cycle < 12 && !writer.done(); cycle++) {
      const {source, sink} = await follow(path, {chunkBytes: 997}, position);
      await waitFor(() => sink.lines.length >= 50 || writer.done(), 'some lines in this cycle');
      await stopped(source);
      got.push(...sink.lines);
      position = sink.position ?? position;
    }
    await writer.exited;
    const {sink} = await follow(path, {}, position);
    await waitFor(() => got.length + sink.lines.length >= total, 'every line');
    got.push(...sink.lines);
    expect(got).toEqual(names(0, total));
    expect(sink.batches.some((b) => b.unterminated)).toBe(false);
  });

  it('delivers every line exactly once across rotations and restarts, while lines are appended', async () => {
    const path = join(dir, 'proxy.log');
    const total = 5000;
    const writer = spawnWriter(path, total, 'lines');
    const got: string[] = [];
    let position: string | null = null;
    let rotations = 0;
    // Rotate only once the source has moved to the current file: two rotations before it looks again
    // would hide the middle file from it (a documented limit).
    const caughtUp = (p: string | null): boolean => p !== null && decodeFilePosition(p)?.ino === inodeOf(path);
    const rotate = (): void => {
      if (inodeOf(path) === null) return;
      rotations += 1;
      renameSync(path, `${path}.${rotations}`);
    };
    for (let cycle = 0; cycle < 14 && !writer.done(); cycle++) {
      const {source, sink} = await follow(path, {rotateGraceMs: 20}, position);
      await waitFor(() => sink.lines.length >= 40 || writer.done(), 'some lines in this cycle');
      if (cycle % 3 === 0 && caughtUp(sink.position)) rotate();
      await waitFor(() => sink.lines.length >= 80 || writer.done(), 'more lines in this cycle');
      await stopped(source);
      got.push(...sink.lines);
      position = sink.position ?? position;
      if (cycle % 3 === 1 && caughtUp(position)) rotate();
    }
    await writer.exited;
    const {sink} = await follow(path, {rotateGraceMs: 20}, position);
    await waitFor(() => got.length + sink.lines.length >= total, 'every line');
    got.push(...sink.lines);
    expect(rotations).toBeGreaterThanOrEqual(3);
    expect(got).toEqual(names(0, total));
  });
});
