// A one-line progress indicator on stderr for long inputs, only when a person is watching (a terminal).

export interface ProgressFigures {
  bytes: number;
  lines: number;
  blocked: number;
}

const INTERVAL_MS = 250;

export function humanBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private name = '';
  private readonly started = Date.now();
  private shown = false;

  constructor(
    private readonly out: NodeJS.WritableStream & {isTTY?: boolean},
    private readonly figures: () => ProgressFigures,
  ) {
    if (out.isTTY) {
      this.timer = setInterval(() => this.draw(), INTERVAL_MS);
      this.timer.unref();
    }
  }

  input(name: string): void {
    this.name = name;
  }

  private draw(): void {
    const f = this.figures();
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const line =
      `scanning ${this.name}: ${humanBytes(f.bytes)}, ${f.lines.toLocaleString('en-US')} lines, ` +
      `${f.blocked.toLocaleString('en-US')} blocked (${humanBytes(f.bytes / secs)}/s)`;
    this.out.write(`\r\x1b[2K${line}`);
    this.shown = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.shown) this.out.write('\r\x1b[2K');
  }
}
