// Large files are scanned by several threads, each on a part that starts and ends at a line boundary. On
// two cores this halves the scan; small files and pipes are not worth a thread.
import {closeSync, openSync, readSync, statSync} from 'node:fs';
import {availableParallelism} from 'node:os';
import {join} from 'node:path';
import {Worker} from 'node:worker_threads';
import {scanPart, type ScanPart, type ScanPartResult} from './scan-worker';

/** Below this a second thread costs more to start than it saves. */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;

export function defaultThreads(): number {
  return Math.min(availableParallelism(), 4);
}

/** Part boundaries: each one just after a newline, so no line is split between threads. */
export function splitAtLines(path: string, size: number, parts: number): number[] {
  const bounds = [0];
  const fd = openSync(path, 'r');
  try {
    const probe = Buffer.allocUnsafe(64 * 1024);
    for (let i = 1; i < parts; i++) {
      let at = Math.max(Math.floor((size * i) / parts), bounds[bounds.length - 1]);
      for (;;) {
        const n = readSync(fd, probe, 0, probe.length, at);
        if (n === 0) {
          at = size;
          break;
        }
        const nl = probe.subarray(0, n).indexOf(10);
        if (nl >= 0) {
          at += nl + 1;
          break;
        }
        at += n;
      }
      bounds.push(at);
    }
  } finally {
    closeSync(fd);
  }
  bounds.push(size);
  return bounds;
}

/** The compiled worker runs as JavaScript; from TypeScript sources (tests) there is no thread to start. */
export function canUseThreads(): boolean {
  return __filename.endsWith('.js');
}

export async function scanFileInParts(path: string, threads: number, exhaustive: boolean): Promise<ScanPartResult[]> {
  const size = statSync(path).size;
  const bounds = splitAtLines(path, size, threads);
  const parts: ScanPart[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    if (bounds[i + 1] > bounds[i]) parts.push({path, start: bounds[i], end: bounds[i + 1], exhaustive});
  }
  // The first part is scanned on this thread while the others run: one isolate fewer is about 10 MB less
  // memory, and this thread would only wait otherwise.
  const [own, ...others] = parts;
  const running = others.map(
    (part) =>
      new Promise<ScanPartResult>((resolve, reject) => {
        // A part allocates little (only the few lines that carry a needle become strings): a small young
        // generation keeps each thread's memory near its read buffer.
        const w = new Worker(join(__dirname, 'scan-worker.js'), {workerData: part, resourceLimits: {maxYoungGenerationSizeMb: 4}});
        w.once('message', (r: ScanPartResult) => resolve(r));
        w.once('error', reject);
        w.once('exit', (code) => code !== 0 && reject(new Error(`a scan thread stopped with code ${code}`)));
      }),
  );
  // Errors of the threads are reported after this thread's part, not lost as unhandled rejections meanwhile.
  const settled = Promise.allSettled(running);
  const mine = own === undefined ? [] : [scanPart(own)];
  const results = await settled;
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return [...mine, ...results.map((r) => (r as PromiseFulfilledResult<ScanPartResult>).value)];
}
