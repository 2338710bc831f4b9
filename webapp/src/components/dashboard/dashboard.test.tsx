import {act, screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';

import type {StatusReport} from '../../../../common/api';
import {FakeBridge, makeFinding, makeStatus} from '../../test/fake_bridge';
import {FakeEventSource} from '../../test/fake_event_source';
import {renderWithStore, settingProps} from '../../test/render';

import {DashboardSetting} from '.';

function threeFindings() {
  return [
    makeFinding({
      key: 's3.amazonaws.com:443',
      host: 's3.amazonaws.com',
      count: 120,
      features: [{id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'}],
      lastSeen: '2026-05-01T11:00:00.000Z',
    }),
    makeFinding({
      key: 'push.mattermost.com:443',
      host: 'push.mattermost.com',
      count: 3,
      verdict: 'passthrough',
      features: [{id: 'push', name: 'Push notifications', configPath: 'EmailSettings.PushNotificationServer'}],
      lastSeen: '2026-05-01T11:30:00.000Z',
    }),
    makeFinding({
      key: '52.1.2.3:587',
      host: null,
      ip: '52.1.2.3',
      port: 587,
      protocol: 'TCP',
      count: 40,
      attribution: {host: null, candidates: ['smtp.example.com'], method: 'dns', confidence: 'likely', note: 'smtp.example.com resolves to this address.'},
      features: [{id: 'email', name: 'Email (SMTP)', configPath: 'EmailSettings.SMTPServer'}],
      lastSeen: '2026-05-01T09:00:00.000Z',
    }),
  ];
}

let bridge: FakeBridge;
const realFetch = window.fetch;

beforeEach(() => {
  bridge = new FakeBridge('/plugins/egress-advisor/api/v1', threeFindings());
  window.fetch = bridge.fetch as typeof window.fetch;
  document.cookie = 'MMCSRF=csrf-dash';
  FakeEventSource.reset();
});

afterEach(() => {
  window.fetch = realFetch;
  delete (window as unknown as Record<string, unknown>).EventSource;
});

function rowsText(): string[] {
  const table = screen.getByRole('table');
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .map((r) => within(r).getAllByRole('cell')[1].querySelector('button')?.textContent ?? '');
}

async function renderDashboard(settings: Record<string, unknown> = {}, siteUrl?: string) {
  const utils = renderWithStore(<DashboardSetting {...settingProps(settings)} />, {siteUrl});
  await screen.findByRole('table');
  return utils;
}

describe('who sees it', () => {
  test('non-admins get nothing rendered and nothing is requested', () => {
    const {container} = renderWithStore(<DashboardSetting {...settingProps()} />, {admin: false});
    expect(container).toBeEmptyDOMElement();
    expect(bridge.requests).toHaveLength(0);
  });
});

describe('states', () => {
  test('loading, then at a glance: counts, features, hardening, sources and both reachabilities', async () => {
    renderWithStore(<DashboardSetting {...settingProps()} />);
    expect(screen.getByText('Loading findings from the bridge…')).toBeInTheDocument();
    const glance = await screen.findByRole('region', {name: 'At a glance'});
    await waitFor(() => expect(within(glance).getByText('Blocked destinations').nextSibling).toHaveTextContent('2'));
    expect(within(glance).getByText('1 blocked once hardened')).toBeInTheDocument();
    expect(within(glance).getByText('File storage (Amazon S3)')).toBeInTheDocument();
    expect(within(glance).getByText('Email (SMTP)')).toBeInTheDocument();
    expect(within(glance).getByText('On (REGISTRY_ONLY)')).toBeInTheDocument();
    // The source and when it last saw a line, with the exact time in the tooltip.
    expect(within(glance).getByText('kubernetes')).toBeInTheDocument();
    const lastLine = within(glance).getByText('Last line:', {exact: false}).querySelector('time');
    expect(lastLine).toHaveAttribute('datetime', '2026-05-01T11:59:00.000Z');
    expect(lastLine?.getAttribute('title')).toContain('2026-05-01 11:59:00 UTC');
    // Bridge → Mattermost, and the plugin → bridge.
    expect(within(glance).getByText('Reachable')).toBeInTheDocument();
    expect(within(glance).getByText('Connected')).toBeInTheDocument();
    expect(within(glance).getByText('http://egress-advisor.mattermost.svc.cluster.local:8080')).toBeInTheDocument();
    expect(within(glance).queryByText(/AllowedUntrustedInternalConnections/)).toBeNull();
  });

  test('empty: no findings, and the bridge has not read a line yet', async () => {
    bridge.findings = [];
    bridge.statusReport = makeStatus({
      sources: [{...makeStatus().sources[0], state: 'waiting', lastLineAt: null, lines: 0}],
    });
    renderWithStore(<DashboardSetting {...settingProps()} />);
    expect(await screen.findByText('No open findings.', {exact: false})).toBeInTheDocument();
    expect(screen.getByText(/has not read an access-log line yet/)).toBeInTheDocument();
    expect(screen.queryByRole('table')).toBeNull();
    expect(screen.getByText('none yet')).toBeInTheDocument();
  });

  test('plugin not running (404): says what to do, with no route to add, and recovers on retry', async () => {
    bridge = new FakeBridge('/chat/plugins/egress-advisor/api/v1', threeFindings());
    window.fetch = bridge.fetch as typeof window.fetch;
    bridge.mode = 'not-routed';
    const user = userEvent.setup();
    renderWithStore(<DashboardSetting {...settingProps()} />, {siteUrl: 'https://example.com/chat'});
    expect(await screen.findByRole('heading', {name: "The Egress Advisor plugin's server half does not answer"})).toBeInTheDocument();
    expect(screen.getByText(/Enable this plugin/)).toBeInTheDocument();
    expect(screen.queryByText(/VirtualService/)).toBeNull();
    expect(screen.queryByText(/nginx/)).toBeNull();

    bridge.mode = 'ok';
    await user.click(screen.getByRole('button', {name: 'Try again'}));
    expect(await screen.findByRole('table')).toBeInTheDocument();
    expect(screen.queryByText(/does not answer/)).toBeNull();
  });

  test('the plugin saying it cannot reach the bridge shows its reason; a network failure is told apart', async () => {
    const down = {
      status: 502,
      body: {error: 'The Egress Advisor bridge at http://egress-advisor:8080 cannot be reached (connection refused).', code: 'bridge_unreachable' as const},
    };
    bridge.failures.set('status', down);
    bridge.failures.set('findings', down);
    const {unmount} = renderWithStore(<DashboardSetting {...settingProps()} />);
    expect(await screen.findByRole('heading', {name: 'The plugin cannot reach the Egress Advisor bridge'})).toBeInTheDocument();
    expect(screen.getByText(/connection refused/)).toBeInTheDocument();
    unmount();
    bridge.failures.clear();

    bridge.mode = 'network';
    renderWithStore(<DashboardSetting {...settingProps()} />);
    expect(await screen.findByRole('heading', {name: 'The Egress Advisor bridge cannot be reached'})).toBeInTheDocument();
    expect(screen.getByText(/no HTTP answer/)).toBeInTheDocument();
  });

  test("an error of the bridge's own is shown with its code, not as a missing route", async () => {
    bridge.failures.set('status', {status: 403, body: {error: 'Only system admins may use Egress Advisor.', code: 'not_system_admin', requestId: 'req-9'}});
    bridge.failures.set('findings', {status: 403, body: {error: 'Only system admins may use Egress Advisor.', code: 'not_system_admin', requestId: 'req-9'}});
    renderWithStore(<DashboardSetting {...settingProps()} />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Only system admins may use Egress Advisor.');
    expect(alert).toHaveTextContent('code not_system_admin · HTTP 403 · request req-9');
    expect(screen.queryByText(/not routed/)).toBeNull();
  });
});

describe('at a glance: integrations, mesh and replica', () => {
  const meshReport = {namespace: 'mattermost', ready: true, modeSource: 'the mesh config (istio-system/istio)', allowedHosts: 4, notes: []};

  async function glance(): Promise<HTMLElement> {
    await renderDashboard();
    return screen.getByRole('region', {name: 'At a glance'});
  }

  function card(region: HTMLElement, label: string): HTMLElement {
    return within(region).getByText(label).parentElement as HTMLElement;
  }

  test('counts the configured integrations that will be blocked, with the other states beside them', async () => {
    bridge.statusReport = makeStatus({integrations: {'will-be-blocked': 3, blocked: 1, allowed: 5, 'in-cluster': 2}});
    const c = card(await glance(), 'Integrations that will be blocked');
    expect(c.querySelector('.ea-card__value')).toHaveTextContent(/^3$/);
    expect(within(c).getByText('1 blocked now · 5 allowed')).toBeInTheDocument();
  });

  test('with no integration read, the card says so', async () => {
    const c = card(await glance(), 'Integrations that will be blocked');
    expect(c.querySelector('.ea-card__value')).toHaveTextContent(/^0$/);
    expect(within(c).getByText('No configured integration read yet')).toBeInTheDocument();
  });

  test("the mesh's outbound mode decides the hardening state; the log lines are shown beside it, and a disagreement is pointed out", async () => {
    bridge.statusReport = makeStatus({
      mesh: {...meshReport, outboundMode: 'ALLOW_ANY'},
      hardening: {state: 'registry-only', evidence: 'BlackHoleCluster lines seen.'},
    });
    const c = card(await glance(), 'Egress hardening');
    expect(within(c).getByText('Off (ALLOW_ANY)')).toBeInTheDocument();
    expect(within(c).queryByText('On (REGISTRY_ONLY)')).toBeNull();
    expect(within(c).getByText('Mesh configuration: the mesh config (istio-system/istio)')).toBeInTheDocument();
    expect(within(c).getByText('Log lines: BlackHoleCluster lines seen.')).toBeInTheDocument();
    expect(within(c).getByText(/The log lines point to REGISTRY_ONLY/)).toBeInTheDocument();
    expect(within(c).getByText(/Unregistered traffic passes today/)).toBeInTheDocument();
  });

  test('mesh and log lines agreeing raise no doubt', async () => {
    bridge.statusReport = makeStatus({mesh: {...meshReport, outboundMode: 'REGISTRY_ONLY', modeSource: 'Sidecar mattermost/default'}});
    const c = card(await glance(), 'Egress hardening');
    expect(within(c).getByText('On (REGISTRY_ONLY)')).toBeInTheDocument();
    expect(within(c).getByText('Mesh configuration: Sidecar mattermost/default')).toBeInTheDocument();
    expect(within(c).queryByText(/The log lines point to/)).toBeNull();
  });

  test('a mesh whose mode is not known leaves the log lines to decide', async () => {
    bridge.statusReport = makeStatus({mesh: {...meshReport, outboundMode: 'unknown', modeSource: 'no Sidecar or mesh config could be read'}});
    const c = card(await glance(), 'Egress hardening');
    expect(within(c).getByText('On (REGISTRY_ONLY)')).toBeInTheDocument();
    expect(within(c).getByText('Mesh: outbound mode not known (no Sidecar or mesh config could be read)')).toBeInTheDocument();
    expect(within(c).getByText('BlackHoleCluster lines seen.')).toBeInTheDocument();
  });

  test('a replica on standby says so; the leader does not', async () => {
    bridge.statusReport = makeStatus({replica: 'follower'});
    const {unmount} = await renderDashboard();
    expect(
      within(screen.getByRole('region', {name: 'At a glance'})).getByText(/This bridge replica is on standby: another one reads the logs/),
    ).toBeInTheDocument();
    unmount();

    bridge.statusReport = makeStatus({replica: 'leader'});
    await renderDashboard();
    expect(screen.queryByText(/on standby/)).toBeNull();
  });

  test('a full store says what it did not keep; a store with room says nothing', async () => {
    bridge.statusReport = makeStatus({store: {findings: 50_000, maxFindings: 50_000, overflowLines: 61_234, overflowDestinations: 60_000, evictedFindings: 1}});
    const {unmount} = await renderDashboard();
    const glance = within(screen.getByRole('region', {name: 'At a glance'}));
    expect(
      glance.getByText(/maximum of 50,000 findings: 60,000 new IP-only destinations \(61,234 lines\) were not kept and 1 unexplained/),
    ).toBeInTheDocument();
    unmount();

    bridge.statusReport = makeStatus({store: {findings: 12, maxFindings: 50_000, overflowLines: 0, overflowDestinations: 0, evictedFindings: 0}});
    await renderDashboard();
    expect(screen.queryByText(/maximum of/)).toBeNull();
  });

  test('calls Mattermost refused itself are listed with the setting to change; none, nothing is said', async () => {
    const advice =
      'Mattermost refused to call http://10.0.0.40/preview itself: the address is internal (private, loopback or link-local) and ServiceSettings.AllowedUntrustedInternalConnections does not allow it.';
    bridge.statusReport = makeStatus({mattermostRefusals: [{url: 'http://10.0.0.40/preview', host: '10.0.0.40', count: 3, lastAt: null, advice}]});
    const {unmount} = await renderDashboard();
    const refused = within(screen.getByRole('status', {name: 'Calls Mattermost refused itself'}));
    expect(refused.getByText(/Mattermost refused a call itself: this is not the mesh/)).toBeInTheDocument();
    expect(refused.getByText(`${advice} (3 times)`)).toBeInTheDocument();
    unmount();

    bridge.statusReport = makeStatus({mattermostRefusals: []});
    await renderDashboard();
    expect(screen.queryByRole('status', {name: 'Calls Mattermost refused itself'})).toBeNull();
  });

  test('a bridge older than the webapp (no mesh, integrations or replica in its status) still gets its page', async () => {
    const old: Partial<StatusReport> = makeStatus();
    delete old.mesh;
    delete old.integrations;
    delete old.replica;
    bridge.statusReport = old as StatusReport;
    const region = await glance();
    expect(within(card(region, 'Egress hardening')).getByText('On (REGISTRY_ONLY)')).toBeInTheDocument();
    expect(within(card(region, 'Integrations that will be blocked')).getByText('No configured integration read yet')).toBeInTheDocument();
  });
});

describe('findings table', () => {
  test('rows show host or address, port, feature, attempts, relative times with the exact time, pods and status', async () => {
    await renderDashboard();
    const table = screen.getByRole('table');
    const smtp = within(table).getByRole('button', {name: 'Details of 52.1.2.3:587'}).closest('tr') as HTMLElement;
    expect(within(smtp).getByText('587/TCP')).toBeInTheDocument();
    expect(within(smtp).getByText('maybe smtp.example.com')).toBeInTheDocument();
    expect(within(smtp).getByText('Email (SMTP)')).toBeInTheDocument();
    expect(within(smtp).getByText('40')).toBeInTheDocument();
    expect(within(smtp).getByText('mattermost-0')).toBeInTheDocument();
    expect(within(smtp).getByText('Open')).toBeInTheDocument();
    const times = smtp.querySelectorAll('time');
    expect(times).toHaveLength(2);
    expect(times[1].getAttribute('title')).toContain('2026-05-01 09:00:00 UTC');
  });

  test('sorts by a column header, with aria-sort, and flips on a second click', async () => {
    const user = userEvent.setup();
    await renderDashboard();
    expect(rowsText()).toEqual(['s3.amazonaws.com', 'push.mattermost.com', '52.1.2.3']);
    const header = screen.getByRole('columnheader', {name: /Attempts/});
    expect(header).toHaveAttribute('aria-sort', 'none');
    await user.click(within(header).getByRole('button'));
    expect(header).toHaveAttribute('aria-sort', 'descending');
    expect(rowsText()).toEqual(['s3.amazonaws.com', '52.1.2.3', 'push.mattermost.com']);
    await user.click(within(header).getByRole('button'));
    expect(header).toHaveAttribute('aria-sort', 'ascending');
    expect(rowsText()).toEqual(['push.mattermost.com', '52.1.2.3', 's3.amazonaws.com']);
    expect(screen.getByRole('table')).toHaveAccessibleName();
    expect(screen.getByText(/sorted by attempts, ascending/)).toBeInTheDocument();

    const dest = screen.getByRole('columnheader', {name: /Destination/});
    await user.click(within(dest).getByRole('button'));
    expect(dest).toHaveAttribute('aria-sort', 'ascending');
    expect(header).toHaveAttribute('aria-sort', 'none');
    expect(rowsText()).toEqual(['52.1.2.3', 'push.mattermost.com', 's3.amazonaws.com']);
  });

  test('filters by status, verdict and text, through the bridge query', async () => {
    bridge.add(
      makeFinding({
        key: 'old.example.com:443',
        host: 'old.example.com',
        status: 'ignored',
        ignored: {by: {userId: 'u2', username: 'alice'}, reason: 'decommissioned', at: '2026-05-01T10:30:00.000Z'},
      }),
    );
    const user = userEvent.setup();
    await renderDashboard();
    expect(rowsText()).not.toContain('old.example.com');

    await user.selectOptions(screen.getByLabelText('Status'), 'ignored');
    await waitFor(() => expect(rowsText()).toEqual(['old.example.com']));
    expect(bridge.requests.some((r) => r.path.endsWith('/findings') && r.query.get('status') === 'ignored')).toBe(true);
    const row = screen.getByRole('button', {name: 'Details of old.example.com:443'}).closest('tr') as HTMLElement;
    expect(within(row).getByText('by @alice,', {exact: false})).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText('Status'), '');
    await user.selectOptions(screen.getByLabelText('Verdict'), 'passthrough');
    await waitFor(() => expect(rowsText()).toEqual(['push.mattermost.com']));
    expect(bridge.requests.some((r) => r.query.get('verdict') === 'passthrough' && !r.query.has('status'))).toBe(true);

    await user.selectOptions(screen.getByLabelText('Verdict'), '');
    await user.type(screen.getByLabelText('Search'), 'smtp');
    await waitFor(() => expect(rowsText()).toEqual(['52.1.2.3']));
    expect(bridge.requests.some((r) => r.query.get('q') === 'smtp')).toBe(true);

    await user.type(screen.getByLabelText('Search'), '-nothing');
    expect(await screen.findByText('No findings match these filters.')).toBeInTheDocument();

    await user.click(screen.getByRole('button', {name: 'Clear filters'}));
    await waitFor(() => expect(rowsText()).toEqual(['s3.amazonaws.com', 'push.mattermost.com', '52.1.2.3']));
    expect(screen.getByLabelText('Search')).toHaveValue('');
    expect(screen.getByLabelText('Status')).toHaveValue('open');
  });
});

describe('detail', () => {
  test('shows samples, attribution and the plan; ignore and un-ignore go round trip through the bridge', async () => {
    const user = userEvent.setup();
    await renderDashboard();
    await user.click(screen.getByRole('button', {name: 'Details of 52.1.2.3:587'}));
    const detail = await screen.findByRole('region', {name: '52.1.2.3:587/TCP'});
    expect(within(detail).getByRole('heading', {name: '52.1.2.3:587/TCP'})).toHaveFocus();
    expect(within(detail).getByLabelText('Sample access-log lines').textContent).toContain('BlackHoleCluster');
    expect(within(detail).getByText('a host from the Mattermost configuration that resolves to this address')).toBeInTheDocument();
    expect(within(detail).getByText('Likely')).toBeInTheDocument();
    expect(within(detail).getByText('smtp.example.com resolves to this address.')).toBeInTheDocument();
    // What to do is the bridge's plan for the finding, as the alert and /egress show say it.
    expect(within(detail).getByText('No ServiceEntry is suggested. No host name is known for 52.1.2.3:587.')).toBeInTheDocument();
    expect(within(detail).getByText('EmailSettings.SMTPServer')).toBeInTheDocument();

    // A reason is optional (as for /egress ignore and the alert's button); this one gives one.
    await user.type(within(detail).getByLabelText(/^Reason/), 'the relay is internal, traffic goes through the mail gateway');
    await user.click(within(detail).getByRole('button', {name: 'Ignore'}));
    await within(detail).findByRole('button', {name: 'Un-ignore'});
    const [post] = bridge.requestsTo('/plugins/egress-advisor/api/v1/findings/52.1.2.3%3A587/ignore', 'POST');
    expect(post.headers['X-CSRF-Token']).toBe('csrf-dash');
    expect(post.body).toEqual({reason: 'the relay is internal, traffic goes through the mail gateway'});
    expect(within(detail).getByText(/Ignored by @admin/)).toBeInTheDocument();
    expect(within(detail).getByText(/the relay is internal/)).toBeInTheDocument();
    expect(screen.getByText('Ignored 52.1.2.3:587.')).toBeInTheDocument();
    // The row says so at once.
    const row = screen.getByRole('button', {name: 'Details of 52.1.2.3:587'}).closest('tr') as HTMLElement;
    expect(within(row).getByText('Ignored')).toBeInTheDocument();

    await user.click(within(detail).getByRole('button', {name: 'Un-ignore'}));
    await within(detail).findByRole('button', {name: 'Ignore'});
    expect(bridge.requestsTo('/plugins/egress-advisor/api/v1/findings/52.1.2.3%3A587/unignore', 'POST')).toHaveLength(1);
    expect(bridge.findings.find((f) => f.key === '52.1.2.3:587')?.status).toBe('open');

    await user.click(within(detail).getByRole('button', {name: 'Close details'}));
    expect(screen.queryByRole('region', {name: '52.1.2.3:587/TCP'})).toBeNull();
    await waitFor(() => expect(screen.getByRole('button', {name: 'Details of 52.1.2.3:587'})).toHaveFocus());
  });

  test('an ignore the bridge refuses shows its message', async () => {
    bridge.failures.set('findings/s3.amazonaws.com%3A443/ignore', {
      status: 403,
      body: {error: 'Egress Advisor is for system administrators only.', code: 'not_system_admin'},
    });
    const user = userEvent.setup();
    await renderDashboard();
    await user.click(screen.getByRole('button', {name: 'Details of s3.amazonaws.com:443'}));
    const detail = await screen.findByRole('region', {name: 's3.amazonaws.com:443/TLS'});
    await user.type(within(detail).getByLabelText(/^Reason/), 'x');
    await user.click(within(detail).getByRole('button', {name: 'Ignore'}));
    expect(await within(detail).findByRole('alert')).toHaveTextContent('for system administrators only');
  });
});

describe('suggested YAML', () => {
  test('starts in the format of the plugin setting, switches format, follows the selection, copies and downloads', async () => {
    const createObjectURL = jest.fn(() => 'blob:yaml');
    const revokeObjectURL = jest.fn();
    Object.assign(URL, {createObjectURL, revokeObjectURL});
    const downloads: string[] = [];
    const click = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      downloads.push(this.download);
    });
    const user = userEvent.setup();
    // After setup(), which puts a clipboard stub of its own in place.
    const writeText = jest.fn().mockResolvedValue(undefined);
    Object.defineProperty(window.navigator, 'clipboard', {value: {writeText}, configurable: true});
    try {
      await renderDashboard({suggestionformat: 'package'});
      const panel = screen.getByRole('region', {name: 'Suggested YAML'});
      const yaml = await within(panel).findByLabelText(/^Suggested YAML, Mattermost package values/);
      expect(yaml.textContent).toBe('# format: package\n# Destinations found in the access log\n- s3.amazonaws.com\n- push.mattermost.com\n');
      expect(within(panel).getByText(/^Everything to add, in one patch/)).toBeInTheDocument();

      await user.selectOptions(within(panel).getByLabelText('Format'), 'serviceentry');
      await waitFor(() => expect(within(panel).getByLabelText(/^Suggested YAML, ServiceEntry manifests/).textContent).toContain('# format: serviceentry'));
      const last = bridge.requestsTo('/plugins/egress-advisor/api/v1/suggestions', 'POST').pop();
      expect(last?.body).toEqual({keys: 'all', format: 'serviceentry'});
      expect(last?.headers['X-CSRF-Token']).toBe('csrf-dash');

      await user.click(screen.getByRole('checkbox', {name: 'Select push.mattermost.com:443'}));
      await waitFor(() =>
        expect(within(panel).getByLabelText(/^Suggested YAML/).textContent).toBe(
          '# format: serviceentry\n# Destinations found in the access log\n- push.mattermost.com\n',
        ),
      );
      expect(bridge.requestsTo('/plugins/egress-advisor/api/v1/suggestions', 'POST').pop()?.body).toEqual({
        keys: ['push.mattermost.com:443'],
        format: 'serviceentry',
      });
      expect(within(panel).getByText(/^The part of the patch for the 1 selected destination, named as in the whole patch/)).toBeInTheDocument();

      await user.click(within(panel).getByRole('button', {name: 'Copy YAML'}));
      expect(writeText).toHaveBeenCalledWith('# format: serviceentry\n# Destinations found in the access log\n- push.mattermost.com\n');
      expect(await within(panel).findByRole('button', {name: 'Copied'})).toBeInTheDocument();
      expect(within(panel).getByText('Copied to the clipboard')).toBeInTheDocument();

      await user.click(within(panel).getByRole('button', {name: 'Download'}));
      expect(downloads).toEqual(['egress-advisor-serviceentries.yaml']);
      const blob = (createObjectURL.mock.calls[0] as unknown as [Blob])[0];
      expect(blob.type).toBe('application/yaml;charset=utf-8');

      // Back to the whole patch: the selection is emptied.
      await user.click(within(panel).getByRole('button', {name: 'Show the whole patch'}));
      expect(screen.getByRole('checkbox', {name: 'Select push.mattermost.com:443'})).not.toBeChecked();
      await waitFor(() => expect(within(panel).getByLabelText(/^Suggested YAML/).textContent).toContain('- s3.amazonaws.com\n'));
      expect(bridge.requestsTo('/plugins/egress-advisor/api/v1/suggestions', 'POST').pop()?.body).toEqual({keys: 'all', format: 'serviceentry'});
    } finally {
      click.mockRestore();
    }
  });

  test('the chosen format is remembered in the store for the next visit', async () => {
    const user = userEvent.setup();
    const {store, unmount} = await renderDashboard();
    await user.selectOptions(screen.getByLabelText('Format'), 'bigbang-legacy');
    expect((store.getState() as Record<string, {format: string}>)['plugins-egress-advisor'].format).toBe('bigbang-legacy');
    unmount();
  });

  test('"Suggested YAML for this destination" selects it and moves the focus to the YAML', async () => {
    const user = userEvent.setup();
    await renderDashboard();
    await user.click(screen.getByRole('button', {name: 'Details of s3.amazonaws.com:443'}));
    await user.click(await screen.findByRole('button', {name: 'Suggested YAML for this destination'}));
    expect(screen.getByRole('checkbox', {name: 'Select s3.amazonaws.com:443'})).toBeChecked();
    expect(screen.getByRole('heading', {name: 'Suggested YAML'})).toHaveFocus();
    await waitFor(() =>
      expect(screen.getByLabelText(/^Suggested YAML, /).textContent).toBe('# format: bigbang\n# Destinations found in the access log\n- s3.amazonaws.com\n'),
    );
  });
});

describe('live updates', () => {
  test('an event with a new revision reloads the findings and is announced; unmount closes the stream', async () => {
    (window as unknown as {EventSource: unknown}).EventSource = FakeEventSource;
    const {unmount} = await renderDashboard();
    const es = FakeEventSource.latest();
    expect(es.url).toBe('/plugins/egress-advisor/api/v1/events');
    act(() => es.open());
    expect(await screen.findByText('Live')).toBeInTheDocument();

    // The same revision as shown: nothing to do.
    const before = bridge.requestsTo('/plugins/egress-advisor/api/v1/findings').length;
    act(() => es.emit('revision', {revision: bridge.revision, keys: null}));

    bridge.add(
      makeFinding({
        key: 'api.github.com:443',
        host: 'api.github.com',
        features: [{id: 'github', name: 'GitHub plugin', configPath: 'PluginSettings.Plugins.github'}],
      }),
    );
    act(() => es.emit('findings-changed', {revision: bridge.revision, keys: ['api.github.com:443']}));
    await waitFor(() => expect(rowsText()).toContain('api.github.com'), {timeout: 4000});
    expect(bridge.requestsTo('/plugins/egress-advisor/api/v1/findings').length).toBe(before + 1);
    expect(screen.getByText('Findings updated: 4 open destinations.')).toBeInTheDocument();

    unmount();
    expect(es.closed).toBe(true);
  });

  test('without EventSource it polls the revision', async () => {
    jest.useFakeTimers({advanceTimers: true});
    try {
      await renderDashboard();
      expect(await screen.findByText('Checking every 15 seconds')).toBeInTheDocument();
      bridge.add(makeFinding({key: 'new.example.com:443', host: 'new.example.com'}));
      await act(async () => {
        await jest.advanceTimersByTimeAsync(15_000);
      });
      expect(bridge.requestsTo('/plugins/egress-advisor/api/v1/findings/revision')).toHaveLength(1);
      await act(async () => {
        await jest.advanceTimersByTimeAsync(2_500);
      });
      await waitFor(() => expect(rowsText()).toContain('new.example.com'));
    } finally {
      jest.useRealTimers();
    }
  });
});
