/*
 * A small ustar writer: enough for a plugin bundle (directories and regular files with short
 * names), byte-for-byte reproducible for the same inputs and mtime. Mattermost unpacks the bundle
 * with Go's archive/tar, which reads this format.
 */
import {gzipSync} from 'node:zlib';

export interface TarEntry {
  /** Path inside the archive, '/'-separated; a directory ends with '/'. */
  name: string;
  /** File contents; absent for a directory. */
  data?: Buffer;
  /** Permission bits; default 0o644 for files, 0o755 for directories. */
  mode?: number;
}

const BLOCK = 512;

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: ${JSON.stringify(value)} does not fit in ${length} bytes`);
  bytes.copy(buf, offset);
}

/** An octal number field: zero-padded digits followed by a NUL, as ustar wants. */
function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new Error(`tar: ${value} does not fit in a ${length}-byte field`);
  writeString(buf, offset, length, digits.padStart(length - 1, '0') + '\0');
}

function header(entry: TarEntry, mtime: number): Buffer {
  const isDir = entry.name.endsWith('/');
  if (isDir && entry.data !== undefined) throw new Error(`tar: directory ${entry.name} cannot have data`);
  if (!isDir && entry.data === undefined) throw new Error(`tar: file ${entry.name} needs data`);
  if (entry.name.startsWith('/') || entry.name.split('/').includes('..')) throw new Error(`tar: unsafe name ${entry.name}`);
  const h = Buffer.alloc(BLOCK, 0);
  // Names up to 100 bytes fit in the name field; longer ones use the ustar prefix field.
  let name = entry.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - (isDir ? 2 : 1));
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
    if (cut <= 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`tar: name too long: ${entry.name}`);
  }
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, entry.mode ?? (isDir ? 0o755 : 0o644));
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, isDir ? 0 : entry.data!.length);
  writeOctal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  h[156] = (isDir ? '5' : '0').charCodeAt(0);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** The uncompressed archive. `mtime` is seconds since the epoch, the same for every entry. */
export function tar(entries: readonly TarEntry[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e, mtime));
    if (e.data !== undefined) {
      parts.push(e.data);
      const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(Buffer.alloc(pad, 0));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0));
  return Buffer.concat(parts);
}

export function tarGz(entries: readonly TarEntry[], mtime: number): Buffer {
  return gzipSync(tar(entries, mtime), {level: 9});
}

/**
 * The directories an archive needs before its files, each listed once, parents first: for
 * ['a/b/c.txt'] that is ['a/', 'a/b/'].
 */
export function parentDirectories(files: readonly string[]): string[] {
  const dirs: string[] = [];
  const seen = new Set<string>();
  for (const f of files) {
    const parts = f.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/') + '/';
      if (!seen.has(d)) {
        seen.add(d);
        dirs.push(d);
      }
    }
  }
  return dirs;
}
