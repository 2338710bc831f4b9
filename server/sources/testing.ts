// Test support: a sink that records what it was given (and can be slowed or held), and a condition wait
// that fails with a useful message instead of hanging a test.
import {forEachLine} from './frame';
import type {SourceBatch, SourceNotice, SourceSink} from './types';

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export class RecordingSink implements SourceSink {
  readonly batches: SourceBatch[] = [];
  readonly lines: string[] = [];
  readonly notices: SourceNotice[] = [];
  /** The position of the last batch acknowledged, as a store would hold it. */
  position: string | null = null;
  outstanding = 0;
  maxOutstanding = 0;
  /** Called before a batch is acknowledged; may delay it or throw to reject it. */
  before: ((b: SourceBatch) => Promise<void> | void) | null = null;

  async batch(b: SourceBatch): Promise<void> {
    this.outstanding += 1;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    try {
      if (this.before !== null) await this.before(b);
      this.batches.push(b);
      forEachLine(b, (line) => this.lines.push(line));
      this.position = b.position;
    } finally {
      this.outstanding -= 1;
    }
  }

  notice(n: SourceNotice): void {
    this.notices.push(n);
  }

  codes(): string[] {
    return this.notices.map((n) => n.code);
  }

  /** Everything delivered, byte for byte. */
  bytes(): Buffer {
    return Buffer.concat(this.batches.map((b) => b.data));
  }
}

/** A promise and the function that resolves it. */
export function gate(): {promise: Promise<void>; open: () => void} {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return {promise, open};
}
