// The resume point of a file stream. Opaque to the store, typed here. An inode alone does not identify a
// file across a restart (a rotated-away file is deleted and its inode number reused; copytruncate keeps
// the inode but rewrites the content), so the point also carries a hash of the file's first bytes.
import {createHash} from 'node:crypto';

/** Enough to include the first record's timestamp, which makes two log files' heads differ. */
export const HEAD_BYTES = 256;

export interface FilePosition {
  /** Decimal strings: inode numbers may exceed 2^53. */
  dev: string;
  ino: string;
  /** Where the next undelivered line starts (or, with skip, a point inside a line already delivered cut). */
  offset: number;
  /** Drop bytes up to the next newline first: they are the tail of a line delivered cut. */
  skip: boolean;
  /** min(HEAD_BYTES, bytes known to exist) and the SHA-256 (hex) of those first bytes. */
  headLen: number;
  head: string;
}

const TAG = 'file';
const VERSION = 1;

/** Always the same string for the same position: the store compares positions as strings. */
export function encodeFilePosition(p: FilePosition): string {
  return JSON.stringify({t: TAG, v: VERSION, dev: p.dev, ino: p.ino, offset: p.offset, skip: p.skip, headLen: p.headLen, head: p.head});
}

export function decodeFilePosition(s: string): FilePosition | null {
  let o: unknown;
  try {
    o = JSON.parse(s);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const r = o as Record<string, unknown>;
  if (r.t !== TAG || r.v !== VERSION) return null;
  const digits = (x: unknown): x is string => typeof x === 'string' && /^\d{1,40}$/.test(x);
  const count = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  if (!digits(r.dev) || !digits(r.ino) || !count(r.offset) || typeof r.skip !== 'boolean') return null;
  if (!count(r.headLen) || r.headLen > HEAD_BYTES) return null;
  if (typeof r.head !== 'string' || !/^[0-9a-f]{64}$/.test(r.head)) return null;
  return {dev: r.dev, ino: r.ino, offset: r.offset, skip: r.skip, headLen: r.headLen, head: r.head};
}

export function headHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Position of the stdin stream: informational only, since a pipe cannot be rewound. */
export function encodeStdinPosition(bytes: number): string {
  return JSON.stringify({t: 'stdin', v: VERSION, bytes});
}
