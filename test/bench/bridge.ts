// Bridge figures: lines per second from an appended log file to stored findings, and the time from a
// blocked line appended to its alert visible in a real Mattermost channel (digest window 0).
import {appendFileSync, createReadStream, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import pino from 'pino';
import {loadConfig} from '../../server/bridge/config';
import {startBridge, type Bridge} from '../../server/bridge/service';
import {startMattermost} from '../mattermost/harness';
import {generateLog} from './genlog';
import {mb} from './measure';

const row = (k: string, v: string): void => void process.stdout.write(`${k.padEnd(28)} ${v}\n`);

async function waitFor<T>(what: string, fn: () => Promise<T | null> | T | null, timeoutMs: number, everyMs = 10): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function rssSampler(): {stop(): number} {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  return {
    stop: () => {
      clearInterval(t);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

const quiet = pino({level: 'warn'});

export async function benchBridgeIngest(bytes = 256 * 1024 * 1024): Promise<void> {
  process.stdout.write('\n== bridge: appended log file to stored findings ==\n');
  const dir = mkdtempSync(join(tmpdir(), 'egress-bench-'));
  const source = join(dir, 'proxy.log');
  const prepared = join(dir, 'prepared.log');
  const g = await generateLog(prepared, bytes, 'quiet', 5_000);
  writeFileSync(source, '');
  const config = loadConfig({EGRESS_ADVISOR_SOURCES: `file:${source}`, EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'), EGRESS_ADVISOR_LISTEN: '127.0.0.1:0'});
  const bridge = await startBridge(config, quiet);
  const rss = rssSampler();
  try {
    const started = process.hrtime.bigint();
    // Appended in 4 MiB pieces, as a busy sidecar's log grows; the source reads while it grows.
    for await (const piece of createReadStream(prepared, {highWaterMark: 4 * 1024 * 1024})) appendFileSync(source, piece as Buffer);
    await waitFor('all lines stored', () => (bridge.sources[0].status().lines >= g.lines ? true : null), 600_000, 20);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const stored = await bridge.store.listFindings({limit: 100});
    row('lines', `${g.lines.toLocaleString('en-US')} (${mb(g.bytes)} MiB, ${g.blockedLines} blocked)`);
    row('time to stored findings', `${seconds.toFixed(2)} s`);
    row('throughput', `${(g.lines / seconds / 1000).toFixed(0)} k lines/s, ${(g.bytes / 1e6 / seconds).toFixed(0)} MB/s`);
    row('findings stored', `${stored.total} (attempts ${stored.items.reduce((n, f) => n + f.count, 0)})`);
    row('peak RSS (bench process)', `${mb(rss.stop())} MiB`);
  } finally {
    await bridge.stop();
    rmSync(dir, {recursive: true, force: true});
  }
}

export async function benchAlertLatency(runs = 5): Promise<void> {
  process.stdout.write('\n== bridge: blocked line appended → alert visible in a real Mattermost channel (digest 0) ==\n');
  const mm = await startMattermost();
  const dir = mkdtempSync(join(tmpdir(), 'egress-bench-'));
  const source = join(dir, 'proxy.log');
  writeFileSync(source, '');
  let bridge: Bridge | null = null;
  const rss = rssSampler();
  try {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const config = loadConfig({
      EGRESS_ADVISOR_SOURCES: `file:${source}`,
      EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'),
      EGRESS_ADVISOR_LISTEN: `127.0.0.1:${port}`,
      EGRESS_ADVISOR_PUBLIC_URL: `http://127.0.0.1:${port}`,
      EGRESS_ADVISOR_DIGEST_SECONDS: '0',
      MATTERMOST_URL: mm.url,
      MATTERMOST_TOKEN: mm.adminToken,
      EGRESS_ADVISOR_TEAM: mm.team.name,
    });
    bridge = await startBridge(config, quiet);
    const b = bridge;
    await waitFor('the admin channel', () => b.link?.channel ?? null, 60_000, 50);
    const channel = b.link!.channel!;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const before = Date.now();
      const host = `bench-${i}.example.com`;
      appendFileSync(
        source,
        `[${new Date().toISOString()}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 203.0.113.${i + 1}:443 10.42.1.17:4${i}000 ${host} -\n`,
      );
      await waitFor(
        `the alert for ${host}`,
        async () => ((await channel.postsSince(before - 1000)).some((p) => p.message.includes(host)) ? true : null),
        30_000,
        20,
      );
      times.push((Date.now() - before) / 1000);
    }
    const sorted = [...times].sort((a, b) => a - b);
    row('alert latency runs', times.map((t) => `${t.toFixed(2)} s`).join(', '));
    row('alert latency (median)', `${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s`);
    row('target: < 2 s', sorted[Math.floor(sorted.length / 2)] < 2 ? 'met' : 'MISSED');
    row('peak RSS (bench process)', `${mb(rss.stop())} MiB`);
  } finally {
    await bridge?.stop();
    await mm.stop();
    rmSync(dir, {recursive: true, force: true});
  }
}
