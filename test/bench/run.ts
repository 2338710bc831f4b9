// `npm run bench`: prints the figures the project's speed and memory goals are judged by. Figures are
// printed, never asserted: a slow machine must not turn the test suite red.
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {availableParallelism, loadavg} from 'node:os';
import {join, resolve} from 'node:path';
import {generateLog, type LogProfile} from './genlog';
import {benchRender5000} from '../browser/bench';
import {benchAlertLatency, benchBridgeIngest} from './bridge';
import {benchPluginHop} from './hop';
import {mb, measure, median} from './measure';

const ROOT = resolve(__dirname, '..', '..', '..');
const CACHE = join(ROOT, '.cache', 'bench');
const GENERATOR_VERSION = 2;
const TARGET_BYTES = Number(process.env.BENCH_LOG_BYTES ?? 1024 * 1024 * 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface LogMeta {
  version: number;
  targetBytes: number;
  lines: number;
  bytes: number;
  blockedLines: number;
}

async function ensureLog(profile: LogProfile): Promise<{path: string; meta: LogMeta}> {
  mkdirSync(CACHE, {recursive: true});
  const path = join(CACHE, `istio-proxy-${profile}-${TARGET_BYTES}.log`);
  const metaPath = `${path}.json`;
  if (existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as LogMeta;
    if (meta.version === GENERATOR_VERSION && statSync(path).size === meta.bytes) return {path, meta};
  }
  process.stdout.write(`generating a ${mb(TARGET_BYTES)} MiB ${profile} istio-proxy log in ${path} …\n`);
  const g = await generateLog(path, TARGET_BYTES, profile);
  const meta: LogMeta = {version: GENERATOR_VERSION, targetBytes: TARGET_BYTES, ...g};
  writeFileSync(metaPath, JSON.stringify(meta));
  return {path, meta};
}

async function benchScan(profile: LogProfile): Promise<void> {
  const {path, meta} = await ensureLog(profile);
  process.stdout.write(`\n== engine, ${profile} log: egress-advisor scan vs grep -c -F BlackHoleCluster ==\n`);
  const [load1] = loadavg();
  process.stdout.write(`machine: ${availableParallelism()} cores, load average ${load1.toFixed(2)} before the runs\n`);
  process.stdout.write(`log: ${mb(meta.bytes)} MiB, ${meta.lines.toLocaleString('en-US')} lines, ${meta.blockedLines} blocked lines\n`);
  // Warm the page cache so both commands read from memory, as a second grep would.
  await measure('cat', [path]);

  const grepTimes: number[] = [];
  const grepCpu: number[] = [];
  let grepCount = '';
  for (let i = 0; i < RUNS; i++) {
    const g = await measure('grep', ['-c', '-F', 'BlackHoleCluster', path], {keepStdout: true});
    grepTimes.push(g.seconds);
    grepCpu.push(g.cpuSeconds);
    grepCount = g.stdout.trim();
  }
  const scanTimes: number[] = [];
  const scanCpu: number[] = [];
  const peaks: number[] = [];
  let blocked = -1;
  let lines = -1;
  let destinations = -1;
  for (let i = 0; i < RUNS; i++) {
    const s = await measure(process.execPath, [join(ROOT, 'bin', 'egress-advisor.js'), 'scan', path, '--output', 'json', '--no-dns'], {keepStdout: true});
    if (s.code !== 0) throw new Error(`scan failed (${s.code}): ${s.stderr}`);
    scanTimes.push(s.seconds);
    scanCpu.push(s.cpuSeconds);
    peaks.push(s.peakRssBytes);
    const report = JSON.parse(s.stdout) as {summary: {lines: number; verdicts: {blocked: number}}; findings: unknown[]};
    blocked = report.summary.verdicts.blocked;
    lines = report.summary.lines;
    destinations = report.findings.length;
  }
  const grepT = median(grepTimes);
  const scanT = median(scanTimes);
  const peak = Math.max(...peaks);
  const ratio = scanT / grepT;
  const row = (k: string, v: string): void => void process.stdout.write(`${k.padEnd(28)} ${v}\n`);
  row('grep -c -F (median)', `${grepT.toFixed(3)} s  (${(meta.bytes / 1e6 / grepT).toFixed(0)} MB/s, count ${grepCount})`);
  row('scan (median)', `${scanT.toFixed(3)} s  (${(meta.bytes / 1e6 / scanT).toFixed(0)} MB/s, ${(meta.lines / scanT / 1e6).toFixed(2)} M lines/s)`);
  row('scan runs', scanTimes.map((t) => t.toFixed(3)).join(' s, ') + ' s');
  row('scan peak RSS', `${mb(peak)} MiB`);
  row('scan / grep time', `${ratio.toFixed(2)}x`);
  // The scan runs on up to two threads: its CPU time is the work, wall time is that work shared by cores.
  row('user+sys CPU (median)', `grep ${median(grepCpu).toFixed(2)} s, scan ${median(scanCpu).toFixed(2)} s (all threads)`);
  row('scan / grep CPU', `${(median(scanCpu) / median(grepCpu)).toFixed(2)}x`);
  row('lines counted', `${lines.toLocaleString('en-US')} (generated ${meta.lines.toLocaleString('en-US')})`);
  row('blocked lines found', `${blocked} (generated ${meta.blockedLines}), ${destinations} destinations`);
  row('load average after', loadavg()[0].toFixed(2));
  row('target: time <= 2x grep', ratio <= 2 ? 'met' : 'MISSED');
  row('target: peak RSS <= 100 MB', peak <= 100 * 1e6 ? 'met' : 'MISSED');
  if (lines !== meta.lines || blocked !== meta.blockedLines) process.stdout.write('WARNING: the scan did not count what was generated\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const sections: [string, () => Promise<void>][] = [
    ['scan', () => benchScan('quiet').then(() => benchScan('noisy'))],
    ['bridge', () => benchBridgeIngest()],
    ['alert', () => benchAlertLatency()],
    ['browser', () => benchRender5000().then(() => undefined)],
    ['hop', () => benchPluginHop()],
  ];
  for (const [name, fn] of sections) {
    if (only.length === 0 || only.includes(name)) await fn();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
