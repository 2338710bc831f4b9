// The streaming scan: bytes in, destination statistics out, in constant memory. The caller owns the I/O.
import {parseAccessLine} from './accesslog';
import {classifyRecord} from './classify';
import {FindingsFolder, type DestinationStats, type FoldLimits, DEFAULT_LIMITS} from './findings';
import {LineReader} from './lines';

/**
 * Layouts in which some blocked records carry none of the fast path's needles (Istio before 1.6 logged the
 * block route without a name; custom formats may drop the cluster). Seeing one switches the scan to parsing
 * every line.
 */
const EXHAUSTIVE_LAYOUTS = new Set([
  'ztunnel',
  'istio-1.3-1.7',
  'istio-1.2',
  'istio-1.1',
  'istio-1.1-pre',
  'istio-1.0-http',
  'istio-1.0-tcp',
  'envoy-default',
  'custom',
  'json-1.1-1.7',
]);

const PROBE_BYTES = 256 * 1024;

export interface ScanOptions {
  /** Parse every line instead of only those carrying a needle (slower; the default decides by itself). */
  exhaustive?: boolean;
  limits?: FoldLimits;
}

export class Scan {
  readonly folder: FindingsFolder;
  readonly layouts = new Map<string, number>();
  /** Lines that reached the parser. */
  parsed = 0;
  truncated = 0;
  private readonly reader: LineReader;
  private probing: boolean;

  constructor(opts: ScanOptions = {}) {
    this.folder = new FindingsFolder(opts.limits ?? DEFAULT_LIMITS);
    // The first chunk is always parsed in full: it tells which layouts the log uses.
    this.probing = !opts.exhaustive;
    this.reader = new LineReader((line, _n, truncated) => this.line(line, truncated), {interestingOnly: false});
  }

  get lines(): number {
    return this.reader.lines;
  }

  get bytes(): number {
    return this.reader.bytes;
  }

  get exhaustive(): boolean {
    return !this.reader.interestingOnly && !this.probing;
  }

  push(chunk: Buffer): void {
    if (this.probing) {
      // Parse only the head in full: enough lines to see the layout, few enough to cost nothing.
      const cut = chunk.length > PROBE_BYTES ? chunk.indexOf(10, PROBE_BYTES) + 1 : chunk.length;
      const head = cut > 0 ? chunk.subarray(0, cut) : chunk;
      this.reader.push(head);
      this.probing = false;
      this.reader.interestingOnly = !this.sawOldLayout;
      if (head.length < chunk.length) this.push(chunk.subarray(head.length));
      return;
    }
    this.reader.push(chunk);
    if (this.reader.interestingOnly && this.sawOldLayout) this.reader.interestingOnly = false;
  }

  end(): void {
    this.reader.end();
  }

  /** Hands over what was folded since the last drain and starts afresh: how a long-running tail batches. */
  drain(): DestinationStats[] {
    const stats = this.folder.stats();
    this.folder.byKey.clear();
    this.folder.overflow = 0;
    return stats;
  }

  private sawOldLayout = false;

  private line(line: string, truncated: boolean): void {
    this.parsed += 1;
    if (truncated) this.truncated += 1;
    const p = parseAccessLine(line);
    if (p.kind !== 'access') {
      this.folder.verdictCounts['not-access-log'] += 1;
      return;
    }
    const layout = p.record.layout;
    this.layouts.set(layout, (this.layouts.get(layout) ?? 0) + 1);
    if (EXHAUSTIVE_LAYOUTS.has(layout)) this.sawOldLayout = true;
    this.folder.add(classifyRecord(p.record), p.record, line);
  }
}
