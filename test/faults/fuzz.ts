// Hostile input at volume: fuzzed istio-proxy and Mattermost log lines (malformed, giant, not UTF-8, YAML and
// Markdown in host names, mentions, control characters) through the compiled bridge and through `scan`. What
// is measured: crashes, peak memory, and whether anything that would be posted (the alert's Markdown, its
// YAML) is garbage: a mention, link or HTML outside code, YAML that does not parse, a host in the YAML that is
// not a DNS name.
import {appendFileSync, createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync, type WriteStream} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseAllDocuments} from 'yaml';
import type {Finding} from '../../common/types';
import {suggest} from '../../server/engine/suggest';
import {renderAlert} from '../../server/present/alert';
import {openSqliteStore} from '../../server/store/sqlite';
import {measure} from '../bench/measure';
import {blockedHttp, blockedTls, outsideCode} from '../bridge/helpers';
import {ROOT} from './bridge-process';
import {home, mib, safeCounts, until, type Figures} from './scenarios';

/** Host names an attacker can put in SNI, :authority or a URL Mattermost calls. */
const HOSTILE_NAMES = [
  'a: b',
  '- item',
  '{x: 1}',
  '[a, b]',
  "'quoted'",
  '"dq"',
  '# comment',
  '&anchor',
  '*alias',
  '!!python/object',
  '---',
  '...',
  '? key',
  '| block',
  '> folded',
  '%YAML 1.1',
  '[x](http://evil.example)',
  '**bold**',
  '`code`',
  '```',
  '@channel',
  '@here',
  '@all',
  '<script>alert(1)</script>',
  '![img](http://evil.example/x.png)',
  'evil\u202etxt.example.com',
  'zero\u200bwidth.example.com',
  'tab\there.example.com',
  '*.wildcard.example.com',
  '*',
  'xn--80ak6aa92e.com',
  'ex\u00e4mple.com',
  'a..b.example.com',
  'trailing.dot.example.com.',
  '-leading-hyphen.example.com',
  'UPPER.Example.COM',
  '\u{1F4A3}.example.com',
  'x'.repeat(300) + '.example.com',
];

function pick<T>(xs: readonly T[], i: number): T {
  return xs[i % xs.length];
}

/** One fuzzed line; `i` chooses what kind, so a run is the same every time. */
function fuzzLine(i: number): string | Buffer {
  const kind = i % 20;
  const ip = `203.0.${(i >> 8) % 256}.${i % 256}`;
  const name = pick(HOSTILE_NAMES, i >> 4);
  switch (kind) {
    case 0:
    case 1:
    case 2:
      return blockedTls(ip, 443, name.replace(/\s/g, '_'));
    case 3:
      return blockedHttp(ip, name);
    case 4:
      return blockedTls(ip, 1 + (i % 65535), `h${i % 997}.example.com`);
    case 5:
      // Truncated in the middle.
      return blockedTls(ip, 443, `cut${i % 50}.example.com`).slice(0, 40 + (i % 120));
    case 6:
      return Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x20, 0x42, 0x6c, 0x61, 0x63, 0x6b, 0x48, 0x6f, 0x6c, 0x65]);
    case 7: {
      // A real line with invalid UTF-8 inside the SNI.
      const line = Buffer.from(blockedTls(ip, 443, `bin${i % 31}.example.com`));
      const at = line.indexOf('bin');
      if (at > 0) line[at] = 0xff;
      return line;
    }
    case 8:
      return '';
    case 9:
      return `${'\u0000\u0001\u001b[31m'.repeat(3)} BlackHoleCluster ${name} ${ip}:443`;
    case 10:
      return `{"timestamp":"2026-11-28 08:03:19.538 Z","level":"error","msg":"${name.replace(/"/g, '\\"')}","error":"Post \\"https://${name.replace(/"/g, '')}/x\\": dial tcp ${ip}:443: i/o timeout"}`;
    case 11:
      return '"- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - :::::: [::1:443 - -';
    default:
      return blockedTls(ip, 443, `ok${i % 40}.example.com`);
  }
}

/** Mattermost's own log, fuzzed: JSON lines whose URLs and errors carry hostile hosts, and junk. */
function fuzzAppLine(i: number): string {
  const name = pick(HOSTILE_NAMES, i);
  const ip = `198.51.${(i >> 8) % 256}.${i % 256}`;
  switch (i % 5) {
    case 0:
      return `[pod/mattermost-0/mattermost] {"timestamp":"2026-11-28 08:03:19.538 Z","level":"error","msg":"Unable to write the file.","error":"Put \\"https://${name.replace(/["\\]/g, '')}/k\\": dial tcp ${ip}:443: connect: connection refused"}`;
    case 1:
      return `[pod/mattermost-0/mattermost] {"timestamp":"2026-11-28 08:03:19.538 Z","level":"warn","msg":"address forbidden","url":"http://${name.replace(/["\\]/g, '')}/"}`;
    case 2:
      return `{"level":"error","msg":${JSON.stringify(name)},"error":${JSON.stringify(`dial tcp 10.0.0.1:1->${ip}:25: i/o timeout`)}}`;
    case 3:
      return '{"level":"error","msg":"unterminated';
    default:
      return `${name} ${'x'.repeat(i % 500)}`;
  }
}

async function write(out: WriteStream, chunk: string | Buffer): Promise<void> {
  if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
}

/** Writes `n` lines (a few giant ones among them, 2 MiB each) and returns how many bytes. */
async function writeFuzzLog(path: string, n: number, line: (i: number) => string | Buffer): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const l = i % 200_000 === 199_999 ? 'G'.repeat(2 * 1024 * 1024) : line(i);
    await write(out, l);
    await write(out, '\n');
    bytes += (typeof l === 'string' ? Buffer.byteLength(l) : l.length) + 1;
  }
  await new Promise<void>((r) => out.end(() => r()));
  return bytes;
}

const HOST_IN_YAML = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Every item of every `hosts` list (Big Bang routes, ServiceEntry spec), however deep, in every document. */
function hostsIn(v: unknown): unknown[] {
  if (Array.isArray(v)) return v.flatMap(hostsIn);
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => (k === 'hosts' && Array.isArray(x) ? x : hostsIn(x)));
}

/** Problems of what would be posted: Markdown outside code, YAML, hosts in the YAML. */
export function garbageIn(message: string, yaml: string): string[] {
  const problems: string[] = [];
  const prose = outsideCode(message);
  if (/@(channel|here|all)\b/i.test(prose)) problems.push('a mention outside code');
  if (/\]\(|<[a-z!/]/i.test(prose)) problems.push('a link or HTML outside code');
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(message)) problems.push('a control character');
  if (message.length > 16_383) problems.push('longer than a Mattermost post');
  if (yaml !== '') {
    const docs = parseAllDocuments(yaml);
    const all = Array.isArray(docs) ? docs : [];
    const errors = all.flatMap((d) => d.errors);
    if (!Array.isArray(docs)) problems.push('YAML that does not parse: an empty stream with errors');
    if (errors.length > 0) problems.push(`YAML that does not parse: ${errors[0].message}`);
    for (const h of errors.length === 0 ? all.flatMap((d) => hostsIn(d.toJS())) : []) {
      if (typeof h !== 'string' || !HOST_IN_YAML.test(h)) problems.push(`a host in the YAML that is not a DNS name: ${JSON.stringify(String(h).slice(0, 80))}`);
    }
  }
  return problems;
}

/** Renders every finding as alerts of five (the most that carry YAML) and collects what is wrong with them. */
export function checkAlerts(findings: readonly Finding[]): {alerts: number; problems: string[]} {
  const problems: string[] = [];
  let alerts = 0;
  for (let i = 0; i < findings.length; i += 5) {
    const group = findings.slice(i, i + 5);
    const s = suggest([...group], {format: 'bigbang'});
    const a = renderAlert({
      findings: [...group],
      plans: s.plans,
      suggestionYaml: s.yaml,
      format: 'bigbang',
      actionUrl: '/plugins/egress-advisor/mattermost/action',
      hmacKey: Buffer.alloc(32, 7),
      now: new Date(),
      digestId: `fuzz-${i}`,
    });
    alerts += 1;
    for (const p of garbageIn(a.message, a.props.egress_advisor.yaml)) problems.push(`alert ${alerts}: ${p}`);
  }
  return {alerts, problems};
}

export async function fuzz(n: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-faults-fuzz-'));
  try {
    const proxyLog = join(dir, 'fuzz-proxy.log');
    const appLog = join(dir, 'fuzz-app.log');
    const appLines = Math.max(1, Math.floor(n / 5));
    const proxyBytes = await writeFuzzLog(proxyLog, n, fuzzLine);
    await writeFuzzLog(appLog, appLines, fuzzAppLine);

    // The engine, through the command line.
    const scan = await measure(
      process.execPath,
      [join(ROOT, 'bin', 'egress-advisor.js'), 'scan', proxyLog, '--app-log', appLog, '--output', 'json', '--no-dns'],
      {
        keepStdout: true,
      },
    );
    let scanProblems: string[] = [`scan exited with ${scan.code}: ${scan.stderr.slice(0, 300)}`];
    let scanFindings = -1;
    if (scan.code === 0) {
      const report = JSON.parse(scan.stdout) as {findings: Finding[]; suggestion: {yaml: string}};
      scanFindings = report.findings.length;
      scanProblems = garbageIn('', report.suggestion.yaml);
    }

    // The compiled bridge, following the same lines as they are appended.
    const h = await home('fuzz');
    const end = blockedTls('192.0.2.99', 443, 'fuzz-end.example.com');
    writeFileSync(h.logFile, '');
    let alive = false;
    let ingestMs = -1;
    try {
      await h.bridge.start();
      const t0 = Date.now();
      for await (const piece of createReadStream(proxyLog, {highWaterMark: 4 * 1024 * 1024})) appendFileSync(h.logFile, piece as Buffer);
      appendFileSync(h.logFile, `${end}\n`);
      const db = join(h.dataDir, 'egress-advisor.db');
      await until('the last line counted', () => (safeCounts(db).get('fuzz-end.example.com:443') ?? 0) > 0, h, 600_000);
      ingestMs = Date.now() - t0;
      alive = h.bridge.running && (await fetch(`${h.bridge.url}/healthz`)).ok;
    } finally {
      await h.bridge.stop();
    }
    const store = openSqliteStore(join(h.dataDir, 'egress-advisor.db'));
    const findings = (await store.listFindings({limit: 5000})).items;
    const total = (await store.listFindings({limit: 1})).total;
    await store.close();
    const checked = checkAlerts(findings);
    rmSync(h.dir, {recursive: true, force: true});
    return {
      scenario: `${n.toLocaleString('en-US')} fuzzed access-log lines (${(proxyBytes / 1024 / 1024).toFixed(0)} MiB, ${Math.floor(n / 200_000)} of them 2 MiB long) and ${appLines.toLocaleString('en-US')} Mattermost-log lines`,
      rows: [
        ['scan: exit code', scan.code ?? 'killed'],
        ['scan: peak RSS', mib(scan.peakRssBytes)],
        ['scan: time', `${scan.seconds.toFixed(1)} s`],
        ['scan: destinations', scanFindings >= 0 ? scanFindings : {none: 'scan failed'}],
        ['scan: problems in the suggestion YAML', scanProblems.length],
        ['bridge: alive and healthy at the end', alive ? 'yes' : 'NO'],
        ['bridge: crashes (starts beyond the first)', h.bridge.starts - 1],
        ['bridge: peak RSS', mib(h.bridge.peakRssBytes)],
        ['bridge: time to read everything', ingestMs >= 0 ? `${(ingestMs / 1000).toFixed(1)} s` : {none: 'did not finish'}],
        ['bridge: findings stored', total],
        ['alerts rendered from them (5 destinations each)', checked.alerts],
        ['alerts with garbage (mention, link, HTML, control character, bad YAML, non-DNS host)', checked.problems.length],
        ...(checked.problems.length + scanProblems.length > 0
          ? ([['first problems', [...scanProblems, ...checked.problems].slice(0, 5).join(' | ')]] as [string, string][])
          : []),
      ],
    };
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}
