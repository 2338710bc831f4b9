// `scan` and the bridge run the same pipeline (server/engine/pipeline.ts): the same recorded lines, read once
// by the command and once through the bridge's ingest path into a real SQLite store, name every destination
// the same way. The access lines stand in for Envoy's (recorded shapes); Mattermost's log lines are the
// formats it writes.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import type {Finding} from '../../common/types';
import {AttributionState, Ingest} from '../../server/bridge/ingest';
import {readRefusals, REFUSALS_META} from '../../server/bridge/refusals';
import {main} from '../../server/cli/main';
import type {ScanReport} from '../../server/cli/scan';
import {buildDnsIndex} from '../../server/engine/attribute';
import {DnsHistory} from '../../server/engine/dnshistory';
import {tableResolver} from '../../server/engine/hostsfile';
import {buildInventory} from '../../server/engine/inventory';
import type {SourceBatch} from '../../server/sources/types';
import {openSqliteStore, type SqliteStore} from '../../server/store';
import type {StoredFinding} from '../../server/store/types';
import {blocked, HARDENED_CONFIG, HARDENED_WEBHOOKS, passthrough} from '../fixtures/hardened-scenario';

const ACCESS = [
  blocked(1, '52.94.8.12:587'), // the only integration on 587: likely SMTP
  blocked(2, '52.94.9.40:587'),
  blocked(3, '18.253.7.9:636'), // LDAP, likely
  blocked(4, '3.30.1.2:8443'), // two webhooks on 8443: candidates
  blocked(5, '35.170.1.1:9200'), // nothing on 9200
  blocked(6, '104.18.7.192:443', 'api.openai.com'), // SNI, the AI plugin's default host
  blocked(7, '198.51.100.7:443'), // the S3 bucket's address (DNS)
  blocked(8, '203.0.113.9:443'), // named by Mattermost's own log (dial tcp)
  blocked(9, '203.0.113.9:443'),
  blocked(10, '198.51.100.80:443', 'bad*.example.com'), // a wildcard from traffic: rejected
  passthrough(11, '52.94.8.12:587'),
  '2026-11-28T08:00:12.000Z not an access line',
];
const APP_LOG = [
  '{"timestamp":"2026-11-28 08:00:08.100 Z","level":"error","msg":"Failed to post to webhook","error":"Post \\"https://hooks.partner.example.org/in\\": dial tcp 203.0.113.9:443: i/o timeout"}',
  '{"timestamp":"2026-11-28 08:00:30.000 Z","level":"error","msg":"Unable to get embed","error":"Get \\"http://10.0.0.40/preview\\": address forbidden, you may need to set AllowedUntrustedInternalConnections to allow an integration access to your internal network"}',
  '{"timestamp":"2026-11-28 08:00:31.000 Z","level":"error","msg":"Unable to get embed","error":"Get \\"http://10.0.0.40/preview\\": address forbidden, you may need to set AllowedUntrustedInternalConnections to allow an integration access to your internal network"}',
];

const CONFIG = {
  ...HARDENED_CONFIG,
  FileSettings: {DriverName: 'amazons3', AmazonS3Bucket: 'bucket', AmazonS3Endpoint: 'bucket.s3.example.com', AmazonS3SSL: true},
};
const WEBHOOKS = HARDENED_WEBHOOKS;
const S3_HOST = 'bucket.s3.example.com';
const S3_IP = '198.51.100.7';

let dir: string;
let store: SqliteStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'egress-parity-'));
  store = openSqliteStore(join(dir, 'store.db'));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, {recursive: true, force: true});
});

function file(name: string, content: string | object): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

async function scanJson(): Promise<ScanReport> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.resume();
  const args = ['scan', file('proxy.log', ACCESS.join('\n') + '\n'), '--app-log', file('mattermost.log', APP_LOG.join('\n') + '\n')];
  args.push('--mattermost-config', file('config.json', CONFIG), '--webhooks', file('hooks.json', WEBHOOKS));
  args.push('--no-dns', '--resolve', `${S3_HOST}:${S3_IP}`, '--output', 'json');
  const code = await main(['node', 'egress-advisor', ...args], {stdout, stderr});
  expect(code).toBe(0);
  return JSON.parse(out) as ScanReport;
}

function batch(id: string, log: 'proxy' | 'app', lines: string[], n: number): SourceBatch {
  return {
    sourceId: id,
    stream: {id, log, origin: id},
    data: Buffer.from(lines.join('\n') + '\n'),
    lines: lines.length,
    cut: [],
    unterminated: false,
    from: n === 0 ? null : `p${n}`,
    position: `p${n + 1}`,
  };
}

/** The bridge's way: inventory and DNS history as service.ts keeps them, Mattermost's log first, then the proxy's. */
async function throughBridge(): Promise<StoredFinding[]> {
  const attribution = new AttributionState();
  // As the API answers them: JSON, checked by buildInventory itself.
  const inv = buildInventory(CONFIG, {outgoingWebhooks: JSON.parse(JSON.stringify(WEBHOOKS)) as []});
  attribution.inventory = inv.endpoints;
  attribution.dnsIndex = await buildDnsIndex(
    inv.endpoints.filter((e) => /^[\d.]+$/.test(e.host)),
    tableResolver(new Map(), null),
  );
  const history = new DnsHistory();
  history.record(S3_HOST, [{address: S3_IP, ttlSeconds: 3600}], Date.parse('2026-11-28T07:59:00Z'));
  attribution.dnsAt = (ip, timesMs) => history.hostsAt(ip, timesMs);
  const ingest = new Ingest(
    store,
    attribution,
    () => 60,
    () => undefined,
  );
  await ingest.batch(batch('app', 'app', APP_LOG, 0));
  // Two batches, as a source delivers a growing log: the store's merge must fold them as the scan's fold does.
  await ingest.batch(batch('proxy', 'proxy', ACCESS.slice(0, 5), 0));
  await ingest.batch(batch('proxy', 'proxy', ACCESS.slice(5), 1));
  return (await store.listFindings({limit: 1000})).items;
}

/**
 * What a finding says to an administrator, without the store's own bookkeeping. A DNS note says which
 * evidence there was: the command made one lookup ("is an address of"), the bridge kept the answers of the
 * blocked line's moment ("was an address of … when"); the test below checks both name the same host.
 */
function said(f: Finding): object {
  const attribution = f.attribution.method === 'dns' ? {...f.attribution, note: '(checked apart)'} : f.attribution;
  return {
    key: f.key,
    destination: f.destination,
    verdict: f.verdict,
    protocol: f.protocol,
    count: f.count,
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
    pods: f.pods,
    attribution,
    features: f.features,
    rejectedHost: f.rejectedHost,
  };
}

describe('the same lines through scan and through the bridge', () => {
  let cli: ScanReport;
  let bridge: StoredFinding[];
  beforeAll(async () => {
    cli = await scanJson();
    bridge = await throughBridge();
  });

  it('make the same findings, named the same way', () => {
    const byKey = (fs: Finding[]) => [...fs].sort((a, b) => a.key.localeCompare(b.key)).map(said);
    expect(byKey(bridge)).toEqual(byKey(cli.findings));
  });

  it('differ only in what the DNS evidence was: one lookup, or the answers of that moment', () => {
    const note = (fs: Finding[]) => fs.find((f) => f.key === `${S3_HOST}:443`)?.attribution.note;
    expect(note(cli.findings)).toBe(`${S3_IP} is an address of ${S3_HOST}, which the Mattermost configuration uses for File storage (S3-compatible).`);
    expect(note(bridge)).toBe(
      `${S3_IP} was an address of ${S3_HOST} when the connection was blocked, which the Mattermost configuration uses for File storage (S3-compatible).`,
    );
  });

  it('report the same calls Mattermost refused itself, with the setting to change', async () => {
    expect(cli.mattermostRefusals).toHaveLength(1);
    expect(cli.mattermostRefusals[0]).toMatchObject({url: 'http://10.0.0.40/preview', host: '10.0.0.40', count: 2});
    expect(cli.mattermostRefusals[0].advice).toContain('ServiceSettings.AllowedUntrustedInternalConnections');
    const kept = readRefusals(await store.getMeta(REFUSALS_META));
    expect(kept.map(({url, host, count, advice}) => ({url, host, count, advice}))).toEqual(
      cli.mattermostRefusals.map(({url, host, count, advice}) => ({url, host, count, advice})),
    );
  });

  it('cover every way of naming a destination (so the comparison above means something)', () => {
    const method = (key: string) => cli.findings.find((f) => f.key === key)?.attribution.method;
    expect(method('email-smtp.us-gov-west-1.amazonaws.com:587')).toBe('port');
    expect(method('api.openai.com:443')).toBe('sni');
    expect(method(`${S3_HOST}:443`)).toBe('dns');
    expect(method('hooks.partner.example.org:443')).toBe('app-log');
    expect(cli.findings.find((f) => f.key === '3.30.1.2:8443')?.attribution.confidence).toBe('ambiguous');
    expect(cli.findings.some((f) => f.rejectedHost !== undefined)).toBe(true);
    expect(cli.findings.some((f) => f.verdict === 'passthrough')).toBe(true);
  });
});
