// The egress-advisor command end to end: the shipped sample cluster (its expected findings are written down
// in server/sample/README.md), the classify contract, stdin, exit codes and hostile input.
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {parse, parseAllDocuments} from 'yaml';
import {SUGGESTION_FORMATS, VERDICTS, type ClassifiedLine, type Finding} from '../../common/types';
import {main} from '../../server/cli/main';
import type {ScanReport} from '../../server/cli/scan';
import {checkServiceEntrySpec} from '../../server/engine/suggest/validate';
import {readBack} from '../../server/engine/suggest/readback';
import {SAMPLE_ARGS, sample} from './sample';

const ROOT = join(__dirname, '..', '..');

async function cli(args: string[], terminal?: {columns: number}): Promise<{code: number; out: string; err: string}> {
  const stdout = Object.assign(new PassThrough(), terminal === undefined ? {} : {isTTY: true, columns: terminal.columns});
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(['node', 'egress-advisor', ...args], {stdout, stderr});
  return {code, out, err};
}

async function sampleReport(extra: string[] = []): Promise<ScanReport> {
  const r = await cli([...SAMPLE_ARGS, '--output', 'json', ...extra]);
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as ScanReport;
}

function byHost(findings: Finding[], host: string): Finding {
  const f = findings.find((x) => x.destination.host === host);
  if (!f) throw new Error(`no finding for ${host}: ${findings.map((x) => x.key).join(', ')}`);
  return f;
}

describe('scan on the sample cluster', () => {
  let report: ScanReport;
  beforeAll(async () => {
    report = await sampleReport();
  });

  it('counts every line of the log', () => {
    const lines = readFileSync(sample('istio-proxy.log'), 'utf8')
      .split('\n')
      .filter((l, i, a) => i < a.length - 1 || l !== '').length;
    expect(report.summary.lines).toBe(lines);
  });

  it('names the hosts behind the blocked connections and the features they break', () => {
    const f = report.findings;
    expect(byHost(f, 'push.mattermost.com')).toMatchObject({verdict: 'blocked', protocol: 'TLS', destination: {port: 443}});
    expect(byHost(f, 'push.mattermost.com').features.map((x) => x.configPath)).toContain('EmailSettings.PushNotificationServer');
    // IP-only S3 lines, named from Mattermost's own log of the same pod at the same moment.
    const s3 = byHost(f, 'bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com');
    expect(s3.attribution.method).toBe('app-log');
    expect(s3.features.map((x) => x.id)).toContain('file-storage');
    // IP-only SMTP lines, named through the configured host's addresses.
    const smtp = byHost(f, 'email-smtp.us-gov-west-1.amazonaws.com');
    expect(smtp).toMatchObject({verdict: 'blocked', protocol: 'TCP', destination: {port: 587}, count: 2});
    expect(smtp.attribution.method).toBe('dns');
    expect(byHost(f, 'deploybot.tools.example.mil')).toMatchObject({protocol: 'HTTP', destination: {port: 8080}});
    expect(byHost(f, 'deploybot.tools.example.mil').features[0].name).toMatch(/Outgoing webhook/);
  });

  it('tells a NetworkPolicy failure from a registry block', () => {
    const gh = byHost(report.findings, 'api.github.com');
    expect(gh.verdict).toBe('external-failed');
    expect(report.suggestion.plans.find((p) => p.key === gh.key)).toMatchObject({action: 'other-fix', text: expect.stringMatching(/NetworkPolicy/)});
    expect(report.suggestion.entries.flatMap((e) => e.hosts)).not.toContain('api.github.com');
  });

  it('explains the instance-metadata address instead of opening it', () => {
    const imds = report.findings.find((x) => x.destination.ip === '169.254.169.254');
    expect(imds).toBeDefined();
    expect(imds!.attribution.method).toBe('well-known');
    expect(report.suggestion.plans.find((p) => p.key === imds!.key)).toMatchObject({action: 'other-fix', text: expect.stringMatching(/instance.metadata/)});
    expect(report.suggestion.skipped.some((s) => s.host === '169.254.169.254')).toBe(true);
  });

  it('reports the hostile server name and never puts it in the YAML', () => {
    const hostile = report.findings.find((x) => x.rejectedHost !== undefined);
    expect(hostile?.rejectedHost?.printable).toContain('<script>');
    expect(report.suggestion.yaml).not.toMatch(/script|evil/);
  });

  it('suggests only what the values file lacks', () => {
    const hosts = report.suggestion.entries.flatMap((e) => e.hosts).sort();
    expect(hosts).toEqual([
      'bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com',
      'deploybot.tools.example.mil',
      'email-smtp.us-gov-west-1.amazonaws.com',
      // Configured, never called in this log, and not in the values: they will be blocked.
      'hooks.ops.example.mil',
      'plugins.releases.mattermost.com',
      'portal.internal.prod.cloud.mattermost.com',
      'push.mattermost.com',
      's3.us-gov-west-1.amazonaws.com',
      'sts.amazonaws.com',
      'sts.us-gov-west-1.amazonaws.com',
    ]);
    // gitlab.example.mil is already in routes.outbound.gitlab-sso; SMTP is allowed there on 465 only.
    expect(report.suggestion.skipped.find((s) => s.host === 'gitlab.example.mil')?.reason).toMatch(/gitlab-sso/);
    const smtp = report.suggestion.entries.find((e) => e.hosts.includes('email-smtp.us-gov-west-1.amazonaws.com'));
    expect(smtp?.ports).toEqual([{number: 587, name: 'tcp-587', protocol: 'TCP'}]);
  });

  it('prints YAML that Big Bang reads as routes.outbound and Istio accepts', () => {
    const doc = parse(report.suggestion.yaml) as {addons: {mattermost: {values: {routes: {outbound: Record<string, {hosts: string[]}>}}}}};
    const routes = doc.addons.mattermost.values.routes.outbound;
    const existing = Object.keys(
      (parse(readFileSync(sample('values.yaml'), 'utf8')) as {addons: {mattermost: {values: {routes: {outbound: object}}}}}).addons.mattermost.values.routes
        .outbound,
    );
    for (const name of Object.keys(routes)) expect(existing).not.toContain(name);
    const back = readBack(report.suggestion.yaml, 'bigbang');
    expect(back.errors).toEqual([]);
    for (const e of back.entries) expect(checkServiceEntrySpec(e.spec)).toEqual([]);
  });
});

describe('configured integrations on the sample cluster (server/sample/README.md)', () => {
  let report: ScanReport;
  beforeAll(async () => {
    report = await sampleReport();
  });
  const item = (host: string) => {
    const found = report.integrations?.items.find((i) => i.host === host);
    if (!found) throw new Error(`no integration ${host}: ${report.integrations?.items.map((i) => i.host).join(', ')}`);
    return found;
  };

  it('names the state of each: blocked in the log, allowed by the values, or will be blocked before any call failed', () => {
    expect(item('push.mattermost.com')).toMatchObject({state: 'blocked', enabled: true});
    // In the values, added after these lines were logged.
    expect(item('gitlab.example.mil')).toMatchObject({state: 'blocked'});
    expect(item('gitlab.example.mil').detail).toMatch(/although your values allow it \(.*gitlab-sso\)/);
    expect(item('notices.mattermost.com')).toMatchObject({state: 'allowed', allowedBy: expect.stringMatching(/mattermost-external$/)});
    // The second webhook was never called: known from the configuration alone.
    expect(item('hooks.ops.example.mil')).toMatchObject({state: 'will-be-blocked', findings: []});
    // Indexing is off: listed, and said to be switched off.
    const es = report.integrations?.items.find((i) => i.feature.configPath.startsWith('ElasticsearchSettings'));
    expect(es?.enabled).toBe(false);
  });

  it('one patch: the integrations that are or will be blocked first, then the log; each host once, nothing already allowed', () => {
    const {yaml, sections, entries} = report.suggestion;
    // Every blocked destination of the sample is a configured integration: the log adds no section of its own.
    expect(sections.map((x) => x.id)).toEqual(['integrations']);
    const hostsOf = (names: string[]) => names.flatMap((n) => entries.find((e) => e.name === n)?.hosts ?? []);
    // The webhook never called is known from the configuration alone; push is configured and in the log, and is there once.
    expect(hostsOf(sections[0].entries)).toEqual(expect.arrayContaining(['hooks.ops.example.mil', 'push.mattermost.com']));
    expect(yaml.match(/- push\.mattermost\.com\n/g)).toHaveLength(1);
    expect(yaml).not.toContain('notices.mattermost.com');
    const back = readBack(yaml, 'bigbang');
    expect(back.errors).toEqual([]);
    const hosts = back.entries.flatMap((e) => e.spec.hosts as string[]);
    expect(hosts.length).toBe(new Set(hosts).size);
    for (const e of back.entries) expect(checkServiceEntrySpec(e.spec)).toEqual([]);
  });

  it('prints them after the findings in the text output; without --mattermost-config there is no such section', async () => {
    const text = (await cli(SAMPLE_ARGS)).out;
    expect(text).toMatch(/Configured integrations \(switched on\):\n( {2}- .*\n)+/);
    expect(text).toMatch(/Outgoing webhook “Incident tracker” .*hooks\.ops\.example\.mil:443 will be blocked/);
    expect(text).toContain('Suggested ServiceEntries (bigbang format): add this to your values.\n');
    expect(text).toContain('# ==== Configured integrations that are or will be blocked ====');
    expect(text.match(/^addons:$/gm)).toHaveLength(1);
    const bare = await cli(['scan', sample('istio-proxy.log'), '--no-dns', '--output', 'json']);
    expect((JSON.parse(bare.out) as ScanReport).integrations).toBeNull();
  });
});

describe.each(SUGGESTION_FORMATS.map((f) => [f]))('format %s', (format) => {
  it('renders valid ServiceEntries for the sample', async () => {
    const r = await cli([...SAMPLE_ARGS, '--output', 'yaml', '--format', format]);
    expect(r.code).toBe(0);
    const back = readBack(r.out, format);
    expect(back.errors).toEqual([]);
    expect(back.entries.length).toBeGreaterThan(0);
    for (const e of back.entries) expect(checkServiceEntrySpec(e.spec)).toEqual([]);
    for (const d of parseAllDocuments(r.out)) expect(d.errors).toEqual([]);
  });
});

describe('classify', () => {
  it('writes one contract object per input line, in order', async () => {
    const r = await cli(['classify', sample('istio-proxy.log')]);
    expect(r.code).toBe(0);
    const rows = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ClassifiedLine);
    const inputLines = readFileSync(sample('istio-proxy.log'), 'utf8').replace(/\n$/, '').split('\n').length;
    expect(rows).toHaveLength(inputLines);
    rows.forEach((row, i) => {
      expect(Object.keys(row)).toEqual(['line', 'verdict', 'host', 'ip', 'port', 'protocol', 'reason']);
      expect(row.line).toBe(i + 1);
      expect(VERDICTS).toContain(row.verdict);
    });
    expect(new Set(rows.map((x) => x.verdict))).toEqual(new Set(['blocked', 'external-failed', 'external-ok', 'internal', 'not-access-log']));
  });

  it('keeps a hostile server name inside its JSON string', async () => {
    const r = await cli(['classify', join(ROOT, 'test', 'fixtures', 'access-logs', 'hostile.log')]);
    for (const line of r.out.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('exit codes and help', () => {
  it('3 for a missing input, with the file named', async () => {
    const r = await cli(['scan', '/nonexistent/proxy.log']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/cannot read \/nonexistent\/proxy.log: no such file/);
  });

  it('3 for a Mattermost configuration that is not JSON', async () => {
    const r = await cli(['scan', sample('istio-proxy.log'), '--mattermost-config', sample('values.yaml')]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/not valid JSON/);
  });

  it.each([
    ['/etc/passwd', 'plain text, not a mapping of values'],
    [sample('mattermost-config.json'), "Mattermost's configuration"],
    [join(ROOT, 'test', 'fixtures', 'mattermost', 'commands.json'), 'a list, not a mapping of values'],
  ])('2 for --values %s, which is not a values file, saying what was expected', async (file, why) => {
    const r = await cli(['scan', sample('istio-proxy.log'), '--values', file, '--output', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(`egress-advisor: --values ${file}: `);
    expect(r.err).toContain(why);
    expect(r.err).toMatch(/Expected a Big Bang umbrella values file .*, or ServiceEntry manifests\.\n$/);
  });

  it('takes values that register nothing (an empty istio section) as values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'values-'));
    const file = join(dir, 'values.yaml');
    writeFileSync(file, 'addons:\n  mattermost:\n    values:\n      istio: {}\n');
    const r = await cli(['scan', sample('istio-proxy.log'), '--values', file, '--output', 'json']);
    rmSync(dir, {recursive: true});
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as ScanReport).suggestion.yaml).toContain('routes:');
  });

  it('2 for a wrong option value', async () => {
    const r = await cli(['scan', '--format', 'helm']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Allowed choices are bigbang/);
  });

  it('1 with --exit-code when something is blocked, 0 otherwise', async () => {
    expect((await cli([...SAMPLE_ARGS, '--exit-code', '--output', 'yaml'])).code).toBe(1);
    expect((await cli(['scan', join(ROOT, 'test', 'fixtures', 'access-logs', 'non-access.log'), '--exit-code'])).code).toBe(0);
  });

  it('--help explains with a kubectl example and the exit codes', async () => {
    const r = await cli(['scan', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kubectl -n mattermost logs .* -c istio-proxy/);
    expect(r.out).toMatch(/Exit codes:/);
  });
});

describe('help at the terminal width', () => {
  const HELPS = [['--help'], ['scan', '--help'], ['classify', '--help'], ['serve', '--help']];
  // Lines that are commands to paste: never wrapped, and written to fit 80 columns.
  const isExample = (line: string): boolean => /^ {2}(#|kubectl|curl|egress-advisor|\{"line")|^ {3,4}(\||--|>|https:|"protocol")/.test(line);

  async function help(args: string[], columns?: number): Promise<string[]> {
    const r = await cli(args, columns === undefined ? undefined : {columns});
    expect(r.code).toBe(0);
    return r.out.trimEnd().split('\n');
  }

  test.each([40, 60, 80, 132])('at %i columns no line is wider, but for a word that cannot be broken', async (columns) => {
    for (const args of HELPS) {
      for (const line of await help(args, columns)) {
        // The usage line is commander's own, one line whatever the width.
        if (line.length <= columns || line.startsWith('Usage: ')) continue;
        if (isExample(line)) expect(line.length).toBeLessThanOrEqual(80);
        else expect(line.trim()).not.toMatch(/\s/);
      }
    }
  });

  test('not a terminal (a pipe, a file): 80 columns; a terminal: its own width is used', async () => {
    const piped = await help(['serve', '--help']);
    // (but for a word too long to fit: kubernetes:<namespace>?selector=app=mattermost, a URL)
    for (const line of piped.filter((l) => l.length > 80)) expect(line.trim()).not.toMatch(/\s/);
    expect(piped.some((l) => l.length > 70)).toBe(true);
    const wide = await help(['serve', '--help'], 160);
    expect(wide.some((l) => l.length > 100)).toBe(true);
    expect(wide.length).toBeLessThan(piped.length);
  });

  test('prose is one paragraph filled line by line: no break in mid-sentence before the line is full', async () => {
    for (const columns of [60, 80, 120]) {
      const lines = await help(['--help'], columns);
      const end = lines.indexOf('', 2);
      const paragraph = lines.slice(2, end);
      expect(paragraph.join(' ')).toMatch(/^Finds the outbound connections .* names the host and the Mattermost feature each one breaks, .* that allows it\.$/);
      paragraph.slice(0, -1).forEach((line, i) => {
        const next = paragraph[i + 1].split(' ')[0];
        expect(line.length + 1 + next.length).toBeGreaterThan(columns);
      });
      const serve = await help(['serve', '--help'], columns);
      const settings = serve.slice(serve.indexOf('Settings (environment variables):') + 1);
      // Each description line in the table starts in the description column (or under the name when narrow).
      for (const line of settings.slice(0, settings.indexOf(''))) expect(line).toMatch(/^ {2}[A-Z_]+( {2,}\S.*)?$|^ {6,}\S/);
    }
  });
});

describe('each command lists the exit codes it can give, and gives them', () => {
  const codesIn = (help: string): string[] => [...help.slice(help.indexOf('Exit codes:')).matchAll(/^ {2}(\d+) /gm)].map((m) => m[1]);

  test('classify never decides that something needs action: no 1, and 0, 2 and 3 as listed', async () => {
    expect(codesIn((await cli(['classify', '--help'])).out)).toEqual(['0', '2', '3', '70']);
    expect((await cli(['classify', '/nonexistent/proxy.log'])).code).toBe(3);
    expect((await cli(['classify', '--exit-code'])).code).toBe(2);
  });

  test('scan lists 1 for --exit-code', async () => {
    expect(codesIn((await cli(['scan', '--help'])).out)).toEqual(['0', '1', '2', '3', '70']);
  });

  test('repeatable options show no empty default, and repeat', async () => {
    expect((await cli(['scan', '--help'])).out).not.toContain('(default: [])');
    const r = await cli([
      'scan',
      sample('istio-proxy.log'),
      '--no-dns',
      '--output',
      'json',
      '--app-log',
      sample('mattermost.log'),
      '--app-log',
      sample('mattermost.log'),
    ]);
    expect(r.code).toBe(0);
  });
});

describe('the installed command', () => {
  it('finds the same with the file split across threads as in one pass', () => {
    const run = (threads: string): ScanReport => {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'egress-advisor.js'), ...SAMPLE_ARGS, '--output', 'json', '--threads', threads]);
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout.toString()) as ScanReport;
    };
    const one = run('1');
    const three = run('3');
    expect(three.summary.lines).toBe(one.summary.lines);
    expect(three.summary.verdicts).toEqual(one.summary.verdicts);
    const shape = (r: ScanReport) => r.findings.map((f) => [f.key, f.verdict, f.count, f.firstSeen, f.lastSeen, [...f.pods].sort()]).sort();
    expect(shape(three)).toEqual(shape(one));
    expect(three.suggestion.yaml).toBe(one.suggestion.yaml);
  });

  it('reads standard input from a pipe, as kubectl logs … | egress-advisor scan - does', () => {
    const input = readFileSync(sample('istio-proxy.log'));
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'egress-advisor.js'), 'scan', '-', '--output', 'json', '--no-dns'], {input});
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout.toString()) as ScanReport;
    expect(report.summary.inputs).toEqual(['standard input']);
    expect(report.summary.verdicts.blocked).toBeGreaterThan(0);
    expect(report.findings.some((f) => f.destination.host === 'push.mattermost.com')).toBe(true);
  });
});
