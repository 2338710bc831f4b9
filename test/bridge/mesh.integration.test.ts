/*
 * What the mesh already allows, end to end: the compiled bridge in its own process with a `kubernetes:`
 * source, a real Mattermost (test/mattermost/harness.ts) whose configuration names the integrations, and a
 * real kube-apiserver with Istio's ServiceEntry and Sidecar CRDs, whose pod logs come from kwok's kubelet
 * (test/kubernetes/harness.ts). Envoy does not run here: the access-log lines are Istio's default TEXT
 * format as the proxy writes it, appended to the sidecar's CRI log file.
 *
 * It walks an administrator's day: a blocked destination is alerted; a configured integration no entry
 * covers shows as "will be blocked" before any traffic fails, and the channel is told so once; the
 * ServiceEntry is added and the finding is resolved, with a reply in the alert's thread; the mesh is
 * switched to ALLOW_ANY and PassthroughCluster traffic becomes the rehearsal of what hardening would break.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {Client4} from '@mattermost/client';
import type {Post} from '@mattermost/types/posts';

import type {FindingDetail, IntegrationItem, IntegrationsResponse, StatusReport, SuggestionFormat, SuggestionsResponse} from '../../common/api';
import {AT_RISK_PROPS_KEY} from '../../common/alert';
import {API_BASE_PATH} from '../../common/api';
import {startKubeCluster, type KubeCluster} from '../kubernetes/harness';
import {startMattermost, type MattermostServer} from '../mattermost/harness';
import {ensureBuiltPlugin, installPlugin} from '../mattermost/plugin';
import {alertPosts, channelPosts, repliesTo, spawnCompiledBridge, waitFor, type CompiledBridge} from './helpers';

jest.setTimeout(240_000);

const NS = 'mattermost';
const POD = 'mattermost-6c8f9d7b54-2xq8k';
const POD_IP = '10.42.1.23';
const SMTP_IP = '198.51.100.25';
const PUSH = 'push.mattermost.com:443';

/** The Sidecar of Mattermost's namespace, as the Big Bang chart sets it, with this outbound mode. */
const sidecar = (mode: 'REGISTRY_ONLY' | 'ALLOW_ANY') => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Sidecar',
  metadata: {name: 'mattermost-sidecar', namespace: NS, labels: {'app.kubernetes.io/managed-by': 'Helm'}},
  spec: {outboundTrafficPolicy: {mode}},
});

let mm: MattermostServer;
let admin: Client4;
let cluster: KubeCluster;
let dir: string;
let bridge: CompiledBridge;
let sourcePort = 41_000;

const time = (msAgo = 0): string => new Date(Date.now() - msAgo).toISOString();

function blocked(sni: string, ip: string, at: string): string {
  return `[${at}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - ${ip}:443 ${POD_IP}:${sourcePort++} ${sni} -`;
}

/** A plain TCP connection ALLOW_ANY let out unregistered: Envoy knows only the address (STARTTLS has no SNI). */
function passthrough(ip: string, port: number, at: string): string {
  return `[${at}] "- - -" 0 - - - "-" 785 4676 116 - "-" "-" "-" "-" "${ip}:${port}" PassthroughCluster ${POD_IP}:${sourcePort++} ${ip}:${port} ${POD_IP}:${sourcePort++} - -`;
}

function context(): string {
  return `--- bridge log (last 40 lines)\n${bridge.output().trimEnd().split('\n').slice(-40).join('\n')}\n${cluster.logs(10)}`;
}

/** The webapp API as the page calls it: through Mattermost's route to the plugin, which forwards it to the bridge. */
/** The one patch of everything to add (POST suggestions, keys "all"), as the page reads it. */
async function patch(format: SuggestionFormat): Promise<SuggestionsResponse> {
  const res = await fetch(`${mm.url}${API_BASE_PATH}/suggestions`, {
    method: 'POST',
    headers: {authorization: `Bearer ${mm.adminToken}`, 'content-type': 'application/json'},
    body: JSON.stringify({keys: 'all', format}),
  });
  if (res.status !== 200) throw new Error(`POST /suggestions: ${res.status} ${await res.text()}`);
  return (await res.json()) as SuggestionsResponse;
}

async function api<T>(path: string): Promise<T> {
  const res = await waitFor(
    `GET ${path} through the plugin`,
    async () => {
      const r = await fetch(`${mm.url}${API_BASE_PATH}${path}`, {headers: {authorization: `Bearer ${mm.adminToken}`}});
      // 503 until the bridge has written its URL and secret into the plugin's settings.
      return r.status === 503 ? null : r;
    },
    {context},
  );
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const integration = (r: IntegrationsResponse, host: string): IntegrationItem | undefined => r.items.find((i) => i.host === host);

async function adminChannelId(): Promise<string> {
  return (await admin.getChannelByName(mm.team.id, 'egress-advisor')).id;
}

async function notices(): Promise<Post[]> {
  return (await channelPosts(admin, await adminChannelId())).filter((p) => p.props?.[AT_RISK_PROPS_KEY] !== undefined);
}

beforeAll(async () => {
  mm = await startMattermost({
    env: {
      // Configured integrations the bridge reads from GET /api/v4/config. Nothing here sends mail or pushes:
      // no user is mentioned while away, and the machine reaches no outside host anyway.
      MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS: 'true',
      MM_EMAILSETTINGS_SMTPSERVER: 'smtp.example.com',
      MM_EMAILSETTINGS_SMTPPORT: '587',
      MM_EMAILSETTINGS_SENDPUSHNOTIFICATIONS: 'true',
      MM_EMAILSETTINGS_PUSHNOTIFICATIONSERVER: 'https://push.mattermost.com',
    },
  });
  admin = mm.client();
  await installPlugin(mm, ensureBuiltPlugin());

  cluster = await startKubeCluster();
  await cluster.createNamespace(NS);
  await cluster.createPod({namespace: NS, name: POD});
  await cluster.apply(sidecar('REGISTRY_ONLY'));
  cluster.appendLog(NS, POD, 'istio-proxy', [
    blocked('push.mattermost.com', '52.0.10.10', time(20_000)),
    blocked('push.mattermost.com', '52.0.10.10', time(19_000)),
  ]);

  dir = mkdtempSync(join(tmpdir(), 'egress-mesh-'));
  const kubeconfig = cluster.kubeconfig(join(dir, 'kubeconfig'), cluster.adminToken, NS);
  // The bridge resolves only hosts from Mattermost's configuration; here from a hosts file, not DNS.
  writeFileSync(join(dir, 'hosts'), `${SMTP_IP} smtp.example.com\n52.0.10.10 push.mattermost.com\n`);
  bridge = await spawnCompiledBridge(kubeconfig, NS, {
    EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'),
    EGRESS_ADVISOR_HOSTS_FILE: join(dir, 'hosts'),
    EGRESS_ADVISOR_DIGEST_SECONDS: '1',
    EGRESS_ADVISOR_RESOLVE_SECONDS: '2',
    // No mesh config here: the Sidecar alone sets the mode.
    EGRESS_ADVISOR_MESH_CONFIGMAP: 'none',
    MATTERMOST_URL: mm.url,
    MATTERMOST_TOKEN: mm.adminToken,
    EGRESS_ADVISOR_TEAM: mm.team.name,
  });
}, 300_000);

afterAll(async () => {
  await bridge?.stop();
  await cluster?.stop();
  await mm?.stop();
  if (dir) rmSync(dir, {recursive: true, force: true});
}, 120_000);

test('a blocked destination is alerted, and a configured integration no entry covers shows as "will be blocked"', async () => {
  await waitFor('the blocked push finding', () => api<FindingDetail>(`/findings/${encodeURIComponent(PUSH)}`).catch(() => null), {timeoutMs: 60_000, context});
  const alert = await waitFor('the alert post', async () => alertPosts(await channelPosts(admin, await adminChannelId())).at(0), {timeoutMs: 60_000, context});
  expect(alert.message).toContain('push.mattermost.com');

  const r = await waitFor(
    'the inventory and the mesh',
    async () => {
      const x = await api<IntegrationsResponse>('/integrations');
      return x.mesh?.ready && integration(x, 'smtp.example.com') ? x : null;
    },
    {timeoutMs: 60_000, context},
  );
  expect(r.mesh).toMatchObject({namespace: NS, outboundMode: 'REGISTRY_ONLY', modeSource: `Sidecar ${NS}/mattermost-sidecar`});
  expect(integration(r, 'push.mattermost.com')).toMatchObject({state: 'blocked', enabled: true, findings: [{key: PUSH, verdict: 'blocked'}]});
  // No traffic to the SMTP server has failed yet: it is known from the configuration alone.
  expect(integration(r, 'smtp.example.com')).toMatchObject({
    state: 'will-be-blocked',
    port: 587,
    findings: [],
    feature: {configPath: 'EmailSettings.SMTPServer'},
  });
  // One patch: the configured integrations at risk (push is also a finding, and is there once), then the log.
  const all = await patch('serviceentry');
  expect(all.sections.find((x) => x.id === 'integrations')?.entries.length).toBeGreaterThanOrEqual(2);
  expect(all.yaml).toContain('smtp.example.com');
  expect(all.yaml.match(/- push\.mattermost\.com\n/g)).toHaveLength(1);

  const status = await api<StatusReport>('/status');
  expect(status.replica).toBe('sole');
  // The same assessment, counted over the enabled integrations (the pinned server also names its CWS hosts).
  const enabled = r.items.filter((i) => i.enabled);
  expect(status.integrations).toEqual({blocked: 1, 'will-be-blocked': enabled.filter((i) => i.state === 'will-be-blocked').length});
  expect(status.integrations['will-be-blocked']).toBeGreaterThanOrEqual(1);
  expect(status.mesh?.outboundMode).toBe('REGISTRY_ONLY');

  // Told once in the channel, before anything failed: the integrations no ServiceEntry covers and no traffic showed.
  const notice = await waitFor('the notice about integrations that will be blocked', async () => (await notices()).at(0), {timeoutMs: 30_000, context});
  expect(notice.message).toMatch(/configured integrations? of Mattermost (has|have) no ServiceEntry\. Nothing has failed yet/);
  expect(notice.message).toContain('`smtp.example.com:587`');
  expect(notice.message).toContain('Email (SMTP)');
  // Blocked already: alerted as a finding, not repeated here.
  expect(notice.message).not.toContain('push.mattermost.com');
  expect(notice.message).toMatch(/```yaml\n[\s\S]*smtp\.example\.com[\s\S]*```/);

  const nonAdmin = await fetch(`${mm.url}${API_BASE_PATH}/integrations`, {headers: {authorization: `Bearer ${mm.userToken}`}});
  expect(nonAdmin.status).toBe(403);
  await expect(patch('helm' as SuggestionFormat)).rejects.toThrow(/POST \/suggestions: 400/);
});

test('the ServiceEntry is added: the finding is resolved with when and by what, and the thread is told once', async () => {
  const before = await api<FindingDetail>(`/findings/${encodeURIComponent(PUSH)}`);
  expect(before.status).toBe('open');
  const alertId = await waitFor(
    'the finding to name its alert post',
    async () => (await api<FindingDetail>(`/findings/${encodeURIComponent(PUSH)}`)).alertPostId,
    {context},
  );
  const addedAt = Date.now();
  await cluster.apply({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: {name: 'push', namespace: NS},
    spec: {hosts: ['push.mattermost.com'], location: 'MESH_EXTERNAL', ports: [{number: 443, name: 'tls', protocol: 'TLS'}], resolution: 'DNS', exportTo: ['.']},
  });

  const after = await waitFor(
    'the finding to be resolved',
    async () => {
      const f = await api<FindingDetail>(`/findings/${encodeURIComponent(PUSH)}`);
      return f.status === 'resolved' ? f : null;
    },
    {timeoutMs: 30_000, context},
  );
  // Not before the grace (2 s) after the entry appeared.
  expect(Date.parse(after.resolvedAt ?? '')).toBeGreaterThanOrEqual(addedAt + 2_000 - 1_000);
  expect(after.decisions.at(-1)).toMatchObject({
    action: 'resolve',
    by: null,
    reason: expect.stringMatching(/^allowed by ServiceEntry mattermost\/push \(in the mesh since .*\); no blocked connection since$/),
  });

  const r = await api<IntegrationsResponse>('/integrations');
  expect(integration(r, 'push.mattermost.com')).toMatchObject({state: 'allowed', allowedBy: 'ServiceEntry mattermost/push', findings: []});
  const all = await patch('bigbang');
  expect(all.yaml).not.toContain('push.mattermost.com');
  expect(all.yaml).toContain('smtp.example.com');

  const reply = await waitFor(
    'the reply in the alert thread',
    async () => repliesTo(await channelPosts(admin, await adminChannelId()), alertId).find((p) => p.message.includes('no longer blocked')),
    {timeoutMs: 30_000, context},
  );
  expect(reply.message).toMatch(/`push\.mattermost\.com:443` resolved: allowed by ServiceEntry mattermost\/push/);
  // Later passes find nothing new to say, and the mesh change did not repeat the notice.
  await new Promise((r) => setTimeout(r, 4_000));
  expect(await notices()).toHaveLength(1);
  expect(repliesTo(await channelPosts(admin, await adminChannelId()), alertId).filter((p) => p.message.includes('no longer blocked'))).toHaveLength(1);
});

test('blocked again although the entry exists: reopened, kept open, and the entry is named as not working', async () => {
  cluster.appendLog(NS, POD, 'istio-proxy', [blocked('push.mattermost.com', '52.0.10.10', time())]);
  const f = await waitFor(
    'the finding to reopen',
    async () => {
      const x = await api<FindingDetail>(`/findings/${encodeURIComponent(PUSH)}`);
      return x.status === 'open' ? x : null;
    },
    {timeoutMs: 30_000, context},
  );
  expect(f.decisions.at(-1)).toMatchObject({action: 'reopen'});
  await waitFor(
    'the warning that the entry does not let it out',
    () => /ServiceEntry mattermost\/push covers it .* yet a connection was blocked/.test(bridge.output()),
    {timeoutMs: 60_000, context},
  );
  expect((await api<FindingDetail>(`/findings/${encodeURIComponent(PUSH)}`)).status).toBe('open');
});

test('under ALLOW_ANY, PassthroughCluster traffic is the rehearsal of what hardening would break', async () => {
  await cluster.apply(sidecar('ALLOW_ANY'));
  cluster.appendLog(NS, POD, 'istio-proxy', [passthrough(SMTP_IP, 587, time())]);
  const r = await waitFor(
    'the passthrough SMTP traffic',
    async () => {
      const x = await api<IntegrationsResponse>('/integrations');
      return x.mesh?.outboundMode === 'ALLOW_ANY' && integration(x, 'smtp.example.com')?.findings.length ? x : null;
    },
    {timeoutMs: 60_000, context},
  );
  const smtp = integration(r, 'smtp.example.com');
  expect(smtp).toMatchObject({state: 'will-be-blocked', findings: [{key: 'smtp.example.com:587', verdict: 'passthrough'}]});
  expect(smtp?.detail).toMatch(/PassthroughCluster.*REGISTRY_ONLY will block it/);
  const all = await patch('serviceentry');
  expect(all.yaml).toMatch(/smtp\.example\.com/);
  expect(all.yaml).toMatch(/needed once REGISTRY_ONLY is enforced/);
  const status = await api<StatusReport>('/status');
  expect(status.mesh?.outboundMode).toBe('ALLOW_ANY');
  expect(bridge.output()).not.toContain(mm.adminToken);
  expect(bridge.output()).not.toContain(cluster.adminToken);
});
