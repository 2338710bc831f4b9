// The few file-system questions the file source asks, each answered with plain data, so that the follow
// logic reads as decisions rather than syscalls.
import {promises as fs} from 'node:fs';
import type {FileHandle} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import {HEAD_BYTES, headHash} from './position';

export interface OpenFile {
  fh: FileHandle;
  /** The name it was opened or found under, and the name after symlinks (where rotation renames it). */
  name: string;
  realName: string;
  dev: string;
  ino: string;
  /** Bytes consumed so far: the next read starts here. */
  offset: number;
  /** The first bytes seen (up to HEAD_BYTES) and their hash, which goes into positions. */
  headBytes: Buffer;
  head: string;
  /** When the path was first seen naming another file (or none, the file deleted): the grace starts. */
  supersededAt: number | null;
}

export interface Identity {
  dev: string;
  ino: string;
  size: number;
  /** Hard links left; 0 once the file was deleted while open. */
  nlink: number;
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** null when nothing is there. Positional reads need a regular file, so anything else is an error. */
export async function openFile(name: string): Promise<OpenFile | null> {
  let fh: FileHandle;
  try {
    fh = await fs.open(name, 'r');
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  try {
    const st = await fh.stat({bigint: true});
    if (!st.isFile()) throw new Error(`${name} is not a regular file`);
    let realName = name;
    try {
      realName = await fs.realpath(name);
    } catch {
      // Renamed between open and realpath: the name we opened is as good for status and watching.
    }
    return {
      fh,
      name,
      realName,
      dev: st.dev.toString(),
      ino: st.ino.toString(),
      offset: 0,
      headBytes: Buffer.alloc(0),
      head: headHash(Buffer.alloc(0)),
      supersededAt: null,
    };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

export async function identityOfHandle(fh: FileHandle): Promise<Identity> {
  const st = await fh.stat({bigint: true});
  return {dev: st.dev.toString(), ino: st.ino.toString(), size: Number(st.size), nlink: Number(st.nlink)};
}

/** What the path names now; null when nothing. */
export async function identityOfPath(name: string): Promise<Identity | null> {
  try {
    const st = await fs.stat(name, {bigint: true});
    return {dev: st.dev.toString(), ino: st.ino.toString(), size: Number(st.size), nlink: Number(st.nlink)};
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/** Reads up to length bytes at position; fewer only at the end of the file. */
export async function readAt(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const {bytesRead} = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/**
 * False when the file no longer starts with the bytes seen before: it was truncated and written again
 * (copytruncate), possibly past the offset already, which its size alone cannot tell. While the file is
 * shorter than HEAD_BYTES, the remembered head grows with it.
 */
export async function verifyHead(f: OpenFile): Promise<boolean> {
  const now = await readAt(f.fh, HEAD_BYTES, 0);
  const known = f.headBytes;
  if (now.length < known.length || !now.subarray(0, known.length).equals(known)) return false;
  if (now.length > known.length) {
    f.headBytes = Buffer.from(now);
    f.head = headHash(f.headBytes);
  }
  return true;
}

/** Forgets the head, for a file that is read again from its start. */
export function forgetHead(f: OpenFile): void {
  f.headBytes = Buffer.alloc(0);
  f.head = headHash(f.headBytes);
}

export async function headMatches(fh: FileHandle, headLen: number, head: string): Promise<boolean> {
  if (headLen === 0) return true;
  const bytes = await readAt(fh, headLen, 0);
  return bytes.length === headLen && headHash(bytes) === head;
}

/**
 * Where a tail -f would start: after the last complete line, so that the partial line being written is
 * read whole once its newline arrives. When that line is longer than the window, start at the end and
 * skip the rest of it.
 */
export async function lineAlignedEnd(fh: FileHandle, size: number, window: number): Promise<{offset: number; skip: boolean}> {
  if (size === 0) return {offset: 0, skip: false};
  const from = Math.max(0, size - window);
  const tail = await readAt(fh, size - from, from);
  const nl = tail.lastIndexOf(10);
  if (nl >= 0) return {offset: from + nl + 1, skip: false};
  if (from === 0) return {offset: 0, skip: false};
  return {offset: size, skip: true};
}

const MAX_CANDIDATES = 1000;

/**
 * The file with this identity among the rotated siblings of name (logrotate's name.1 and name-DATE,
 * the kubelet's 0.log.TIMESTAMP): the file a stopped source was reading before it was renamed.
 */
export async function findRenamed(names: readonly string[], dev: string, ino: string): Promise<string | null> {
  for (const name of names) {
    const dir = dirname(name);
    const base = basename(name);
    let entries: string[];
    try {
      entries = await fs.readdir(dir);
    } catch {
      continue;
    }
    const candidates = entries.filter((e) => e !== base && e.startsWith(base)).slice(0, MAX_CANDIDATES);
    for (const e of candidates) {
      const full = join(dir, e);
      const id = await identityOfPath(full).catch(() => null);
      if (id !== null && id.ino === ino && id.dev === dev) return full;
    }
  }
  return null;
}
