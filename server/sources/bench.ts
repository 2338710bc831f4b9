// Follow throughput for `npm run bench`: lines per second from the moment they are appended to a file to
// the moment the file source has delivered them all, the sink acknowledging at once.
import {promises as fs} from 'node:fs';
import {FileSource} from './file';

const BLOCK_LINES = 512;
const TIMEOUT_MS = 120_000;

function line(i: number): string {
  const ip = `198.51.100.${i % 250}`;
  return `[2024-05-01T12:00:00.${String(i % 1000).padStart(3, '0')}Z] "- - -" 0 UH,UF - - "-" 0 0 0 - "-" "-" "-" "-" "${ip}:443" BlackHoleCluster - ${ip}:443 10.42.0.17:${40000 + (i % 20000)} - - ${i}\n`;
}

/** `path` must name a new or disposable file: it is emptied first. Returns lines per second. */
export async function benchFileFollow(path: string, lines: number): Promise<number> {
  if (!Number.isInteger(lines) || lines < 1) throw new RangeError('lines must be a positive integer');
  await fs.writeFile(path, '');
  let delivered = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    finish = r;
  });
  const source = new FileSource(path, {startAt: 'beginning', pollMs: 100});
  await source.start({
    batch: async (b) => {
      delivered += b.lines;
      if (delivered >= lines) finish();
    },
  });
  const out = await fs.open(path, 'a');
  let timer: NodeJS.Timeout | undefined;
  try {
    const started = process.hrtime.bigint();
    for (let i = 0; i < lines; i += BLOCK_LINES) {
      let block = '';
      for (let j = i; j < Math.min(lines, i + BLOCK_LINES); j++) block += line(j);
      await out.write(block);
    }
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${delivered} of ${lines} lines arrived in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
    await Promise.race([done, timeout]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return seconds > 0 ? lines / seconds : Infinity;
  } finally {
    clearTimeout(timer);
    await out.close();
    await source.stop();
  }
}
