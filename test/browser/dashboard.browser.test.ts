/*
 * The built plugin bundle in Debian's Chromium, against the real parts: a real Mattermost (the
 * uploaded plugin tarball with its Go server half, real logins and cookies) and the real bridge
 * following an istio-proxy log. The page's calls to /plugins/egress-advisor/api/v1/… go to Mattermost,
 * which authenticates the session (and the CSRF token on writes); the plugin requires manage_system
 * and forwards them, signed, to the bridge.
 *
 * The page around the plugin stands in for Mattermost's web client, which is not built here: it is
 * served on Mattermost's origin by the browser itself (harness.ts) and passes the plugin what the real
 * System Console and post view pass (see page/harness.js and README.md).
 *
 * Screenshots of every state land in test/artifacts/browser/.
 *
 * Needs /usr/bin/chromium, the Mattermost binary (test/mattermost/build.sh) and PostgreSQL;
 * fails, never skips, without them.
 */
import fs from 'node:fs';

import type {Client4} from '@mattermost/client';
import type {Post} from '@mattermost/types/posts';
import type {Request} from 'playwright-core';
import {parse as parseYaml} from 'yaml';

import {readAlertData} from '../../common/alert';
import {API_BASE_PATH, type IntegrationsResponse, type IntegrationState, type SuggestionsResponse} from '../../common/api';
import type {StoredFinding} from '../../server/store/types';
import type {El, ScriptEl, Win} from './dom';
import {BrowserRig, harnessState, waitFor, type OpenPage} from './harness';
import {HOST_VERSIONS, MATTERMOST_PAGE_CSP} from './host';
import {blockedHttp, blockedTls, inboundOk, internalPostgres, PODS} from './lines';

jest.setTimeout(180_000);

/** Destinations of the log; addresses from RFC 5737. */
const HOOKS = {ip: '203.0.113.40', host: 'hooks.example.com', key: 'hooks.example.com:443'};
const GITHUB = {ip: '203.0.113.41', host: 'api.github.com', key: 'api.github.com:443'};
const CI = {ip: '203.0.113.44', host: 'ci.example.org', key: 'ci.example.org:443'};
const LIVE = {ip: '203.0.113.60', host: 'telemetry.example.net', key: 'telemetry.example.net:443'};
const WEBHOOK_NAME = 'Deploy notifications';
const COMMAND_TRIGGER = 'deploy';

/** Integrations set in Mattermost's configuration; the values file below allows push and not mail. */
const SMTP = {host: 'smtp.example.com', port: 587};
const PUSH = {host: 'push.mattermost.com', port: 443, route: 'push-proxy'};
const PUSH_ALLOWED_BY = `addons.mattermost.values.routes.outbound.${PUSH.route}`;

// Nothing leaves the machine. SendEmailNotifications stays off, so Mattermost tries no mail (the SMTP
// server is an integration all the same: password resets and invitations use it), and without a
// license it sends no push notification.
const MATTERMOST_ENV = {
  MM_EMAILSETTINGS_SMTPSERVER: SMTP.host,
  MM_EMAILSETTINGS_SMTPPORT: String(SMTP.port),
  MM_EMAILSETTINGS_SENDPUSHNOTIFICATIONS: 'true',
  MM_EMAILSETTINGS_PUSHNOTIFICATIONSERVER: `https://${PUSH.host}`,
};

// The package's default route is switched off, as hardened sites do: it would allow api.github.com,
// and the findings' YAML is expected to list that blocked host.
const VALUES = `addons:
  mattermost:
    values:
      routes:
        outbound:
          mattermost-external:
            enabled: false
          ${PUSH.route}:
            enabled: true
            hosts:
              - ${PUSH.host}
            ports:
              - number: ${PUSH.port}
                name: https
                protocol: TLS
`;

function minutesAgo(n: number): Date {
  return new Date(Date.now() - n * 60_000);
}

/** A few minutes of a hardened Mattermost pod: API traffic, the database, and what Istio dropped. */
const LINES = [
  inboundOk({at: minutesAgo(9)}),
  internalPostgres({at: minutesAgo(9)}),
  blockedTls(HOOKS.ip, 443, HOOKS.host, {pod: PODS[0], at: minutesAgo(8)}),
  inboundOk({pod: PODS[1], at: minutesAgo(7)}),
  blockedTls(GITHUB.ip, 443, GITHUB.host, {pod: PODS[1], at: minutesAgo(7)}),
  blockedTls(HOOKS.ip, 443, HOOKS.host, {pod: PODS[1], at: minutesAgo(6)}),
  blockedTls(CI.ip, 443, CI.host, {pod: PODS[0], at: minutesAgo(5)}),
  blockedHttp('169.254.169.254', '169.254.169.254', {path: '/latest/api/token', at: minutesAgo(4)}),
  blockedTls(GITHUB.ip, 443, GITHUB.host, {pod: PODS[1], at: minutesAgo(3)}),
  blockedTls(HOOKS.ip, 443, HOOKS.host, {pod: PODS[0], at: minutesAgo(2)}),
  inboundOk({at: minutesAgo(1)}),
];

async function integrations(admin: Client4, mm: {team: {id: string}}): Promise<void> {
  const townSquare = await admin.getChannelByName(mm.team.id, 'town-square');
  await admin.createOutgoingWebhook({
    team_id: mm.team.id,
    channel_id: townSquare.id,
    display_name: WEBHOOK_NAME,
    description: 'posts deploy messages to the CI',
    trigger_words: ['zz-egress-never-typed'],
    trigger_when: 0,
    callback_urls: [`https://${HOOKS.host}/services/mattermost-deploys`],
    content_type: 'application/json',
  } as Parameters<Client4['createOutgoingWebhook']>[0]);
  await admin.addCommand({
    team_id: mm.team.id,
    trigger: COMMAND_TRIGGER,
    method: 'P',
    url: `https://${CI.host}/hooks/mattermost-deploy`,
    display_name: 'Deploy',
    description: 'starts a deploy',
    auto_complete: true,
    auto_complete_desc: 'starts a deploy',
    auto_complete_hint: '[service]',
    username: '',
    icon_url: '',
  } as Parameters<Client4['addCommand']>[0]);
}

let rig: BrowserRig;
const started = Date.now();

beforeAll(async () => {
  rig = await BrowserRig.start({integrations, lines: LINES, expectFindings: 4, waitForAlert: true, mattermostEnv: MATTERMOST_ENV, values: VALUES});
}, 400_000);

// Every test has its own browser context (cookies, clipboard); an open dashboard of an earlier test
// would otherwise keep its event stream and reload along with the next test's.
afterEach(async () => {
  await rig?.closePages();
});

afterAll(async () => {
  await rig?.stop();
  process.stdout.write(`browser suite timings:\n  ${[...(rig?.timings ?? []), `whole file: ${((Date.now() - started) / 1000).toFixed(1)} s`].join('\n  ')}\n`);
}, 120_000);

function context(): string {
  return rig.context();
}

async function openFindings(): Promise<StoredFinding[]> {
  return (await rig.bridge.store.listFindings({status: 'open', limit: 500})).items;
}

// The configured integrations above the findings are an ea-table too.
const FINDINGS_TABLE = 'section[aria-labelledby="ea-findings-title"] table.ea-table';

interface Row {
  key: string | null;
  destination: string;
  port: string;
  verdict: string;
  feature: string;
  attempts: string;
  status: string;
}

async function tableRows(page: OpenPage['page']): Promise<Row[]> {
  return page.$$eval(`${FINDINGS_TABLE} > tbody > tr`, (trs) =>
    (trs as unknown as El[]).map((tr) => {
      const cells = Array.from(tr.querySelectorAll(':scope > td'));
      const text = (i: number): string => (cells[i]?.textContent ?? '').trim();
      return {
        key: cells[1]?.querySelector('button[data-key]')?.getAttribute('data-key') ?? null,
        destination: (cells[1]?.querySelector('button')?.textContent ?? '').trim(),
        port: text(2),
        verdict: text(3),
        feature: text(4),
        attempts: text(5),
        status: text(9),
      };
    }),
  );
}

async function adminDashboard(opts: {clipboard?: boolean; before?: (page: OpenPage['page']) => void} = {}): Promise<OpenPage> {
  const open = await rig.newPage(opts);
  await rig.login(open.page, 'admin');
  opts.before?.(open.page);
  await rig.open(open.page, 'view=dashboard');
  await open.page.waitForSelector(`${FINDINGS_TABLE} > tbody > tr`, {timeout: 30_000});
  return open;
}

/**
 * A request from inside the page, with the browser's cookies and what Client4 adds (X-Requested-With,
 * and the MMCSRF cookie as X-CSRF-Token on writes). `csrf: 'none'` sends neither header, and a
 * token of its own replaces both: what a form post or a script of another site could send, which
 * Mattermost must not take as the session's.
 */
async function pageFetch(
  page: OpenPage['page'],
  path: string,
  init: {method?: string; body?: unknown; csrf?: 'cookie' | 'none' | string} = {},
): Promise<{status: number; body: {code?: string; error?: string} | null}> {
  return page.evaluate(
    async ({path, method, body, csrf}) => {
      const headers: Record<string, string> = {Accept: 'application/json'};
      if (csrf === undefined || csrf === 'cookie') headers['X-Requested-With'] = 'XMLHttpRequest';
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const cookie = (globalThis as unknown as Win).document.cookie
        .split(';')
        .map((c) => c.trim())
        .find((c) => c.startsWith('MMCSRF='));
      if (csrf === 'cookie' && cookie) headers['X-CSRF-Token'] = cookie.slice('MMCSRF='.length);
      else if (csrf !== undefined && csrf !== 'none' && csrf !== 'cookie') headers['X-CSRF-Token'] = csrf;
      const res = await fetch(path, {method: method ?? 'GET', credentials: 'include', headers, body: body === undefined ? undefined : JSON.stringify(body)});
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      return {status: res.status, body: parsed as {code?: string; error?: string} | null};
    },
    {path, method: init.method, body: init.body, csrf: init.csrf},
  );
}

/** What the bridge answers, asked through the plugin's route with the admin's token (no browser). */
async function bridgeApi<T>(path: string, init: {method?: string; body?: unknown} = {}): Promise<T> {
  const res = await fetch(`${rig.url}${API_BASE_PATH}/${path}`, {
    method: init.method ?? 'GET',
    headers: {Authorization: `Bearer ${rig.mm.adminToken}`, 'Content-Type': 'application/json'},
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!res.ok) throw new Error(`bridge ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

test('the page runs the built bundle the way Mattermost loads it, with the host libraries of Mattermost 11', async () => {
  const {page, pageErrors} = await rig.newPage();
  await rig.login(page, 'admin');
  const state = await rig.open(page, 'view=dashboard');

  // The bundle came from Mattermost, at the path its plugin API gives.
  const manifests = (await (await fetch(`${rig.url}/api/v4/plugins/webapp`, {headers: {Authorization: `Bearer ${rig.mm.userToken}`}})).json()) as Array<{
    id: string;
    webapp?: {bundle_path: string};
  }>;
  const bundlePath = manifests.find((m) => m.id === 'egress-advisor')?.webapp?.bundle_path ?? '';
  expect(bundlePath).toMatch(/^\/static\/egress-advisor\/egress-advisor_[0-9a-f]+_bundle\.js$/);
  expect(state.bundles).toEqual([{id: 'egress-advisor', version: rig.built.version, bundlePath, src: bundlePath.replace('/static/', '/static/plugins/')}]);
  const scriptSrc = await page.$eval('script#plugin_egress-advisor', (s) => (s as unknown as ScriptEl).src);
  expect(scriptSrc).toBe(`${rig.url}${bundlePath.replace('/static/', '/static/plugins/')}`);
  const served = Buffer.from(await (await fetch(scriptSrc)).arrayBuffer());
  expect(served.equals(rig.built.mainJs)).toBe(true);

  // The Site URL is Mattermost's own address (the page's origin), and the store holds the real user with their roles.
  expect(state.siteUrl).toBe(rig.url);
  expect(state.me).toEqual({id: rig.mm.admin.id, username: rig.mm.admin.username, roles: expect.stringContaining('system_admin')});
  expect(state.consoleData).toEqual({adminConfig: true, pluginsList: true});

  // What the plugin registered, as the System Console and the post view look it up.
  expect(state.registered.settings).toEqual([{pluginId: 'egress-advisor', key: 'Dashboard', showTitle: false}]);
  expect(state.registered.postTypes.map((p) => p.type)).toEqual(['custom_egress_alert']);
  expect(state.registered.reducers).toEqual(['plugins-egress-advisor']);

  // The host libraries are Mattermost 11's, and the bundle brought no copy of its own.
  const globals = await page.evaluate(() => {
    const w = globalThis as unknown as Record<string, {version?: string; createStore?: unknown; Provider?: unknown; useSelector?: unknown} | undefined>;
    return {
      react: w.React?.version,
      reactDom: w.ReactDOM?.version,
      redux: typeof w.Redux?.createStore,
      reactRedux: typeof w.ReactRedux?.useSelector,
      provider: typeof w.ReactRedux?.Provider,
    };
  });
  // react-dom 18.2.0's published build reports "18.2.0-next-9e3b772b8-20220608" as its version.
  expect(globals).toEqual({
    react: HOST_VERSIONS.react,
    reactDom: expect.stringMatching(/^18\.2\.0(-next-[0-9a-f]+-\d{8})?$/),
    redux: 'function',
    reactRedux: 'function',
    provider: 'function',
  });
  const bundle = rig.built.mainJs.toString('utf8');
  expect(bundle).not.toMatch(/PropTypes/);
  expect(bundle).not.toMatch(/react\.production\.min|__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED/);

  await page.waitForSelector(`${FINDINGS_TABLE} > tbody > tr`);
  const after = await harnessState(page);
  expect(after.errors).toEqual([]);
  expect(pageErrors).toEqual([]);

  // The page is served with Mattermost's script policy, and the bundle ran under it.
  const index = await page.goto(`${rig.url}/?view=none`);
  expect(await index?.headerValue('content-security-policy')).toBe(MATTERMOST_PAGE_CSP);
});

test('as the admin, the dashboard shows the findings the bridge has: host, feature, attempts', async () => {
  const {page, pageErrors} = await adminDashboard();
  const stored = await openFindings();
  expect(stored.map((f) => f.key).sort()).toEqual(expect.arrayContaining([HOOKS.key, GITHUB.key, CI.key]));

  const headers = await page.$$eval(`${FINDINGS_TABLE} > thead th`, (ths) =>
    ths.map((th) => ((th as unknown as El).textContent ?? '').replace(/[▲▼↕]/g, '').trim()),
  );
  expect(headers).toEqual(['', 'Destination', 'Port', 'Verdict', 'Feature', 'Attempts', 'First seen', 'Last seen', 'Pods', 'Status']);

  const rows = await tableRows(page);
  expect(rows.map((r) => r.key).sort()).toEqual(stored.map((f) => f.key).sort());
  for (const f of stored) {
    const row = rows.find((r) => r.key === f.key)!;
    expect(row.destination).toBe(f.destination.host ?? f.destination.ip);
    expect(row.port).toBe(`${f.destination.port}/${f.protocol}`);
    expect(row.feature).toBe(f.features.length === 0 ? 'Not known' : f.features.map((x) => x.name).join(', '));
    expect(row.attempts).toBe(f.count.toLocaleString('en-US'));
    expect(row.status).toBe('Open');
  }
  // The values themselves, from the log lines and Mattermost's integrations.
  const hooks = rows.find((r) => r.key === HOOKS.key)!;
  expect(hooks).toMatchObject({destination: HOOKS.host, port: '443/TLS', verdict: 'Blocked', attempts: '3'});
  expect(hooks.feature).toContain(WEBHOOK_NAME);
  const ci = rows.find((r) => r.key === CI.key)!;
  expect(ci.attempts).toBe('1');
  expect(ci.feature).toContain(COMMAND_TRIGGER);
  expect(rows.find((r) => r.key === GITHUB.key)).toMatchObject({attempts: '2', feature: 'Not known'});

  // The at-a-glance cards and the live indicator came from the bridge too.
  await page.getByText('Live', {exact: true}).waitFor({timeout: 15_000});
  const file = await rig.screenshot(page, '01-admin-dashboard');
  expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  expect(pageErrors).toEqual([]);
});

test('the findings table keeps each port and host name on one line', async () => {
  const {page} = await adminDashboard();
  // Line boxes of the text of each port cell ("443/TLS") and destination button ("hooks.example.com"):
  // a column squeezed to its narrowest would break them mid-word.
  const lines = await page.$$eval(`${FINDINGS_TABLE} > tbody > tr`, (trs) =>
    (trs as unknown as El[]).map((tr) => {
      const g = globalThis as unknown as {document: {createRange(): {selectNodeContents(n: El): void; getClientRects(): ArrayLike<{top: number}>}}};
      const count = (el: El | undefined): number => {
        if (!el) return -1;
        const range = g.document.createRange();
        range.selectNodeContents(el);
        return new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
      };
      const cells = tr.querySelectorAll(':scope > td');
      const destination = tr.querySelector('button[data-key]') ?? undefined;
      return {key: destination?.getAttribute('data-key'), port: count(cells[2]), destination: count(destination)};
    }),
  );
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines) expect({key: l.key, port: l.port, destination: l.destination}).toEqual({key: l.key, port: 1, destination: 1});
});

test("Copy YAML puts the bridge's one patch on the clipboard: the integrations at risk, then the log, each host once", async () => {
  const {page, pageErrors} = await adminDashboard({clipboard: true});
  const pre = page.locator('pre[aria-label^="Suggested YAML"]');
  await pre.waitFor({timeout: 15_000});
  const format = await page.locator('#ea-yaml-title').locator('xpath=ancestor::section[1]').locator('select').inputValue();
  expect(format).toBe('bigbang');
  const expected = await bridgeApi<SuggestionsResponse>('suggestions', {method: 'POST', body: {keys: 'all', format}});
  expect(expected.yaml).toContain(HOOKS.host);
  expect(expected.yaml).toContain(GITHUB.host);
  expect(await pre.textContent()).toBe(expected.yaml);
  // One place for YAML on the page; its sections in order, each under its heading comment.
  expect(await page.locator('pre').count()).toBe(1);
  expect(await page.getByRole('button', {name: 'Copy YAML'}).count()).toBe(1);
  expect(expected.sections.map((x) => x.id)).toEqual(['integrations', 'log']);
  const headings = expected.sections.map((x) => expected.yaml.indexOf(`# ==== ${x.title} ====`));
  expect(headings[0]).toBeGreaterThan(-1);
  expect(headings[1]).toBeGreaterThan(headings[0]);
  expect(expected.yaml.indexOf(`- ${SMTP.host}`)).toBeGreaterThan(headings[0]);
  expect(expected.yaml.indexOf(`- ${SMTP.host}`)).toBeLessThan(headings[1]);
  expect(expected.yaml.indexOf(`- ${GITHUB.host}`)).toBeGreaterThan(headings[1]);
  const routes = Object.values(
    (parseYaml(expected.yaml) as {addons: {mattermost: {values: {routes: {outbound: Record<string, {hosts: string[]}>}}}}}).addons.mattermost.values.routes
      .outbound,
  );
  const hosts = routes.flatMap((r) => r.hosts);
  expect(hosts.length).toBe(new Set(hosts).size);
  expect(await page.getByRole('list', {name: 'Sections of the YAML'}).textContent()).toContain(expected.sections[0].title);

  // Nothing on the clipboard before, so what is read afterwards was put there by the button.
  await page.evaluate(() => (globalThis as unknown as Win).navigator.clipboard.writeText('(empty)'));
  const panel = page.locator('section[aria-labelledby="ea-yaml-title"]');
  await panel.getByRole('button', {name: 'Copy YAML'}).click();
  await panel.getByRole('button', {name: 'Copied'}).waitFor({timeout: 5_000});
  const clipboard = await page.evaluate(() => (globalThis as unknown as Win).navigator.clipboard.readText());
  expect(clipboard).toBe(expected.yaml);
  await pre.scrollIntoViewIfNeeded();
  await rig.screenshot(page, '02-copy-yaml');
  expect(pageErrors).toEqual([]);
});

/** The badge each state gets on the page. */
const STATE_LABEL: Record<IntegrationState, string> = {
  blocked: 'Blocked',
  'will-be-blocked': 'Will be blocked',
  unknown: 'Not known',
  allowed: 'Allowed',
  'in-cluster': 'In the cluster',
};

interface IntegrationRow {
  feature: string;
  configPath: string;
  destination: string;
  state: string;
  badge: string | null;
  allowedBy: string | null;
  why: string;
}

test('Configured integrations: SMTP will be blocked, push is allowed by the values file, and their YAML is in the one patch', async () => {
  const {page, pageErrors} = await adminDashboard();
  const section = page.locator('section[aria-labelledby="ea-integrations-title"]');
  await section.locator('table > tbody > tr').first().waitFor({timeout: 15_000});
  expect(await section.locator('#ea-integrations-title').textContent()).toBe('Configured integrations');
  expect(await section.textContent()).toContain('no Kubernetes source: only the values file decides what counts as allowed.');

  const rows: IntegrationRow[] = await section.locator('table > tbody > tr').evaluateAll((trs) =>
    (trs as unknown as El[]).map((tr) => {
      const cells = tr.querySelectorAll(':scope > td');
      const text = (el: El | null | undefined): string => (el?.textContent ?? '').trim();
      const configPath = text(cells[0]?.querySelector('div'));
      const badge = cells[2]?.querySelector('.ea-badge') ?? null;
      const allowedBy = cells[3]?.querySelector('code') ?? null;
      return {
        feature: text(cells[0])
          .slice(0, text(cells[0]).length - configPath.length)
          .trim(),
        configPath,
        destination: text(cells[1]?.querySelector('.ea-code')),
        state: text(badge),
        badge: badge?.getAttribute('class') ?? null,
        allowedBy: allowedBy === null ? null : text(allowedBy),
        why: text(cells[3]),
      };
    }),
  );
  const smtp = rows.find((r) => r.destination === `${SMTP.host}:${SMTP.port}`);
  const push = rows.find((r) => r.destination === `${PUSH.host}:${PUSH.port}`);
  expect(smtp).toMatchObject({
    feature: 'Email (SMTP)',
    configPath: 'EmailSettings.SMTPServer',
    state: 'Will be blocked',
    badge: 'ea-badge ea-badge--warn',
    allowedBy: null,
  });
  expect(push).toMatchObject({
    feature: 'Push notifications',
    configPath: 'EmailSettings.PushNotificationServer',
    state: 'Allowed',
    badge: 'ea-badge ea-badge--ok',
    allowedBy: PUSH_ALLOWED_BY,
  });
  expect(smtp?.why).toContain('No ServiceEntry covers it');
  expect(push?.why).toContain(`Your values allow it (${PUSH_ALLOWED_BY}).`);
  expect(push?.why).toContain(`Allowed by ${PUSH_ALLOWED_BY}`);
  // Most urgent first.
  expect(rows.indexOf(smtp!)).toBeLessThan(rows.indexOf(push!));

  const expected = await bridgeApi<IntegrationsResponse>('integrations');
  expect(expected).toMatchObject({mesh: null, valuesFile: true});
  // The page draws the bridge's list as it is, in its order, and adds no row of its own.
  expect(rows.map((r) => [r.destination, r.state, r.allowedBy])).toEqual(expected.items.map((i) => [`${i.host}:${i.port}`, STATE_LABEL[i.state], i.allowedBy]));

  // No YAML of its own: it points at the one patch, which holds mail under the integrations, and not push.
  expect(await section.locator('pre').count()).toBe(0);
  expect(await section.textContent()).toMatch(
    /The ServiceEntries for the \d+ switched-on integrations? that (is|are) or will be blocked head the suggested YAML below/,
  );
  const patch = await bridgeApi<SuggestionsResponse>('suggestions', {method: 'POST', body: {keys: 'all', format: 'bigbang'}});
  const integrations = patch.sections.find((x) => x.id === 'integrations');
  expect(integrations?.entries.some((name) => patch.entries.find((e) => e.name === name)?.hosts.includes(SMTP.host))).toBe(true);
  expect(patch.yaml).not.toContain(PUSH.host);

  await section.scrollIntoViewIfNeeded();
  await rig.screenshot(page, '08-integrations');
  expect(pageErrors).toEqual([]);
});

test("Ignore goes through Mattermost's cookie session and CSRF check and the plugin to the bridge, which keeps it", async () => {
  const {page, context: browserContext, pageErrors} = await adminDashboard();
  const ignoreRequests: Request[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().includes('/ignore')) ignoreRequests.push(r);
  });

  await page.locator(`button[data-key="${GITHUB.key}"]`).click();
  await page.locator('#ea-detail-title', {hasText: `${GITHUB.host}:443/TLS`}).waitFor();
  const reason = 'The GitHub plugin is not installed here; nothing should call api.github.com.';
  await page.locator('#ea-ignore-reason').fill(reason);
  const answer = page.waitForResponse((r) => r.url().endsWith(`/findings/${encodeURIComponent(GITHUB.key)}/ignore`));
  await page.locator('form[aria-label="Ignore this destination"] button[type="submit"]').click();
  expect((await answer).status()).toBe(200);
  await page.getByText(`Ignored by @${rig.mm.admin.username}`).first().waitFor({timeout: 10_000});

  // The request went to Mattermost's plugin route with the cookie and the double-submit header, no token of its own.
  expect(ignoreRequests).toHaveLength(1);
  const sent = await ignoreRequests[0].allHeaders();
  const cookies = await browserContext.cookies(rig.url);
  const csrf = cookies.find((c) => c.name === 'MMCSRF')?.value;
  expect(csrf).toBeTruthy();
  expect(sent['x-csrf-token']).toBe(csrf);
  expect(sent.authorization).toBeUndefined();
  expect(ignoreRequests[0].url()).toBe(`${rig.url}${API_BASE_PATH}/findings/${encodeURIComponent(GITHUB.key)}/ignore`);

  // The bridge's store has it, with who and why.
  const stored = await rig.bridge.store.getFinding(GITHUB.key);
  expect(stored?.status).toBe('ignored');
  expect(stored?.ignored).toMatchObject({reason, by: {username: rig.mm.admin.username, userId: rig.mm.admin.id}});

  // The CSRF rule holds on this path: without the header, or with a wrong one, Mattermost does not vouch
  // for the session and the plugin refuses the call as unauthenticated.
  const missing = await pageFetch(page, `${API_BASE_PATH}/findings/${encodeURIComponent(CI.key)}/ignore`, {method: 'POST', body: {reason: 'x'}, csrf: 'none'});
  expect(missing).toMatchObject({status: 401, body: {code: 'unauthenticated'}});
  const wrong = await pageFetch(page, `${API_BASE_PATH}/findings/${encodeURIComponent(CI.key)}/ignore`, {
    method: 'POST',
    body: {reason: 'x'},
    csrf: 'not-the-cookie',
  });
  expect(wrong).toMatchObject({status: 401, body: {code: 'unauthenticated'}});
  expect((await rig.bridge.store.getFinding(CI.key))?.status).toBe('open');

  // The table of open findings drops it once the page reloads its data (no page reload).
  await waitFor('the ignored row to leave the open findings', async () => !(await tableRows(page)).some((r) => r.key === GITHUB.key), {
    timeoutMs: 15_000,
    context,
  });
  await page.locator('#ea-detail-title').scrollIntoViewIfNeeded();
  await rig.screenshot(page, '03-ignored');
  expect(pageErrors).toEqual([]);
});

test('a blocked line appended to the log appears on the open page without a reload', async () => {
  const streams: Array<{status: number; type: string}> = [];
  const {page, pageErrors} = await adminDashboard({
    before: (p) =>
      p.on('response', (r) => {
        if (r.url().endsWith(`${API_BASE_PATH}/events`)) streams.push({status: r.status(), type: r.headers()['content-type'] ?? ''});
      }),
  });
  await page.getByText('Live', {exact: true}).waitFor({timeout: 15_000});
  await page.evaluate(() => {
    (globalThis as unknown as {__sameDocument: string}).__sameDocument = 'yes';
  });
  const navigations: string[] = [];
  page.on('framenavigated', (f) => navigations.push(f.url()));
  const polls: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/findings/revision')) polls.push(r.url());
  });
  expect((await tableRows(page)).some((r) => r.key === LIVE.key)).toBe(false);

  const t0 = Date.now();
  rig.append([blockedTls(LIVE.ip, 443, LIVE.host, {pod: PODS[1]}), blockedTls(LIVE.ip, 443, LIVE.host, {pod: PODS[0]})]);
  await page.locator(`button[data-key="${LIVE.key}"]`).waitFor({timeout: 30_000});
  const ms = Date.now() - t0;
  process.stdout.write(`live update: line appended to row shown in ${ms} ms\n`);

  const row = (await tableRows(page)).find((r) => r.key === LIVE.key)!;
  expect(row).toMatchObject({destination: LIVE.host, attempts: '2', verdict: 'Blocked'});
  expect(await page.evaluate(() => (globalThis as unknown as {__sameDocument?: string}).__sameDocument)).toBe('yes');
  expect(navigations).toEqual([]);
  // It came through the event stream (the plugin passes it unbuffered), not the 60-second safety poll.
  expect(polls).toEqual([]);
  expect(streams).toEqual([{status: 200, type: expect.stringContaining('text/event-stream')}]);
  expect((await rig.bridge.store.getFinding(LIVE.key))?.count).toBe(2);
  await page.locator(`button[data-key="${LIVE.key}"]`).scrollIntoViewIfNeeded();
  await rig.screenshot(page, '04-live-update');
  expect(pageErrors).toEqual([]);
});

test('as a user without system_admin, the dashboard renders nothing and the plugin answers 403', async () => {
  const {page, pageErrors} = await rig.newPage();
  const bridgeCalls: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith(API_BASE_PATH)) bridgeCalls.push(r.url());
  });
  await rig.login(page, 'user');
  const state = await rig.open(page, 'view=dashboard');
  expect(state.me?.roles.split(' ')).not.toContain('system_admin');
  // The bundle loads for every user and registers the same components…
  expect(state.registered.settings.map((s) => s.key)).toEqual(['Dashboard']);
  expect(state.consoleData).toEqual({adminConfig: false, pluginsList: false});
  // …but the setting draws nothing and asks the bridge nothing.
  await page.waitForTimeout(1_000);
  const root = await page.$eval('#harness-root', (el) => ({
    children: (el as unknown as El).children.length,
    text: ((el as unknown as El).textContent ?? '').trim(),
  }));
  expect(root).toEqual({children: 1, text: ''});
  expect(await page.$eval('#harness-root [data-setting]', (el) => (el as unknown as El).innerHTML)).toBe('');
  expect(bridgeCalls).toEqual([]);

  // The plugin refuses the user on every route, whatever the client does.
  const findings = await pageFetch(page, `${API_BASE_PATH}/findings`);
  expect(findings).toMatchObject({status: 403, body: {code: 'not_system_admin'}});
  expect(findings.body?.error).toContain('system administrators only');
  expect((await pageFetch(page, `${API_BASE_PATH}/status`)).status).toBe(403);
  expect((await pageFetch(page, `${API_BASE_PATH}/events`)).status).toBe(403);
  const ignore = await pageFetch(page, `${API_BASE_PATH}/findings/${encodeURIComponent(CI.key)}/ignore`, {
    method: 'POST',
    body: {reason: 'not mine'},
    csrf: 'cookie',
  });
  expect(ignore).toMatchObject({status: 403, body: {code: 'not_system_admin'}});
  expect((await rig.bridge.store.getFinding(CI.key))?.status).toBe('open');
  await rig.screenshot(page, '05-non-admin');
  expect(pageErrors).toEqual([]);
});

test('the alert post renderer shows the card for the real alert post, and its button reaches the bridge through Mattermost', async () => {
  const posts = await rig.alertPosts();
  expect(posts.length).toBeGreaterThan(0);
  const post = posts.find((p) => readAlertData(p.props)?.findings.some((f) => f.key === HOOKS.key)) as Post;
  expect(post).toBeDefined();
  const data = readAlertData(post.props)!;

  const {page, pageErrors} = await rig.newPage();
  await rig.login(page, 'admin');
  await rig.open(page, `view=post&post_id=${post.id}`);
  const card = page.locator('.ea-alert');
  await card.waitFor({timeout: 15_000});
  const text = (await card.textContent()) ?? '';
  const total = data.findings.length + data.findings_omitted;
  expect(text).toContain('Egress Advisor: ');
  expect(text).toContain(`${total} outbound destinations of Mattermost need attention`);
  for (const f of data.findings) expect(text).toContain(`${f.host ?? f.ip}:${f.port}/${f.protocol}`);
  expect(text).toContain(
    `Breaks ${data.findings
      .find((f) => f.key === HOOKS.key)!
      .features.map((x) => x.name)
      .join(', ')}`,
  );
  expect(text).toContain('3 attempts');
  // The post's buttons, drawn by the card (Mattermost skips attachments for plugin post types).
  const attachments = (post.props as {attachments?: Array<{actions?: Array<{id: string; name: string}>}>}).attachments ?? [];
  const names = attachments.flatMap((a) => (a.actions ?? []).map((b) => b.name));
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) await expect(card.getByRole('button', {name, exact: true}).first().isVisible()).resolves.toBe(true);

  // The YAML, folded, is the alert's.
  await card.locator('summary').click();
  expect(await card.locator('pre').textContent()).toBe(data.yaml);

  // A button click goes to Mattermost (CSRF header from the cookie), which calls the bridge with the hidden context.
  const show = attachments.flatMap((a) => a.actions ?? []).find((b) => b.name === 'Show ServiceEntry')!;
  const calledBefore = rig.bridge.link?.inbound.lastCallAt ?? null;
  const clicked = page.waitForResponse((r) => r.url().endsWith(`/api/v4/posts/${post.id}/actions/${show.id}`));
  await card.getByRole('button', {name: 'Show ServiceEntry'}).first().click();
  const response = await clicked;
  expect(response.status()).toBe(200);
  expect((await response.request().allHeaders())['x-csrf-token']).toBeTruthy();
  await waitFor('the bridge to be called back by Mattermost', () => (rig.bridge.link?.inbound.lastCallAt ?? null) !== calledBefore, {
    timeoutMs: 10_000,
    context,
  });

  await rig.screenshot(page, '06-alert-post');
  expect(await page.locator('.ea-alert [role="alert"]').count()).toBe(0);
  expect(pageErrors).toEqual([]);
});

test('with the bridge stopped, the dashboard says the plugin cannot reach it, and Try again finds it back', async () => {
  await rig.stopBridge();
  try {
    const {page, pageErrors} = await rig.newPage();
    await rig.login(page, 'admin');
    const answers: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith(API_BASE_PATH)) answers.push(r.status());
    });
    await rig.open(page, 'view=dashboard');
    const title = page.locator('#ea-setup-title');
    await title.waitFor({timeout: 30_000});
    expect(await title.textContent()).toBe('The plugin cannot reach the Egress Advisor bridge');
    // The plugin answered for the bridge: 502 with the address it tried.
    expect(answers.length).toBeGreaterThan(0);
    expect(new Set(answers)).toEqual(new Set([502]));
    const section = page.locator('section[aria-labelledby="ea-setup-title"]');
    const text = (await section.textContent()) ?? '';
    expect(text).toContain(rig.bridgeUrl);
    expect(text).toContain("writes its URL and secret into this plugin's settings");
    expect(await page.locator(`${FINDINGS_TABLE} > tbody > tr`).count()).toBe(0);
    await rig.screenshot(page, '07-bridge-unreachable');

    // Mattermost keeps working meanwhile.
    expect((await fetch(`${rig.url}/api/v4/system/ping`)).status).toBe(200);

    await rig.startBridgeAgain();
    await section.getByRole('button', {name: 'Try again'}).click();
    await page.waitForSelector(`${FINDINGS_TABLE} > tbody > tr`, {timeout: 30_000});
    expect((await tableRows(page)).some((r) => r.key === HOOKS.key)).toBe(true);
    expect(pageErrors).toEqual([]);
  } finally {
    if (rig.bridgeIsStopped) await rig.startBridgeAgain();
  }
});
