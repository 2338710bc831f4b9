// The compiled bridge (`bin/egress-advisor.js serve`) as a child process the fault suite can kill -9, and
// the readings the suite takes of it: what the store counted, its metrics, its peak memory.
import {spawn, type ChildProcess} from 'node:child_process';
import {appendFileSync, createWriteStream, existsSync, readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import Database from 'better-sqlite3';
import {Client} from 'pg';
import {waitFor} from '../bridge/helpers';

/** The repository: two folders up from test/faults under jest, three from lib/test/faults when compiled. */
export const ROOT = [resolve(__dirname, '..', '..'), resolve(__dirname, '..', '..', '..')].find(
  (d) => existsSync(join(d, 'package.json')) && existsSync(join(d, 'bin')),
)!;
const BIN = join(ROOT, 'bin', 'egress-advisor.js');

export class BridgeProcess {
  private child: ChildProcess | null = null;
  private peak = 0;
  private sampler: NodeJS.Timeout | null = null;
  /** Every start, so a figure can say how many there were. */
  starts = 0;

  constructor(
    readonly env: Record<string, string>,
    readonly port: number,
    /** The bridge's own log (stdout and stderr), all runs appended. */
    readonly logPath: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    const out = createWriteStream(this.logPath, {flags: 'a'});
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: {PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', EGRESS_ADVISOR_LISTEN: `127.0.0.1:${this.port}`, ...this.env},
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    this.child = child;
    this.starts += 1;
    this.sampler = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) this.peak = Math.max(this.peak, Number(m[1]) * 1024);
      } catch {
        // it ended
      }
    }, 50);
    await waitFor(
      'the bridge to answer /healthz',
      async () => (this.running ? (await fetch(`${this.url}/healthz`)).ok : Promise.reject(new Error('the bridge exited'))),
      {
        timeoutMs: 60_000,
        context: () => this.logTail(),
      },
    );
  }

  /** SIGKILL: no shutdown code runs, as when a node dies or the OOM killer strikes. */
  async kill9(): Promise<void> {
    await this.end('SIGKILL');
  }

  /** SIGTERM: the orderly stop Kubernetes asks for. */
  async stop(): Promise<void> {
    await this.end('SIGTERM');
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === null) return;
    if (this.running) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(signal);
      await exited;
    }
    if (this.sampler) clearInterval(this.sampler);
    this.child = null;
  }

  /** Peak resident memory of any run so far (the kernel's high-water mark, sampled). */
  get peakRssBytes(): number {
    return this.peak;
  }

  async metric(name: string): Promise<number | null> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let sum: number | null = null;
    for (const line of text.split('\n')) {
      if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  async readyz(): Promise<{status: number; body: {ready: boolean; reasons: string[]; degraded: string[]}}> {
    const r = await fetch(`${this.url}/readyz`);
    return {status: r.status, body: (await r.json()) as {ready: boolean; reasons: string[]; degraded: string[]}};
  }

  logTail(lines = 20): string {
    try {
      return `Last lines of ${this.logPath}:\n${readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`;
    } catch {
      return '';
    }
  }
}

/** Counts by finding key, read from the store the bridge writes. */
export type Counts = Map<string, number>;

export function sqliteCounts(dbPath: string): Counts {
  const db = new Database(dbPath, {readonly: true, fileMustExist: true});
  try {
    return new Map(
      db
        .prepare<[], {key: string; count: number}>('SELECT key, count FROM findings')
        .all()
        .map((r) => [r.key, r.count]),
    );
  } finally {
    db.close();
  }
}

export async function postgresCounts(url: string): Promise<Counts> {
  const c = new Client({connectionString: url});
  c.on('error', () => undefined);
  await c.connect();
  try {
    return new Map((await c.query<{key: string; count: string}>('SELECT key, count FROM findings')).rows.map((r) => [r.key, Number(r.count)]));
  } finally {
    await c.end();
  }
}

/** What was appended for each key, against what the store counted: lines lost and lines counted twice, never netted. */
export function compare(appended: Counts, counted: Counts): {lines: number; counted: number; lost: number; twice: number} {
  let lines = 0;
  let total = 0;
  let lost = 0;
  let twice = 0;
  for (const [key, n] of appended) {
    const c = counted.get(key) ?? 0;
    lines += n;
    total += c;
    if (c < n) lost += n - c;
    if (c > n) twice += c - n;
  }
  for (const [key, c] of counted) if (!appended.has(key)) twice += c;
  return {lines, counted: total, lost, twice};
}

export function sum(counts: Counts): number {
  let n = 0;
  for (const v of counts.values()) n += v;
  return n;
}

/** Appends lines in one write and records them per key. */
export function appendLines(file: string, appended: Counts, lines: readonly {key: string; line: string}[]): void {
  appendFileSync(file, lines.map((l) => `${l.line}\n`).join(''));
  for (const l of lines) appended.set(l.key, (appended.get(l.key) ?? 0) + 1);
}
