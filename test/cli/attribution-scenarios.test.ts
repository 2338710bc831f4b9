// Hardened Big Bang scenarios where the blocked lines carry no host: SNI names blocked 443 traffic, so what
// stays IP-only is SMTP, LDAP, search, webhooks on odd ports. Each scenario runs the real command on real
// files and checks that every destination the configuration can name is named, with its certainty and
// reason, and that the text, the JSON and the YAML agree.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {parse} from 'yaml';
import type {Finding} from '../../common/types';
import {main} from '../../server/cli/main';
import type {ScanReport} from '../../server/cli/scan';
import {blocked, HARDENED_CONFIG, HARDENED_WEBHOOKS, passthrough} from '../fixtures/hardened-scenario';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'egress-scenarios-'));
});
afterAll(() => rmSync(dir, {recursive: true, force: true}));

function file(name: string, content: string | object): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

async function cli(args: string[]): Promise<{code: number; out: string}> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.resume();
  const code = await main(['node', 'egress-advisor', ...args], {stdout, stderr});
  return {code, out};
}

const CONFIG = HARDENED_CONFIG;
const WEBHOOKS = HARDENED_WEBHOOKS;

async function scan(log: string[], extra: string[] = []): Promise<{report: ScanReport; text: string}> {
  const args = [
    'scan',
    file('proxy.log', log.join('\n') + '\n'),
    '--mattermost-config',
    file('config.json', CONFIG),
    '--webhooks',
    file('hooks.json', WEBHOOKS),
    '--no-dns',
    ...extra,
  ];
  const json = await cli([...args, '--output', 'json']);
  expect(json.code).toBe(0);
  const text = await cli(args);
  return {report: JSON.parse(json.out) as ScanReport, text: text.out};
}

const at = (report: ScanReport, port: number): Finding[] => report.findings.filter((f) => f.destination.port === port);

describe('a hardened cluster whose IP-only blocks are on the integrations’ own ports', () => {
  let report: ScanReport;
  let text: string;
  beforeAll(async () => {
    ({report, text} = await scan(
      [
        blocked(1, '52.94.8.12:587'),
        blocked(2, '52.94.9.40:587'),
        blocked(3, '18.253.7.9:636'),
        blocked(4, '3.30.1.2:8443'),
        blocked(5, '35.170.1.1:9200'),
        blocked(6, '104.18.7.192:443', 'api.openai.com'),
      ],
      ['--values', file('values.yaml', 'addons:\n  mattermost:\n    values:\n      routes:\n        outbound: {}\n')],
    ));
  });

  it('names the only integration on a port as likely, with the reason, and merges its addresses', () => {
    const smtp = at(report, 587);
    expect(smtp).toHaveLength(1);
    expect(smtp[0]).toMatchObject({key: 'email-smtp.us-gov-west-1.amazonaws.com:587', destination: {host: 'email-smtp.us-gov-west-1.amazonaws.com'}, count: 2});
    expect(smtp[0].attribution).toMatchObject({method: 'port', confidence: 'likely', candidates: ['email-smtp.us-gov-west-1.amazonaws.com']});
    expect(smtp[0].attribution.note).toMatch(/only switched-on integration .* on port 587/);
    expect(smtp[0].features.map((f) => f.id)).toEqual(['email-smtp']);
    expect(at(report, 636)[0]).toMatchObject({destination: {host: 'ldap.corp.example.mil'}, attribution: {method: 'port', confidence: 'likely'}});
  });

  it('lists several integrations on one port as candidates, naming none', () => {
    const hook = at(report, 8443);
    expect(hook).toHaveLength(1);
    expect(hook[0].destination.host).toBeNull();
    expect(hook[0].attribution).toMatchObject({method: 'port', confidence: 'ambiguous', candidates: ['builds.example.mil', 'tickets.example.mil']});
    expect(report.suggestion.plans.find((p) => p.key === hook[0].key)?.text).toContain('builds.example.mil, tickets.example.mil');
  });

  it('leaves a port no integration uses unnamed, and says how to name it', () => {
    expect(at(report, 9200)[0].attribution).toMatchObject({method: 'none', confidence: 'unknown', host: null});
  });

  it('names the feature behind a default host (an AI service with no API URL calls its provider)', () => {
    const ai = report.findings.find((f) => f.destination.host === 'api.openai.com');
    expect(ai?.features.map((f) => f.configPath)).toEqual(['PluginSettings.Plugins.mattermost-ai.config.services[0].serviceName']);
  });

  it('puts what is likely in the patch, with a comment that says why', () => {
    const hosts = report.suggestion.entries.flatMap((e) => e.hosts);
    expect(hosts).toEqual(expect.arrayContaining(['email-smtp.us-gov-west-1.amazonaws.com', 'ldap.corp.example.mil', 'api.openai.com']));
    // The webhooks sharing port 8443 are in the patch from the configuration (they will be blocked), never
    // from the address that could be either of them.
    const ipKey = at(report, 8443)[0].key;
    expect(report.suggestion.entries.filter((e) => e.covers.includes(ipKey))).toEqual([]);
    expect(report.suggestion.entries.find((e) => e.hosts.includes('tickets.example.mil'))?.covers).toEqual(['tickets.example.mil:8443']);
    const smtpEntry = report.suggestion.entries.find((e) => e.hosts.includes('email-smtp.us-gov-west-1.amazonaws.com'));
    expect(smtpEntry?.comment).toMatch(/Likely, not certain: no log line names the host; it is the only integration configured on port 587/);
    expect(report.suggestion.yaml).toContain('# Likely, not certain');
    expect(parse(report.suggestion.yaml)).toBeTruthy();
  });

  it('never calls the same integration both blocked-or-will-be and not named', () => {
    const items = report.integrations!.items;
    const smtp = items.find((i) => i.feature.id === 'email-smtp')!;
    expect(smtp.state).toBe('blocked');
    expect(smtp.findings.map((f) => f.key)).toEqual(['email-smtp.us-gov-west-1.amazonaws.com:587']);
    for (const hook of items.filter((i) => i.feature.id.startsWith('outgoing-webhook:'))) {
      expect(hook.state).toBe('will-be-blocked');
      expect(hook.detail).toContain('3.30.1.2:8443');
    }
    // In the text: the SMTP address is not "not named" anywhere, and SMTP is reported blocked.
    expect(text).not.toMatch(/52\.94\.8\.12:587\s+TCP/);
    expect(text).toMatch(/Email \(SMTP\).*blocked now/);
    expect(text).toMatch(/host: +email-smtp\.us-gov-west-1\.amazonaws\.com \(port, likely\)/);
  });
});

describe('the log is evidence', () => {
  it('under ALLOW_ANY, a passthrough line to a configured host makes it "will be blocked", not "not known"', async () => {
    const {report, text} = await scan([passthrough(1, '52.94.8.12:587'), passthrough(2, '104.18.7.192:443', 'api.openai.com')]);
    const smtp = report.integrations!.items.find((i) => i.feature.id === 'email-smtp')!;
    expect(smtp.state).toBe('will-be-blocked');
    expect(smtp.detail).toContain('PassthroughCluster');
    const ai = report.integrations!.items.find((i) => i.host === 'api.openai.com')!;
    expect(ai.state).toBe('will-be-blocked');
    expect(text).toMatch(/Email \(SMTP\).*will be blocked/);
    // With nothing seen and nothing known of the mesh, LDAP stays "not known".
    expect(report.integrations!.items.find((i) => i.feature.id === 'ldap')!.state).toBe('unknown');
  });
});
