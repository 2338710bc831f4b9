import {act, screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';

import type {IntegrationsResponse, MeshReport} from '../../../../common/api';
import type {ConnectionTestReport, ConnectionTestResult} from '../../../../common/connection-tests';
import {FakeBridge, makeFinding, makeIntegration, makeIntegrations} from '../../test/fake_bridge';
import {FakeEventSource} from '../../test/fake_event_source';
import {renderWithStore, settingProps} from '../../test/render';

import {MIN_REFRESH_MS} from './dashboard';

import {DashboardSetting} from '.';

const ROOT = '/plugins/egress-advisor/api/v1';

const S3 = {id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'};
const PUSH = {id: 'push', name: 'Push notifications', configPath: 'EmailSettings.PushNotificationServer'};
const GITLAB = {id: 'gitlab-sso', name: 'GitLab single sign-on', configPath: 'GitLabSettings.AuthEndpoint'};
const HOOK = {id: 'outgoing-webhook', name: 'Outgoing webhook "deploy"', configPath: 'OutgoingWebhooks.deploy.CallbackURLs'};
const SMTP = {id: 'email', name: 'Email (SMTP)', configPath: 'EmailSettings.SMTPServer'};
const MINIO = {id: 'file-storage-minio', name: 'File storage (MinIO)', configPath: 'FileSettings.AmazonS3Endpoint'};

function mesh(p: Partial<MeshReport> = {}): MeshReport {
  return {
    namespace: 'mattermost',
    ready: true,
    outboundMode: 'REGISTRY_ONLY',
    modeSource: 'Sidecar mattermost/default',
    allowedHosts: 12,
    notes: ['ServiceEntry mattermost/old-smtp is exported to istio-system only: it does not apply to Mattermost.'],
    ...p,
  };
}

/** One of each state a hardened mesh can give, most urgent first as the bridge orders them. */
function hardenedMesh(): IntegrationsResponse {
  return makeIntegrations({
    mesh: mesh(),
    items: [
      makeIntegration({
        feature: S3,
        host: 's3.amazonaws.com',
        state: 'blocked',
        findings: [{key: 's3.amazonaws.com:443', verdict: 'blocked'}],
        detail: "Mattermost's calls to it are being dropped now (BlackHoleCluster): add the ServiceEntry below.",
      }),
      makeIntegration({
        feature: PUSH,
        host: 'push.mattermost.com',
        detail: 'No ServiceEntry covers it: the first call Mattermost makes to it will be dropped.',
      }),
      makeIntegration({feature: HOOK, host: 'hooks.example.net', port: null, detail: 'The callback URL names no port: nothing can be checked.'}),
      makeIntegration({feature: GITLAB, host: 'gitlab.example.com', enabled: false, detail: 'Switched off in the configuration. No ServiceEntry covers it.'}),
      makeIntegration({
        feature: SMTP,
        host: 'smtp.example.com',
        port: 587,
        state: 'allowed',
        allowedBy: 'ServiceEntry mattermost/smtp',
        detail: 'ServiceEntry mattermost/smtp lets it out.',
      }),
      makeIntegration({
        feature: MINIO,
        host: 'minio.storage.svc.cluster.local',
        port: 9000,
        state: 'in-cluster',
        detail: 'An in-cluster Service or private address: no MESH_EXTERNAL ServiceEntry is needed.',
      }),
    ],
  });
}

function findings() {
  return [
    makeFinding({key: 's3.amazonaws.com:443', host: 's3.amazonaws.com', features: [S3]}),
    makeFinding({key: 'push.mattermost.com:443', host: 'push.mattermost.com', verdict: 'passthrough', features: [PUSH]}),
  ];
}

let bridge: FakeBridge;
const realFetch = window.fetch;

beforeEach(() => {
  bridge = new FakeBridge(ROOT, findings());
  bridge.integrationsReport = hardenedMesh();
  window.fetch = bridge.fetch as typeof window.fetch;
  document.cookie = 'MMCSRF=csrf-int';
  FakeEventSource.reset();
});

afterEach(() => {
  window.fetch = realFetch;
  delete (window as unknown as Record<string, unknown>).EventSource;
});

function section(): HTMLElement {
  return screen.getByRole('region', {name: 'Configured integrations'});
}

/** The one YAML panel of the page, below the findings. */
function yamlPanel(): HTMLElement {
  return screen.getByRole('region', {name: 'Suggested YAML'});
}

const POINTER = /head the suggested YAML below/;

function rowOf(featureName: string): HTMLElement {
  return within(section()).getByText(featureName).closest('tr') as HTMLElement;
}

/** The Destination cell of a row. */
function destinationOf(featureName: string): HTMLElement {
  return within(rowOf(featureName)).getAllByRole('cell')[1];
}

function integrationRequests() {
  return bridge.requestsTo(`${ROOT}/integrations`, 'GET');
}

async function renderDashboard(settings: Record<string, unknown> = {}) {
  const utils = renderWithStore(<DashboardSetting {...settingProps(settings)} />);
  await within(await screen.findByRole('region', {name: 'Configured integrations'})).findByRole('table');
  return utils;
}

describe('the table', () => {
  test('each state has its badge, the destination, the sentence and what allows it; a switched-off one is muted', async () => {
    await renderDashboard();
    const table = within(section()).getByRole('table');
    expect(within(table).getAllByRole('row')).toHaveLength(1 + 6);

    const s3 = rowOf('File storage (Amazon S3)');
    expect(within(s3).getByText('FileSettings.AmazonS3Endpoint')).toHaveClass('ea-small', 'ea-muted');
    expect(destinationOf('File storage (Amazon S3)')).toHaveTextContent(/^s3\.amazonaws\.com:443$/);
    expect(within(s3).getByText('Blocked')).toHaveClass('ea-badge--error');
    expect(within(s3).getByText(/being dropped now/)).toBeInTheDocument();

    expect(within(rowOf('Push notifications')).getByText('Will be blocked')).toHaveClass('ea-badge--warn');

    expect(destinationOf('Outgoing webhook "deploy"')).toHaveTextContent(/^hooks\.example\.netno port$/);
    expect(within(destinationOf('Outgoing webhook "deploy"')).getByText('no port')).toHaveClass('ea-muted');

    const smtp = rowOf('Email (SMTP)');
    expect(within(smtp).getByText('Allowed')).toHaveClass('ea-badge--ok');
    expect(destinationOf('Email (SMTP)')).toHaveTextContent(/^smtp\.example\.com:587$/);
    expect(within(smtp).getByText('Allowed by', {exact: false})).toHaveTextContent('Allowed by ServiceEntry mattermost/smtp');

    const minio = rowOf('File storage (MinIO)');
    expect(within(minio).getByText('In the cluster')).toHaveAttribute('class', 'ea-badge');
    expect(within(minio).queryByText('Allowed by', {exact: false})).toBeNull();

    const gitlab = rowOf('GitLab single sign-on');
    expect(gitlab).toHaveClass('ea-row--off');
    expect(within(gitlab).getByText('(switched off)')).toBeInTheDocument();
    expect(rowOf('Push notifications')).not.toHaveClass('ea-row--off');
    expect(within(rowOf('Push notifications')).queryByText('(switched off)')).toBeNull();

    expect(within(section()).getByText('1 blocked · 3 will be blocked · 1 allowed · 1 in the cluster')).toBeInTheDocument();
    expect(within(section()).queryByText(/Nothing configured will be blocked/)).toBeNull();
  });

  test('the mesh line: outbound mode, where it comes from, and its notes folded away', async () => {
    const user = userEvent.setup();
    await renderDashboard();
    const line = within(section()).getByText('Mesh:').parentElement as HTMLElement;
    expect(line).toHaveTextContent(
      'REGISTRY_ONLY, unregistered hosts are blocked (from Sidecar mattermost/default) · namespace mattermost · ServiceEntries allow 12 hosts and ports',
    );
    const note = within(section()).getByText(/exported to istio-system only/);
    expect(note).not.toBeVisible();
    await user.click(within(section()).getByText('1 note on this picture'));
    expect(note).toBeVisible();
    expect(within(section()).queryByText(/Still reading the mesh/)).toBeNull();
  });

  test('a mesh not read in full says the states may still change', async () => {
    bridge.integrationsReport = {...hardenedMesh(), mesh: mesh({ready: false, outboundMode: 'ALLOW_ANY', modeSource: 'the mesh config', notes: []})};
    await renderDashboard();
    expect(within(section()).getByText('Mesh:').parentElement).toHaveTextContent('ALLOW_ANY, unregistered hosts pass today (from the mesh config)');
    expect(within(section()).getByText(/Still reading the mesh/)).toBeInTheDocument();
    expect(within(section()).queryByText(/on this picture/)).toBeNull();
  });

  test('without a Kubernetes source only the values file decides; with none, integrations are not known', async () => {
    bridge.integrationsReport = makeIntegrations({
      mesh: null,
      valuesFile: false,
      items: [makeIntegration({feature: PUSH, host: 'push.mattermost.com', state: 'unknown', detail: 'Nothing says what the mesh allows.'})],
    });
    await renderDashboard();
    expect(within(section()).getByText(/no Kubernetes source: only the values file decides, and none was given/)).toBeInTheDocument();
    expect(within(rowOf('Push notifications')).getByText('Not known')).toHaveClass('ea-badge--muted');
    // Nothing can be suggested for what is not known, and it is not "all clear" either.
    expect(within(section()).queryByText(POINTER)).toBeNull();
    expect(within(section()).queryByText(/Nothing configured will be blocked/)).toBeNull();
  });

  test('with a values file and no Kubernetes source, the values file alone decides', async () => {
    bridge.integrationsReport = {...hardenedMesh(), mesh: null, valuesFile: true};
    await renderDashboard();
    expect(within(section()).getByText('no Kubernetes source: only the values file decides what counts as allowed.')).toBeInTheDocument();
  });
});

describe('empty and loading', () => {
  test('no integration configured or read yet', async () => {
    bridge.integrationsReport = makeIntegrations({mesh: mesh()});
    renderWithStore(<DashboardSetting {...settingProps()} />);
    expect(await screen.findByText('No integrations to show.', {exact: false})).toBeInTheDocument();
    expect(within(section()).queryByRole('table')).toBeNull();
    expect(within(section()).queryByText(/Nothing configured will be blocked/)).toBeNull();
    expect(within(section()).queryByText(POINTER)).toBeNull();
  });

  test('"Nothing configured will be blocked" when every integration is allowed or in the cluster', async () => {
    const report = hardenedMesh();
    bridge.integrationsReport = {...report, items: report.items.filter((i) => i.state === 'allowed' || i.state === 'in-cluster')};
    await renderDashboard();
    expect(within(section()).getByText('Nothing configured will be blocked.', {exact: false})).toBeInTheDocument();
    expect(within(section()).getAllByRole('row')).toHaveLength(1 + 2);
    expect(within(section()).queryByText(POINTER)).toBeNull();
  });

  test('says it is reading until the answer is in', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    window.fetch = (async (input: string, init?: RequestInit) => {
      if (input.includes('/integrations')) await gate;
      return bridge.fetch(input, init);
    }) as typeof window.fetch;
    renderWithStore(<DashboardSetting {...settingProps()} />);
    await screen.findByRole('table', {name: /^Findings:/});
    expect(within(section()).getByRole('status')).toHaveTextContent('Reading the integrations…');
    expect(within(section()).queryByRole('table')).toBeNull();
    release();
    expect(await within(section()).findByRole('table')).toBeInTheDocument();
    expect(within(section()).queryByText('Reading the integrations…')).toBeNull();
  });
});

describe('suggested YAML: one patch', () => {
  const PATCH =
    '# format: package\n' +
    '# Configured integrations that are or will be blocked\n- s3.amazonaws.com:443\n- push.mattermost.com:443\n' +
    '# Destinations found in the access log\n- api.github.com\n';

  test('the integrations at risk head it, then the findings no integration holds; it copies and downloads as shown', async () => {
    bridge = new FakeBridge(ROOT, [...findings(), makeFinding({key: 'api.github.com:443', host: 'api.github.com'})]);
    bridge.integrationsReport = hardenedMesh();
    bridge.leftOut = {skipped: [{host: 'hooks.example.net', reason: 'no port in the configuration'}], notes: ['Check the port of the webhook.']};
    window.fetch = bridge.fetch as typeof window.fetch;
    const createObjectURL = jest.fn(() => 'blob:yaml');
    Object.assign(URL, {createObjectURL, revokeObjectURL: jest.fn()});
    const downloads: string[] = [];
    const click = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      downloads.push(this.download);
    });
    const user = userEvent.setup();
    const writeText = jest.fn().mockResolvedValue(undefined);
    Object.defineProperty(window.navigator, 'clipboard', {value: {writeText}, configurable: true});
    try {
      await renderDashboard({suggestionformat: 'package'});
      // The table points at the patch; it has no YAML of its own.
      expect(within(section()).getByText(POINTER)).toHaveTextContent(
        'The ServiceEntries for the 2 switched-on integrations that are or will be blocked head the suggested YAML below',
      );
      expect(within(section()).queryByRole('button', {name: 'Copy YAML'})).toBeNull();
      expect(screen.getAllByRole('button', {name: 'Copy YAML'})).toHaveLength(1);

      const panel = yamlPanel();
      // The switched-off integration, the one without a port and those already allowed are not in it;
      // push.mattermost.com is an integration and a finding, and is listed once.
      const yaml = await within(panel).findByLabelText('Suggested YAML, Mattermost package values (routes.outbound)');
      expect(yaml.textContent).toBe(PATCH);
      expect(bridge.requestsTo(`${ROOT}/suggestions`, 'POST').pop()?.body).toEqual({keys: 'all', format: 'package'});
      expect(within(panel).getByRole('list', {name: 'Sections of the YAML'})).toHaveTextContent(
        'Configured integrations that are or will be blocked: 2 entries' + 'Destinations found in the access log: 1 entry',
      );
      expect(within(panel).getByText('hooks.example.net').closest('li')).toHaveTextContent('hooks.example.net: no port in the configuration');
      expect(within(panel).getByText('Check the port of the webhook.')).toBeInTheDocument();

      await user.click(within(panel).getByRole('button', {name: 'Copy YAML'}));
      expect(writeText).toHaveBeenCalledWith(PATCH);
      expect(await within(panel).findByRole('button', {name: 'Copied'})).toBeInTheDocument();

      await user.click(within(panel).getByRole('button', {name: 'Download'}));
      expect(downloads).toEqual(['egress-advisor-package-values.yaml']);
    } finally {
      click.mockRestore();
    }
  });

  test('switching the format writes the patch again in that format, and does not read the integrations again', async () => {
    const user = userEvent.setup();
    const {store} = await renderDashboard();
    await waitFor(() => expect(within(yamlPanel()).getByLabelText(/^Suggested YAML, Big Bang values \(routes/).textContent).toContain('# format: bigbang\n'));
    const before = integrationRequests().length;

    await user.selectOptions(within(yamlPanel()).getByLabelText('Format'), 'serviceentry');
    await waitFor(() =>
      expect(within(yamlPanel()).getByLabelText(/^Suggested YAML, ServiceEntry manifests/).textContent).toBe(
        '# format: serviceentry\n# Configured integrations that are or will be blocked\n- s3.amazonaws.com:443\n- push.mattermost.com:443\n',
      ),
    );
    expect(bridge.requestsTo(`${ROOT}/suggestions`, 'POST').pop()?.body).toEqual({keys: 'all', format: 'serviceentry'});
    expect(integrationRequests()).toHaveLength(before);
    expect(integrationRequests().every((r) => r.query.toString() === '')).toBe(true);
    expect((store.getState() as Record<string, {format: string}>)['plugins-egress-advisor'].format).toBe('serviceentry');
  });

  test('with nothing open, the configured integrations at risk alone make the patch', async () => {
    bridge = new FakeBridge(ROOT, []);
    bridge.integrationsReport = hardenedMesh();
    bridge.statusReport = {...bridge.statusReport, integrations: {blocked: 1, 'will-be-blocked': 1}};
    window.fetch = bridge.fetch as typeof window.fetch;
    await renderDashboard();
    await waitFor(() =>
      expect(within(yamlPanel()).getByLabelText(/^Suggested YAML, /).textContent).toBe(
        '# format: bigbang\n# Configured integrations that are or will be blocked\n- s3.amazonaws.com:443\n- push.mattermost.com:443\n',
      ),
    );
  });
});

describe('findings of an integration', () => {
  test('open in the detail view, and closing it returns to the integration', async () => {
    const user = userEvent.setup();
    await renderDashboard();
    const s3 = rowOf('File storage (Amazon S3)');
    expect(within(s3).getByText('(Blocked)')).toBeInTheDocument();
    const open = within(s3).getByRole('button', {name: 'Open the finding s3.amazonaws.com:443'});
    await user.click(open);
    const detail = await screen.findByRole('region', {name: 's3.amazonaws.com:443/TLS'});
    expect(within(detail).getByRole('heading', {name: 's3.amazonaws.com:443/TLS'})).toHaveFocus();
    expect(bridge.requestsTo(`${ROOT}/findings/s3.amazonaws.com%3A443`, 'GET')).toHaveLength(1);
    // The same finding is marked in the findings table.
    expect(screen.getByRole('button', {name: 'Details of s3.amazonaws.com:443'}).closest('tr')).toHaveClass('ea-row--current');

    await user.click(within(detail).getByRole('button', {name: 'Close details'}));
    expect(screen.queryByRole('region', {name: 's3.amazonaws.com:443/TLS'})).toBeNull();
    expect(open).toHaveFocus();
  });

  test('integrations without findings offer nothing to open', async () => {
    await renderDashboard();
    expect(within(rowOf('Push notifications')).queryByRole('button')).toBeNull();
    expect(within(section()).getAllByRole('button', {name: /^Open the finding/})).toHaveLength(1);
  });
});

describe('refreshing', () => {
  test('a new findings revision reads the integrations again; the revision already shown does not', async () => {
    jest.useFakeTimers({advanceTimers: true});
    try {
      (window as unknown as {EventSource: unknown}).EventSource = FakeEventSource;
      await renderDashboard();
      const es = FakeEventSource.latest();
      act(() => es.open());
      const before = integrationRequests().length;
      act(() => es.emit('revision', {revision: bridge.revision, keys: null}));
      await act(async () => {
        await jest.advanceTimersByTimeAsync(MIN_REFRESH_MS + 500);
      });
      expect(integrationRequests()).toHaveLength(before);

      // The ServiceEntry was deployed: the finding resolves, the integration is allowed.
      bridge.change('s3.amazonaws.com:443', {status: 'resolved', resolvedAt: '2026-05-01T12:05:00.000Z'});
      const report = hardenedMesh();
      bridge.integrationsReport = {
        ...report,
        items: report.items.map((i) =>
          i.feature.id === 'file-storage'
            ? {...i, state: 'allowed', allowedBy: 'ServiceEntry mattermost/s3', findings: [], detail: 'ServiceEntry mattermost/s3 lets it out.'}
            : i,
        ),
      };
      act(() => es.emit('findings-changed', {revision: bridge.revision, keys: ['s3.amazonaws.com:443']}));
      await act(async () => {
        await jest.advanceTimersByTimeAsync(MIN_REFRESH_MS + 500);
      });
      await waitFor(() => expect(within(rowOf('File storage (Amazon S3)')).getByText('Allowed')).toBeInTheDocument());
      expect(integrationRequests()).toHaveLength(before + 1);
      await waitFor(() =>
        expect(within(yamlPanel()).getByLabelText(/^Suggested YAML, /).textContent).toBe(
          '# format: bigbang\n# Configured integrations that are or will be blocked\n- push.mattermost.com:443\n',
        ),
      );
    } finally {
      jest.useRealTimers();
    }
  });

  test('"Refresh" reads them again with the rest', async () => {
    const user = userEvent.setup();
    await renderDashboard();
    const before = integrationRequests().length;
    await user.click(screen.getByRole('button', {name: 'Refresh'}));
    await waitFor(() => expect(integrationRequests()).toHaveLength(before + 1));
  });
});

describe('errors', () => {
  test("an error of the bridge is shown with its code while the rest of the page works, and 'Try again' reads again", async () => {
    bridge.failures.set('integrations', {status: 500, body: {error: 'The mesh could not be read.', code: 'internal', requestId: 'req-3'}});
    const user = userEvent.setup();
    renderWithStore(<DashboardSetting {...settingProps()} />);
    const alert = await within(await screen.findByRole('region', {name: 'Configured integrations'})).findByRole('alert');
    expect(alert).toHaveTextContent('The bridge answered with an error. The mesh could not be read.');
    expect(alert).toHaveTextContent('code internal · HTTP 500 · request req-3');
    expect(screen.getByRole('table', {name: /^Findings:/})).toBeInTheDocument();

    bridge.failures.delete('integrations');
    await user.click(within(alert).getByRole('button', {name: 'Try again'}));
    expect(await within(section()).findByRole('table')).toBeInTheDocument();
    expect(within(section()).queryByRole('alert')).toBeNull();
  });

  test('a bridge without this list says so, without an alert', async () => {
    bridge.failures.set('integrations', {status: 404, body: {error: 'No such route.', code: 'not_found'}});
    renderWithStore(<DashboardSetting {...settingProps()} />);
    expect(await screen.findByText('This bridge does not list the configured integrations; a newer version does.')).toBeInTheDocument();
    expect(within(section()).queryByRole('alert')).toBeNull();
    expect(within(section()).queryByText('Reading the integrations…')).toBeNull();
  });

  test('lost contact after a first answer keeps the table and says it could not read again', async () => {
    const user = userEvent.setup();
    await renderDashboard();
    bridge.mode = 'bridge-down';
    await user.click(screen.getByRole('button', {name: 'Refresh'}));
    expect(await within(section()).findByText(/^Could not read the integrations again: .*answered 502/)).toBeInTheDocument();
    expect(within(section()).getByRole('table')).toBeInTheDocument();
  });
});

describe("Mattermost's connection tests on the rows", () => {
  const result = (over: Partial<ConnectionTestResult>): ConnectionTestResult => ({
    id: 't1',
    kind: 's3',
    label: 'File storage (S3)',
    target: {host: 's3.amazonaws.com', port: 443},
    trigger: 'person',
    requestedBy: {userId: 'u1', username: 'alice'},
    startedAt: '2026-05-01T12:03:00.000Z',
    finishedAt: '2026-05-01T12:03:02.000Z',
    outcome: 'failed',
    message: 'Unable to connect to S3.',
    httpStatus: 500,
    findingKeys: ['s3.amazonaws.com:443'],
    ...over,
  });
  const report = (over: Partial<ConnectionTestReport>): ConnectionTestReport => ({
    kind: 's3',
    label: 'File storage (S3)',
    features: [{id: 'file-storage', configPathPrefix: 'FileSettings.AmazonS3'}],
    onlyWhenAsked: false,
    configured: true,
    history: [],
    nextAllowedAt: null,
    ...over,
  });

  test('the latest result and the earlier ones on the row the test speaks for; other rows have none', async () => {
    bridge.integrationsReport = {
      ...hardenedMesh(),
      tests: [report({history: [result({}), result({id: 't0', outcome: 'passed', finishedAt: '2026-05-01T11:00:00.000Z'})]})],
    };
    await renderDashboard();
    const s3 = rowOf('File storage (Amazon S3)');
    expect(within(s3).getByText('Test failed')).toHaveClass('ea-badge--error');
    expect(
      within(s3).getByText(
        /Mattermost could not reach File storage \(S3\) \(s3\.amazonaws\.com:443\) at 2026-05-01 12:03:02 UTC: Unable to connect to S3\. \(asked by @alice\)/,
      ),
    ).toBeInTheDocument();
    expect(within(s3).getByText('Earlier tests: 1 earlier')).toBeInTheDocument();
    // The earlier test is dated as every view dates a time (common/time.ts).
    expect(within(s3).getByText(/^2026-05-01 12:03:00 UTC · /)).toBeInTheDocument();
    expect(within(rowOf('Push notifications')).queryByRole('button', {name: /^Test .* now/})).toBeNull();
  });

  test('"Test now" asks the bridge for that integration, says the answer and reads the rows again', async () => {
    bridge.integrationsReport = {...hardenedMesh(), tests: [report({})]};
    bridge.testAnswer = {ran: true, result: result({id: 't2', outcome: 'passed', message: 'Mattermost answered OK.', httpStatus: 200})};
    await renderDashboard();
    const before = integrationRequests().length;
    await userEvent.click(within(rowOf('File storage (Amazon S3)')).getByRole('button', {name: /^Test File storage \(S3\) now/}));
    await waitFor(() =>
      expect(within(rowOf('File storage (Amazon S3)')).getByRole('status')).toHaveTextContent(
        'Mattermost reached File storage (S3) (s3.amazonaws.com:443) at 2026-05-01 12:03:02 UTC.',
      ),
    );
    expect(bridge.requestsTo(`${ROOT}/integrations/test`, 'POST').map((r) => r.body)).toEqual([{kind: 's3'}]);
    await waitFor(() => expect(integrationRequests().length).toBeGreaterThan(before));
    expect(await within(rowOf('File storage (Amazon S3)')).findByText('Test passed')).toHaveClass('ea-badge--ok');
  });

  test('a refused test (rate limit) says why and when', async () => {
    bridge.integrationsReport = {...hardenedMesh(), tests: [report({})]};
    bridge.testAnswer = {
      ran: false,
      reason: 'File storage (S3) was tested less than 300 s ago; the next test may run at 2026-05-01 12:08:00 UTC.',
      nextAllowedAt: '2026-05-01T12:08:00.000Z',
      latest: null,
    };
    await renderDashboard();
    await userEvent.click(within(rowOf('File storage (Amazon S3)')).getByRole('button', {name: /^Test File storage \(S3\) now/}));
    await waitFor(() =>
      expect(within(rowOf('File storage (Amazon S3)')).getByRole('status')).toHaveTextContent('Not tested: File storage (S3) was tested less than 300 s ago'),
    );
  });
});

describe('the rehearsal of REGISTRY_ONLY', () => {
  function rehearsal(): HTMLElement {
    return within(section()).getByRole('region', {name: 'Rehearsal of REGISTRY_ONLY'});
  }
  const allowAny = () => makeIntegrations({mesh: mesh({outboundMode: 'ALLOW_ANY', modeSource: "Istio's default"}), items: [makeIntegration({feature: S3})]});

  test('before any rehearsal the page says so, and how to run one', async () => {
    bridge.integrationsReport = allowAny();
    await renderDashboard();
    expect(within(rehearsal()).getByText(/No rehearsal has run yet/)).toBeInTheDocument();
    expect(within(rehearsal()).getByRole('button', {name: 'Rehearse REGISTRY_ONLY'})).toBeEnabled();
  });

  test('"Rehearse REGISTRY_ONLY" asks the bridge, then shows what would break with its ServiceEntry', async () => {
    bridge.integrationsReport = allowAny();
    bridge.rehearsalAnswer = {
      ran: true,
      report: {
        state: 'done',
        mode: 'ALLOW_ANY',
        modeSource: "Istio's default",
        startedAt: '2026-05-01T12:03:00.000Z',
        finishedAt: '2026-05-01T12:03:08.000Z',
        requestedBy: {userId: 'u1', username: 'alice'},
        summary: 'REGISTRY_ONLY would break File storage (S3): each needs a ServiceEntry before REGISTRY_ONLY is switched on.',
        nextAllowedAt: '2026-05-01T12:08:00.000Z',
        entries: [
          {
            kind: 's3',
            label: 'File storage (S3)',
            verdict: 'will-break',
            detail: 'Its test connection left the mesh through PassthroughCluster (s3.amazonaws.com:443).',
            test: null,
            lines: [{key: 's3.amazonaws.com:443', destination: 's3.amazonaws.com:443', named: true}],
            yaml: 'serviceEntries:\n  - name: s3-amazonaws-com\n',
          },
          {kind: 'smtp', label: 'Email (SMTP)', verdict: 'not-tested', detail: 'The email test sends a real email.', test: null, lines: [], yaml: ''},
        ],
      },
    };
    await renderDashboard();
    const before = integrationRequests().length;
    await userEvent.click(within(rehearsal()).getByRole('button', {name: 'Rehearse REGISTRY_ONLY'}));
    expect(bridge.requestsTo(`${ROOT}/integrations/rehearse`, 'POST')).toHaveLength(1);
    await waitFor(() => expect(integrationRequests().length).toBeGreaterThan(before));
    expect(await within(rehearsal()).findByText('Breaks under REGISTRY_ONLY')).toHaveClass('ea-badge--error');
    expect(within(rehearsal()).getByText('PassthroughCluster: s3.amazonaws.com:443')).toBeInTheDocument();
    expect(within(rehearsal()).getByLabelText('ServiceEntry for File storage (S3)')).toHaveTextContent('name: s3-amazonaws-com');
    expect(within(rehearsal()).getByText('Not tested')).toBeInTheDocument();
    // The page's one time format, to the second, as posts and the CLI write it.
    expect(within(rehearsal()).getByText(/^2026-05-01 12:03:00 UTC, asked by @/)).toBeInTheDocument();
  });

  test('a refused rehearsal says why', async () => {
    bridge.integrationsReport = allowAny();
    bridge.rehearsalAnswer = {ran: false, reason: 'A rehearsal ran less than 300 s ago.', report: allowAny().rehearsal};
    await renderDashboard();
    await userEvent.click(within(rehearsal()).getByRole('button', {name: 'Rehearse REGISTRY_ONLY'}));
    await waitFor(() => expect(within(rehearsal()).getByRole('status')).toHaveTextContent('Not rehearsed: A rehearsal ran less than 300 s ago.'));
  });

  test('under REGISTRY_ONLY the page says there is nothing to rehearse, with no button', async () => {
    bridge.integrationsReport = {...hardenedMesh(), rehearsal: {...hardenedMesh().rehearsal, mode: 'REGISTRY_ONLY'}};
    await renderDashboard();
    expect(within(rehearsal()).getByText(/the mesh already enforces REGISTRY_ONLY/)).toBeInTheDocument();
    expect(within(rehearsal()).queryByRole('button', {name: 'Rehearse REGISTRY_ONLY'})).toBeNull();
  });
});
