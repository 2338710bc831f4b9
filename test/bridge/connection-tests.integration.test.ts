/*
 * Mattermost's own connection tests, run by the bridge against the real Mattermost server (see
 * test/mattermost/harness.ts), with real servers on loopback behind the integrations: S3 is s3rver (an S3
 * REST implementation in Node), SMTP is smtp-server. Mattermost reaches them by this machine's host name,
 * which /etc/hosts maps to loopback: a name, so that the bridge has a configured host to name an IP-only
 * blocked line with. Stand-ins, said here: the istio-proxy log is a file the test appends recorded-format
 * BlackHoleCluster lines to, and the sidecar's drop is the S3 server being stopped (its address unreachable).
 */
import {lookup} from 'node:dns/promises';
import {hostname} from 'node:os';

import type {Client4} from '@mattermost/client';
import type {Channel} from '@mattermost/types/channels';

import {API_BASE_PATH, type FindingDetail, type IntegrationsResponse} from '../../common/api';
import type {ConnectionTestResponse, ConnectionTestResult} from '../../common/connection-tests';
import {allFindings} from '../../server/bridge/pages';
import {startMattermost, type MattermostServer} from '../mattermost/harness';
import {ensureBuiltPlugin, installPlugin} from '../mattermost/plugin';
import {BRIDGE_URL_KEY, ourSettings} from '../../server/mattermost/plugin-settings';
import {LoopbackS3, LoopbackSmtp, S3_ACCESS_KEY, S3_SECRET_KEY} from '../support/loopback-servers';
import pino from 'pino';
import {resolvedUpdate} from '../../server/bridge/alerts';
import {MeshLink} from '../../server/bridge/mesh-link';
import {computeAllowances, type MeshAllowances, type MeshWatcher} from '../../server/mesh';
import {BridgeRunner, alertPosts, blockedTls, channelPosts, passthroughTcp, repliesTo, waitFor} from './helpers';

jest.setTimeout(240_000);

const HOST = hostname();
const BUCKET = 'mattermost-files';
const INTERVAL_SECONDS = 4;
/** An address no configured host resolves to: only the test's window can name it. */
const IP_ONLY = '203.0.113.50';

let mm: MattermostServer;
let runner: BridgeRunner;
let s3: LoopbackS3;
let smtp: LoopbackSmtp;
let townSquare: Channel;

async function slash(client: Client4, command: string): Promise<string> {
  const res = (await client.executeCommand(command, {channel_id: townSquare.id, team_id: mm.team.id} as Parameters<Client4['executeCommand']>[1])) as {
    response_type?: string;
    text?: string;
  };
  expect(res.response_type).toBe('ephemeral');
  // Read as a person sees it: Markdown escapes and the zero-width spaces that stop auto-linking taken out.
  return (res.text ?? '').replace(/\\(.)/g, '$1').replace(/\u200b/g, '');
}

function history(): Promise<ConnectionTestResult[]> {
  return runner.running.store.listConnectionTests({limit: 1000});
}

const context = (): string => `${runner.bridgeLogTail(40)}\nMattermost:\n${mm.logTail(20)}`;

beforeAll(async () => {
  // The stand-in needs a host name that leads to loopback without DNS: the machine's own, from /etc/hosts.
  const resolved = await lookup(HOST, {family: 4});
  if (!resolved.address.startsWith('127.')) throw new Error(`${HOST} resolves to ${resolved.address}, not loopback: these tests need it in /etc/hosts`);
  s3 = new LoopbackS3(BUCKET);
  await s3.start();
  smtp = new LoopbackSmtp();
  await smtp.start();
  mm = await startMattermost({
    env: {
      MM_FILESETTINGS_DRIVERNAME: 'amazons3',
      MM_FILESETTINGS_AMAZONS3ENDPOINT: `${HOST}:${s3.port}`,
      MM_FILESETTINGS_AMAZONS3BUCKET: BUCKET,
      MM_FILESETTINGS_AMAZONS3ACCESSKEYID: S3_ACCESS_KEY,
      MM_FILESETTINGS_AMAZONS3SECRETACCESSKEY: S3_SECRET_KEY,
      MM_FILESETTINGS_AMAZONS3REGION: 'us-east-1',
      MM_FILESETTINGS_AMAZONS3SSL: 'false',
      MM_EMAILSETTINGS_SMTPSERVER: HOST,
      MM_EMAILSETTINGS_SMTPPORT: String(smtp.port),
      MM_EMAILSETTINGS_CONNECTIONSECURITY: '',
      MM_EMAILSETTINGS_ENABLESMTPAUTH: 'false',
      MM_EMAILSETTINGS_FEEDBACKEMAIL: 'mattermost@example.com',
    },
  });
  // /egress and the page reach the bridge through the plugin.
  await installPlugin(mm, ensureBuiltPlugin());
  townSquare = await mm.client().getChannelByName(mm.team.id, 'town-square');
  runner = await BridgeRunner.create({
    mattermostUrl: mm.url,
    token: mm.adminToken,
    team: mm.team.name,
    digestSeconds: 1,
    updateSeconds: 2,
    start: {mattermostCheckMs: 1_000, inventoryMaxAgeMs: 3_000},
    env: {EGRESS_ADVISOR_TEST_INTERVAL_SECONDS: String(INTERVAL_SECONDS)},
  });
  await runner.start();
  await waitFor('the bridge to connect and read the configuration', () => runner.running.link?.up === true && runner.running.link.inventory !== null, {
    context,
    timeoutMs: 60_000,
  });
  await waitFor('the plugin settings to name the bridge', async () => ourSettings(await mm.client().getConfig())[BRIDGE_URL_KEY] === runner.publicUrl, {
    context,
  });
}, 300_000);

afterAll(async () => {
  const problems: string[] = [];
  await runner?.stop().catch((err: Error) => problems.push(`bridge: ${err.message}`));
  await mm?.stop().catch((err: Error) => problems.push(`Mattermost: ${err.message}`));
  await s3?.cleanup().catch((err: Error) => problems.push(`s3: ${err.message}`));
  await smtp?.stop().catch((err: Error) => problems.push(`smtp: ${err.message}`));
  runner?.cleanup();
  if (problems.length) throw new Error(problems.join('; '));
}, 120_000);

test('a test that passes: Mattermost reaches its S3 bucket, the result is kept, logged with who asked, and counted', async () => {
  const before = s3.requests;
  const reply = await slash(mm.client(), '/egress test s3');
  expect(reply).toContain(`Mattermost reached File storage (S3) \`${HOST}:${s3.port}\` at`);
  expect(reply).toContain(`asked by @${mm.admin.username}`);
  // Mattermost itself called the bucket: the S3 server saw it.
  expect(s3.requests).toBeGreaterThan(before);

  const [latest] = await history();
  expect(latest).toMatchObject({
    kind: 's3',
    outcome: 'passed',
    trigger: 'person',
    httpStatus: 200,
    target: {host: HOST, port: s3.port},
    requestedBy: {userId: mm.admin.id, username: mm.admin.username},
  });
  expect(runner.bridgeLog()).toContain(`connection test of File storage (S3) asked by ${mm.admin.username} (${mm.admin.id})`);

  const metrics = await (await fetch(`${runner.publicUrl}/metrics`)).text();
  expect(metrics).toMatch(/egress_advisor_connection_tests_total\{integration="s3",outcome="passed",trigger="person"\} 1/);
  expect(metrics).toMatch(/egress_advisor_connection_test_passed\{integration="s3"\} 1/);

  const status = await slash(mm.client(), '/egress status');
  expect(status).toContain("Mattermost's connection tests");
  expect(status).toContain('Mattermost reached File storage (S3)');
});

test('the email test sends one real email to the admin, and a second within the interval is refused (rate limit)', async () => {
  const reply = await slash(mm.client(), '/egress test email');
  expect(reply).toContain('Mattermost reached Email (SMTP)');
  await waitFor('the test email', () => smtp.mails.length === 1);
  expect(smtp.mails[0].to).toEqual([mm.admin.email]);

  const again = await slash(mm.client(), '/egress test smtp');
  expect(again).toContain('Not tested');
  expect(again).toContain(`less than ${INTERVAL_SECONDS} s ago`);
  expect(again).toMatch(/the next test may run at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\./);
  // Give a wrongly sent second email the time to arrive before counting.
  await new Promise((r) => setTimeout(r, 1000));
  expect(smtp.mails).toHaveLength(1);
  expect((await history()).filter((r) => r.kind === 'smtp')).toHaveLength(1);
  expect(runner.bridgeLog()).toContain('connection test of smtp not run');
});

test('a non-admin who asks for a test through /egress is refused, and nothing is tested', async () => {
  const mails = smtp.mails.length;
  const tests = (await history()).length;
  const reply = await slash(mm.client(mm.userToken), '/egress test s3');
  expect(reply).toMatch(/system admin/i);
  expect((await history()).length).toBe(tests);
  expect(smtp.mails.length).toBe(mails);
});

test('a test that fails because S3 is unreachable, while a blocked line on its port is appended: the reply says why, and the IP-only line is named by the test', async () => {
  await s3.stop();
  // The first test's interval must be over.
  await waitFor(
    'the S3 rate limit to pass',
    async () => {
      const last = (await history()).find((r) => r.kind === 's3');
      return last !== undefined && Date.now() - Date.parse(last.startedAt) > INTERVAL_SECONDS * 1000;
    },
    {timeoutMs: 20_000},
  );
  const asked = runner.logCount(`connection test of File storage (S3) asked by ${mm.admin.username} (${mm.admin.id})`);
  const replyPromise = slash(mm.client(), '/egress test s3');
  // The sidecar logs the dropped connection while the test runs: append it once the bridge has started the test.
  await waitFor(
    'the bridge to start the test',
    () => runner.logCount(`connection test of File storage (S3) asked by ${mm.admin.username} (${mm.admin.id})`) > asked,
    {context},
  );
  runner.append([blockedTls(IP_ONLY, s3.port, '-')]);
  const reply = await replyPromise;
  expect(reply).toContain(`Mattermost could not reach File storage (S3) \`${HOST}:${s3.port}\` at`);
  expect(reply).toContain('Unable to connect to S3');

  const [latest] = await history();
  expect(latest).toMatchObject({kind: 's3', outcome: 'failed', trigger: 'person'});
  expect(latest.message).toContain('Unable to connect to S3');

  const metrics = await (await fetch(`${runner.publicUrl}/metrics`)).text();
  expect(metrics).toMatch(/egress_advisor_connection_tests_total\{integration="s3",outcome="failed",trigger="person"\} 1/);
  expect(metrics).toMatch(/egress_advisor_connection_test_passed\{integration="s3"\} 0/);

  // Active attribution: the IP-only line, on S3's port, inside the test's window, is S3's host, with certainty.
  const named = await waitFor(
    'the blocked line to become a finding',
    async () => (await allFindings(runner.running.store)).find((f) => f.destination.ip === IP_ONLY),
    {context},
  );
  expect(named.destination.host).toBe(HOST);
  expect(named.attribution).toMatchObject({host: HOST, method: 'connection-test', confidence: 'certain'});
  expect(named.attribution.note).toContain(latest.id);
  expect(named.features.map((f) => f.id)).toContain('file-storage');
});

test('a blocked IP-only line outside any test window is not named by a test', async () => {
  const old = new Date(Date.now() - 3_600_000);
  runner.append([blockedTls('203.0.113.77', s3.port, '-', {at: old})]);
  const f = await waitFor(
    'the old blocked line to become a finding',
    async () => (await allFindings(runner.running.store)).find((x) => x.destination.ip === '203.0.113.77'),
    {context},
  );
  expect(f.attribution.method).not.toBe('connection-test');
  expect(f.destination.host).toBeNull();
});

describe('the System Console page: "Test now", the integration row and the finding', () => {
  const api = (path: string) => `${mm.url}${API_BASE_PATH}${path}`;
  const testNow = (token: string, kind: string) =>
    fetch(api('/integrations/test'), {
      method: 'POST',
      headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'},
      body: JSON.stringify({kind}),
    });

  test('an ordinary user may not ask for a test; an unknown integration is refused', async () => {
    const tests = (await history()).length;
    expect((await testNow(mm.userToken, 'site-url')).status).toBe(403);
    expect((await testNow(mm.adminToken, 'push')).status).toBe(400);
    expect((await history()).length).toBe(tests);
  });

  test('"Test now" runs the test for the admin who clicked, and the row and the finding show the history', async () => {
    const res = await testNow(mm.adminToken, 'site-url');
    expect(res.status).toBe(200);
    const answer = (await res.json()) as ConnectionTestResponse;
    if (!answer.ran) throw new Error(`not run: ${answer.reason}`);
    // Mattermost called its own Site URL (this harness's loopback URL) and reached it.
    expect(answer.result).toMatchObject({kind: 'site-url', outcome: 'passed', trigger: 'person', requestedBy: {userId: mm.admin.id}});

    const integrations = (await (await fetch(api('/integrations'), {headers: {authorization: `Bearer ${mm.adminToken}`}})).json()) as IntegrationsResponse;
    const s3Report = integrations.tests?.find((t) => t.kind === 's3');
    expect(s3Report?.history.map((r) => r.outcome)).toEqual(['failed', 'passed']);
    expect(s3Report?.features).toEqual([{id: 'file-storage', configPathPrefix: 'FileSettings.AmazonS3'}]);
    // The row the page puts the results on: the S3 endpoint from Mattermost's configuration.
    expect(integrations.items.some((i) => i.feature.id === 'file-storage' && i.host === HOST && i.port === s3.port)).toBe(true);

    const named = (await allFindings(runner.running.store)).find((f) => f.destination.ip === IP_ONLY);
    if (!named) throw new Error('the named finding is gone');
    const detail = (await (
      await fetch(api(`/findings/${encodeURIComponent(named.key)}`), {headers: {authorization: `Bearer ${mm.adminToken}`}})
    ).json()) as FindingDetail;
    expect(detail.tests?.map((r) => [r.kind, r.outcome])).toEqual([
      ['s3', 'failed'],
      ['s3', 'passed'],
    ]);
  });
});

test("after a fix: a ServiceEntry that covers the finding resolves it, which runs S3's test and replies once in the alert's thread, through the outbox", async () => {
  const named = (await allFindings(runner.running.store)).find((f) => f.destination.ip === IP_ONLY);
  if (!named) throw new Error('the named finding is gone');
  // Its alert is posted in the admin channel (digest of 1 s).
  const channel = await mm.client().getChannelByName(mm.team.id, 'egress-advisor');
  const alert = await waitFor(
    'the alert of the named finding',
    async () => {
      const f = await runner.running.store.getFinding(named.key);
      return f?.alertPostId ? f.alertPostId : null;
    },
    {context},
  );
  expect(alertPosts(await channelPosts(mm.client(), channel.id)).map((p) => p.id)).toContain(alert);

  // The fix: S3 is reachable again, and a ServiceEntry covers its host and port. The mesh's resolution pass
  // runs as the bridge's leader runs it (MeshLink on the bridge's store), and hands what it resolved to the
  // tester as the bridge does. Stand-in, said here: the Kubernetes watch of ServiceEntries is a fixed picture
  // made by the same computeAllowances from one ServiceEntry object (the mesh suites watch real ones).
  await s3.start();
  const entry = {
    metadata: {name: 's3-loopback', namespace: 'mattermost'},
    spec: {hosts: [HOST], ports: [{number: s3.port, name: 'tcp-s3', protocol: 'TCP'}], location: 'MESH_EXTERNAL', resolution: 'DNS'},
  };
  const picture = (): MeshAllowances => ({
    ...computeAllowances({namespace: 'mattermost', rootNamespace: 'istio-system', workloadLabels: {app: 'mattermost'}, serviceEntries: [entry], sidecars: []}),
    apiVersions: {serviceEntries: 'networking.istio.io/v1', sidecars: 'networking.istio.io/v1'},
    ready: true,
  });
  const mesh = new MeshLink({
    store: runner.running.store,
    watchers: () => [{meshAllowances: picture} as unknown as MeshWatcher],
    values: undefined,
    inventory: () => [],
    leading: () => true,
    announce: resolvedUpdate,
    onResolved: (keys) => void runner.running.tests.afterResolved(keys),
    log: pino({level: 'silent'}),
    timing: {propagationMs: 0, graceMs: 300},
  });
  const before = (await history()).length;
  try {
    mesh.changed();
    await waitFor(
      'the ServiceEntry to resolve the finding',
      async () => {
        await mesh.resolvePass();
        return (await runner.running.store.getFinding(named.key))?.status === 'resolved';
      },
      {context},
    );
  } finally {
    await mesh.stop();
  }
  const isTestReply = (p: {message: string}) => p.message.includes('Mattermost reached') || p.message.includes('could not reach');
  const reply = await waitFor('the test result in the thread', async () => repliesTo(await channelPosts(mm.client(), channel.id), alert).find(isTestReply), {
    context,
    timeoutMs: 30_000,
  });
  const text = reply.message.replace(/\\(.)/g, '$1').replace(/\u200b/g, '');
  expect(text).toContain(`Mattermost reached File storage (S3) \`${HOST}:${s3.port}\` at`);
  expect(text).toContain('(after a fix)');
  expect(reply.props).toMatchObject({egress_advisor_test_reply: {test_id: expect.any(String)}});
  const latest = (await history())[0];
  expect((await history()).length).toBe(before + 1);
  expect(latest).toMatchObject({kind: 's3', outcome: 'passed', trigger: 'after-fix', requestedBy: null});
  expect(reply.props.egress_advisor_test_reply).toMatchObject({test_id: latest.id});
  // Posted once: the worker's later passes find it delivered.
  await runner.running.alerts.tick();
  await new Promise((r) => setTimeout(r, 1500));
  expect(repliesTo(await channelPosts(mm.client(), channel.id), alert).filter(isTestReply)).toHaveLength(1);
});

test('after a fix the email test is not run: nobody asked for an email', async () => {
  const mails = smtp.mails.length;
  const tests = (await history()).length;
  const f = {...(await allFindings(runner.running.store))[0], features: [{id: 'email-smtp', name: 'Email (SMTP)', configPath: 'EmailSettings.SMTPServer'}]};
  await runner.running.tests.afterFix([f]);
  expect((await history()).length).toBe(tests);
  expect(smtp.mails.length).toBe(mails);
  expect(runner.bridgeLog()).toContain('runs only when a person asks');
});

test('the rehearsal of REGISTRY_ONLY: under ALLOW_ANY the tests run (never the email one), and the reply, the log and GET integrations say what would break', async () => {
  const api = `${mm.url}${API_BASE_PATH}/integrations`;
  const integrations = async () => (await (await fetch(api, {headers: {authorization: `Bearer ${mm.adminToken}`}})).json()) as IntegrationsResponse;
  // Before any rehearsal, the entry is there and says so.
  expect((await integrations()).rehearsal).toMatchObject({state: 'not-run', entries: []});

  // ALLOW_ANY, as the log shows it (no mesh is read in this suite): a PassthroughCluster line.
  runner.append([passthroughTcp('203.0.113.90', 9443)]);
  await waitFor('the log to show ALLOW_ANY', async () => (await runner.running.status()).hardening.state === 'allow-any', {context});
  await waitFor(
    'the S3 rate limit to pass',
    async () => {
      const last = (await history()).find((r) => r.kind === 's3');
      return last !== undefined && Date.now() - Date.parse(last.finishedAt) > INTERVAL_SECONDS * 1000;
    },
    {timeoutMs: 20_000},
  );
  const mails = smtp.mails.length;
  const asked = runner.logCount(`connection test of File storage (S3) asked by ${mm.admin.username} (${mm.admin.id})`);
  const replyPromise = slash(mm.client(), '/egress rehearse');
  // The sidecar logs the test's connection, let out unregistered, while the test runs.
  await waitFor(
    'the rehearsal to start the S3 test',
    () => runner.logCount(`connection test of File storage (S3) asked by ${mm.admin.username} (${mm.admin.id})`) > asked,
    {
      context,
    },
  );
  runner.append([passthroughTcp('203.0.113.91', s3.port)]);
  const reply = await replyPromise;

  expect(reply).toContain(`Rehearsal of REGISTRY_ONLY** at`);
  expect(reply).toContain(`asked by @${mm.admin.username}; outbound mode \`ALLOW_ANY\``);
  expect(reply).toContain('REGISTRY_ONLY would break File storage (S3)');
  expect(reply).toContain('- **File storage (S3)**: breaks under REGISTRY_ONLY.');
  expect(reply).toContain(`PassthroughCluster: \`${HOST}:${s3.port}\``);
  // The host here is a bare machine name, which the suggester refuses as in-cluster: the reply says so instead of pointing at YAML.
  expect(reply).toContain('No ServiceEntry can be written for it');
  expect(reply).toContain('- **Email (SMTP)**: not tested. The Email (SMTP) test sends a real email');
  expect(reply).toContain('- **Site URL**: keeps working.');
  expect(reply).toContain('- **AD/LDAP**: not configured.');
  expect(reply).toContain('- **Search (Elasticsearch/OpenSearch)**: not configured.');

  // The tests ran as the rehearsal's, asked by the admin, and no email was sent.
  const s3Test = (await history()).find((r) => r.kind === 's3');
  expect(s3Test).toMatchObject({trigger: 'rehearsal', outcome: 'passed', requestedBy: {userId: mm.admin.id}});
  expect((await history()).find((r) => r.kind === 'site-url')).toMatchObject({trigger: 'rehearsal'});
  expect((await history()).find((r) => r.kind === 'smtp')?.trigger).toBe('person');
  await new Promise((r) => setTimeout(r, 500));
  expect(smtp.mails.length).toBe(mails);
  expect(runner.bridgeLog()).toContain(`rehearsal of REGISTRY_ONLY asked by ${mm.admin.username} (${mm.admin.id})`);

  // The page reads the same report from GET integrations.
  const report = (await integrations()).rehearsal;
  expect(report).toMatchObject({state: 'done', mode: 'ALLOW_ANY', requestedBy: {userId: mm.admin.id}});
  expect(report.entries.map((e) => [e.kind, e.verdict])).toEqual([
    ['s3', 'will-break'],
    ['smtp', 'not-tested'],
    ['site-url', 'keeps-working'],
    ['ldap', 'not-configured'],
    // Mattermost's default configuration names an Elasticsearch URL with search switched off: nothing to test.
    ['elasticsearch', 'not-configured'],
  ]);
  expect(report.entries[0].lines).toContainEqual({key: `${HOST}:${s3.port}`, destination: `${HOST}:${s3.port}`, named: true});

  // No rehearsal within the interval after the last one: refused, with the latest shown.
  const again = await slash(mm.client(), '/egress rehearse');
  expect(again).toContain(`Not rehearsed: A rehearsal ran less than ${INTERVAL_SECONDS} s ago`);
  expect(again).toMatch(/the next may start at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\./);
  expect(again).toContain('The latest:');
  // S3 and the Site URL; never the email test, nor search, which is switched off.
  expect((await history()).filter((r) => r.trigger === 'rehearsal').map((r) => r.kind)).toEqual(['site-url', 's3']);
});
