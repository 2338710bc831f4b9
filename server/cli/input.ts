// Reading inputs: files and stdin as byte chunks, with errors a person can act on.
import {open} from 'node:fs/promises';

const CHUNK = 4 * 1024 * 1024;

export class InputError extends Error {}

/** An input given for the wrong option (a --values file that is not values): wrong usage, exit 2. */
export class UsageError extends Error {}

export function describeInput(path: string): string {
  return path === '-' ? 'standard input' : path;
}

/**
 * Yields the input's bytes; buffers are reused between yields, so consumers must copy what they keep. Two
 * buffers alternate so the next read runs on the thread pool while the consumer works on the current one.
 */
export async function* readChunks(path: string): AsyncGenerator<Buffer> {
  if (path === '-') {
    for await (const chunk of process.stdin) yield chunk as Buffer;
    return;
  }
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let which = 0;
  let pending = handle.read(bufs[0], 0, CHUNK, null);
  try {
    for (;;) {
      const {bytesRead, buffer} = await pending;
      if (bytesRead === 0) return;
      which ^= 1;
      pending = handle.read(bufs[which], 0, CHUNK, null);
      yield bytesRead === CHUNK ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    // A consumer that stops early leaves one read in flight; let it land before closing the descriptor.
    await pending.catch(() => undefined);
    await handle.close();
  }
}

export async function readText(path: string, maxBytes = 64 * 1024 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of readChunks(path)) {
    size += chunk.length;
    if (size > maxBytes) throw new InputError(`${describeInput(path)} is larger than ${maxBytes} bytes`);
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts).toString('utf8');
}
