// The container-log half of the fake API server: what the kubelet serves behind
// GET /api/v1/namespaces/<ns>/pods/<pod>/log. Lines are kept with the stamp the container runtime gave them;
// timestamps=true puts it in front of each line as the kubelet writes it (RFC 3339, nine digits, a space);
// sinceTime keeps only whole seconds, as the API server passes it on; follow=true keeps the response open
// and writes new lines as they come, waiting for 'drain' whenever the socket is full, so a client that stops
// reading stops the writer.
import type {ServerResponse} from 'node:http';
import {formatTime, parseTime, type LogTime} from '../timestamp';
import {fixture, type Json} from './fixtures';

export interface LogLine {
  ts: string;
  text: string;
}

interface Follower {
  res: ServerResponse;
  timestamps: boolean;
  queue: Buffer[];
  pumping: boolean;
}

interface ContainerLogState {
  lines: LogLine[];
  followers: Set<Follower>;
}

export class FakeLogs {
  /** Bytes written to log responses, and how often a write had to wait for the socket to drain. */
  readonly stats = {bytesWritten: 0, drainWaits: 0, waitingForDrain: 0};
  private readonly state = new Map<string, ContainerLogState>();
  private clock: LogTime = {sec: Date.UTC(2026, 2, 2, 9, 0, 0) / 1000, nanos: 0};

  constructor(private readonly pod: (namespace: string, name: string) => Json | undefined) {}

  /**
   * Appends lines; each gets the next stamp of the log clock (stepMs apart, default 100, so ten lines share
   * a second), or the stamp given, which lets several lines share one exact time.
   */
  append(key: string, lines: readonly string[], opts: {stepMs?: number; at?: string} = {}): LogLine[] {
    const s = this.of(key);
    const out: LogLine[] = [];
    for (const text of lines) {
      const ts = opts.at ?? this.tick(opts.stepMs ?? 100);
      const line = {ts, text};
      s.lines.push(line);
      out.push(line);
      for (const f of s.followers) this.write(f, render(line, f.timestamps));
    }
    return out;
  }

  /** Appends the line, sends followers only its first `bytes` bytes, then breaks their connections. */
  appendAndBreak(key: string, text: string, bytes: number): void {
    const s = this.of(key);
    const line = {ts: this.tick(100), text};
    s.lines.push(line);
    for (const f of [...s.followers]) {
      const whole = render(line, f.timestamps);
      s.followers.delete(f);
      f.res.write(whole.subarray(0, Math.min(bytes, whole.length - 1)), () => f.res.socket?.destroy());
    }
  }

  followers(key: string): number {
    return this.of(key).followers.size;
  }

  lines(key: string): LogLine[] {
    return this.of(key).lines;
  }

  destroyAll(): void {
    for (const s of this.state.values()) for (const f of s.followers) f.res.destroy();
  }

  serve(res: ServerResponse, namespace: string, podName: string, q: URLSearchParams, refuse: (status: Json) => void): void {
    const pod = this.pod(namespace, podName);
    if (pod === undefined) return refuse(fixture('status-pod-not-found.json', {pod: podName}));
    const container = q.get('container') ?? '';
    const spec = pod.spec as {containers?: {name: string}[]; initContainers?: {name: string}[]};
    const names = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name);
    if (!names.includes(container)) return refuse(fixture('status-container-not-valid.json', {container, pod: podName}));
    const statuses = ((pod.status as Json | undefined)?.containerStatuses ?? []) as {name: string; state?: Json}[];
    const state = statuses.find((s) => s.name === container)?.state ?? {};
    if (state.running === undefined && state.terminated === undefined) return refuse(fixture('status-container-waiting.json', {container, pod: podName}));
    const s = this.of(`${namespace}/${podName}/${container}`);
    const timestamps = q.get('timestamps') === 'true';
    let since: LogTime | null = null;
    const sinceTime = q.get('sinceTime');
    if (sinceTime !== null) {
      const t = parseTime(sinceTime);
      if (t === null)
        return refuse({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `invalid sinceTime ${sinceTime}`,
          reason: 'BadRequest',
          code: 400,
        });
      // The API server keeps whole seconds of sinceTime on its way to the kubelet.
      since = {sec: t.sec, nanos: 0};
    }
    const sinceSeconds = q.get('sinceSeconds');
    if (sinceSeconds !== null) since = {sec: this.clock.sec - Number(sinceSeconds), nanos: this.clock.nanos};
    res.writeHead(200, {'content-type': 'text/plain', 'transfer-encoding': 'chunked'});
    res.flushHeaders();
    const f: Follower = {res, timestamps, queue: [], pumping: false};
    const backlog = s.lines.filter((l) => since === null || !before(parseTime(l.ts), since));
    for (let i = 0; i < backlog.length; i += 512) this.write(f, Buffer.concat(backlog.slice(i, i + 512).map((l) => render(l, timestamps))));
    if (q.get('follow') !== 'true') {
      void this.drained(f).then(() => res.end());
      return;
    }
    s.followers.add(f);
    res.on('close', () => s.followers.delete(f));
  }

  private write(f: Follower, data: Buffer): void {
    f.queue.push(data);
    if (!f.pumping) void this.pump(f);
  }

  private async pump(f: Follower): Promise<void> {
    f.pumping = true;
    while (f.queue.length > 0 && !f.res.destroyed) {
      const data = f.queue.shift() as Buffer;
      this.stats.bytesWritten += data.length;
      if (!f.res.write(data)) {
        this.stats.drainWaits += 1;
        this.stats.waitingForDrain += 1;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            f.res.off('drain', done);
            f.res.off('close', done);
            resolve();
          };
          f.res.on('drain', done);
          f.res.on('close', done);
        });
        this.stats.waitingForDrain -= 1;
      }
    }
    f.pumping = false;
  }

  private async drained(f: Follower): Promise<void> {
    while (f.pumping) await new Promise((r) => setTimeout(r, 5));
  }

  private tick(stepMs: number): string {
    const nanos = this.clock.nanos + Math.round(stepMs * 1e6);
    this.clock = {sec: this.clock.sec + Math.floor(nanos / 1e9), nanos: nanos % 1e9};
    return formatTime(this.clock);
  }

  private of(key: string): ContainerLogState {
    let s = this.state.get(key);
    if (s === undefined) {
      s = {lines: [], followers: new Set()};
      this.state.set(key, s);
    }
    return s;
  }
}

function render(l: LogLine, timestamps: boolean): Buffer {
  return Buffer.from(timestamps ? `${l.ts} ${l.text}\n` : `${l.text}\n`);
}

function before(t: LogTime | null, since: LogTime): boolean {
  return t !== null && (t.sec < since.sec || (t.sec === since.sec && t.nanos < since.nanos));
}
