// One part of a large file, scanned on its own thread. Only plain data crosses back to the main thread.
import {closeSync, openSync, readSync} from 'node:fs';
import {parentPort, workerData} from 'node:worker_threads';
import {Scan} from '../engine/scan';

export interface ScanPart {
  path: string;
  start: number;
  end: number;
  exhaustive: boolean;
}

export interface ScanPartResult {
  stats: ReturnType<Scan['drain']>;
  verdictCounts: Scan['folder']['verdictCounts'];
  overflow: number;
  layouts: [string, number][];
  lines: number;
  bytes: number;
  truncated: number;
  exhaustive: boolean;
}

const CHUNK = 4 * 1024 * 1024;

export function scanPart(part: ScanPart): ScanPartResult {
  const scan = new Scan({exhaustive: part.exhaustive});
  const fd = openSync(part.path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = part.start;
    while (pos < part.end) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, part.end - pos), pos);
      if (n === 0) break;
      scan.push(n === CHUNK ? buf : buf.subarray(0, n));
      pos += n;
    }
    scan.end();
  } finally {
    closeSync(fd);
  }
  const overflow = scan.folder.overflow;
  return {
    stats: scan.drain(),
    verdictCounts: {...scan.folder.verdictCounts},
    overflow,
    layouts: [...scan.layouts],
    lines: scan.lines,
    bytes: scan.bytes,
    truncated: scan.truncated,
    exhaustive: scan.exhaustive,
  };
}

if (parentPort !== null && workerData !== undefined) parentPort.postMessage(scanPart(workerData as ScanPart));
