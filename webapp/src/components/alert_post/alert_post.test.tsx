import {screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React from 'react';

import type {Post} from '@mattermost/types/posts';

import {ALERT_PROPS_KEY, type AlertProps, type EgressAlertData} from '../../../../common/alert';
import {FakeBridge} from '../../test/fake_bridge';
import {renderWithStore} from '../../test/render';

import {AlertPost, alertHeadline} from '.';

const realFetch = window.fetch;
let bridge: FakeBridge;

beforeEach(() => {
  bridge = new FakeBridge();
  window.fetch = bridge.fetch as typeof window.fetch;
  document.cookie = 'MMCSRF=csrf-post';
});

afterEach(() => {
  window.fetch = realFetch;
  delete (window as unknown as Record<string, unknown>).PostUtils;
});

function alertData(p: Partial<EgressAlertData> = {}): EgressAlertData {
  return {
    version: 1,
    digest_id: 'd1',
    findings: [
      {
        key: 's3.amazonaws.com:443',
        host: 's3.amazonaws.com',
        ip: '52.1.2.3',
        port: 443,
        protocol: 'TLS',
        verdict: 'blocked',
        features: [{name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'}],
        count: 1234,
        firstSeen: '2026-05-01T10:00:00.000Z',
        lastSeen: '2026-05-01T11:00:00.000Z',
        pods: ['mattermost-0', 'mattermost-1'],
      },
      {
        key: '10.9.8.7:587',
        host: null,
        ip: '10.9.8.7',
        port: 587,
        protocol: 'TCP',
        verdict: 'passthrough',
        features: [],
        count: 2,
        firstSeen: null,
        lastSeen: null,
        pods: [],
      },
    ],
    findings_omitted: 3,
    yaml: 'addons:\n  mattermost:\n    values:\n      routes:\n        outbound:\n          s3: {}\n',
    yaml_omitted: false,
    format: 'bigbang',
    ...p,
  };
}

/** The props as clients receive them: Mattermost has stripped `integration` from the buttons. */
function props(data: unknown): AlertProps {
  return {
    [ALERT_PROPS_KEY]: data as EgressAlertData,
    attachments: [
      {
        fallback: 'blocked: s3.amazonaws.com:443',
        color: 'danger',
        actions: [
          {id: 'ignore0', name: 'Ignore s3.amazonaws.com:443', type: 'button'},
          {id: 'show0', name: 'Show ServiceEntry', type: 'button', style: 'primary'},
        ],
      },
      {fallback: '5 destinations', color: 'danger', actions: [{id: 'showall', name: 'Show all ServiceEntries', type: 'button', style: 'primary'}]},
    ],
  };
}

function post(p: Partial<Post>): Post {
  return {
    id: 'post1',
    create_at: 0,
    update_at: 0,
    edit_at: 0,
    delete_at: 0,
    is_pinned: false,
    user_id: 'bot',
    channel_id: 'c1',
    root_id: '',
    original_id: '',
    message: '**Egress Advisor:** 5 outbound destinations of Mattermost need attention.',
    type: 'custom_egress_alert' as Post['type'],
    props: {},
    hashtags: '',
    pending_post_id: '',
    reply_count: 0,
    metadata: {embeds: [], emojis: [], files: [], images: {}},
    ...p,
  };
}

test("a post of the alert type by anyone but the bridge's bot is only its message: no card, no buttons", () => {
  for (const userId of ['mallory', 'someone-not-loaded']) {
    const {unmount} = renderWithStore(<AlertPost post={post({user_id: userId, props: props(alertData()) as unknown as Post['props']})} />);
    expect(screen.queryByText('5 outbound destinations of Mattermost need attention (1 blocked, 1 blocked once hardened).')).toBeNull();
    expect(screen.queryByRole('button')).toBeNull();
    expect(screen.getByText(/5 outbound destinations of Mattermost need attention\./)).toBeInTheDocument();
    unmount();
  }
});

test('a compact card: headline, host, feature, attempts, times, pods', () => {
  renderWithStore(<AlertPost post={post({props: props(alertData()) as unknown as Post['props']})} />);
  expect(screen.getByText('5 outbound destinations of Mattermost need attention (1 blocked, 1 blocked once hardened).')).toBeInTheDocument();
  expect(screen.getByText('s3.amazonaws.com:443/TLS')).toBeInTheDocument();
  expect(screen.getByText('10.9.8.7:587/TCP')).toBeInTheDocument();
  expect(screen.getByText(/Breaks File storage \(Amazon S3\)/)).toBeInTheDocument();
  expect(screen.getByText(/1,234 attempts/)).toBeInTheDocument();
  const times = document.querySelectorAll('time');
  expect(times[0]).toHaveAttribute('datetime', '2026-05-01T10:00:00.000Z');
  expect(times[0].getAttribute('title')).toContain('2026-05-01 10:00:00 UTC');
  expect(screen.getAllByText('not dated')).toHaveLength(2);
  expect(screen.getByText(/· 2 pods/)).toHaveAttribute('title', 'mattermost-0\nmattermost-1');
  expect(screen.getByText(/and 3 more/)).toBeInTheDocument();
});

test('the YAML is folded, opens on demand and can be copied', async () => {
  const user = userEvent.setup();
  const writeText = jest.fn().mockResolvedValue(undefined);
  Object.defineProperty(window.navigator, 'clipboard', {value: {writeText}, configurable: true});
  renderWithStore(<AlertPost post={post({props: props(alertData()) as unknown as Post['props']})} />);
  const details = document.querySelector('details') as HTMLDetailsElement;
  expect(details.open).toBe(false);
  await user.click(screen.getByText('Suggested YAML: Big Bang values (routes.outbound)'));
  expect(details.open).toBe(true);
  await user.click(within(details).getByRole('button', {name: 'Copy YAML'}));
  expect(writeText).toHaveBeenCalledWith(alertData().yaml);
});

test('a YAML too long for the post points at /egress snippet', () => {
  renderWithStore(<AlertPost post={post({props: props(alertData({yaml: '', yaml_omitted: true})) as unknown as Post['props']})} />);
  expect(screen.queryByText(/^Suggested YAML/)).toBeNull();
  expect(screen.getByText('/egress snippet all')).toBeInTheDocument();
});

test("the bridge's buttons are drawn, and a click goes to Mattermost's post action route like Mattermost's own buttons", async () => {
  const user = userEvent.setup();
  renderWithStore(<AlertPost post={post({props: props(alertData()) as unknown as Post['props']})} />, {siteUrl: 'https://example.com/chat'});
  const group = screen.getByRole('group', {name: 'blocked: s3.amazonaws.com:443'});
  expect(within(group).getByRole('button', {name: 'Ignore s3.amazonaws.com:443'})).toBeInTheDocument();
  await user.click(within(group).getByRole('button', {name: 'Show ServiceEntry'}));
  await waitFor(() => expect(bridge.requests).toHaveLength(1));
  const r = bridge.requests[0];
  expect(r.method).toBe('POST');
  expect(r.path).toBe('/chat/api/v4/posts/post1/actions/show0');
  expect(r.headers['X-CSRF-Token']).toBe('csrf-post');
  expect(r.body).toEqual({selected_option: ''});
  expect(screen.getByRole('button', {name: 'Show all ServiceEntries'})).toBeEnabled();
});

test('a refused click says why', async () => {
  window.fetch = (async () => ({
    ok: false,
    status: 403,
    headers: {get: () => 'application/json'},
    json: async () => ({message: 'You do not have the appropriate permissions.'}),
  })) as unknown as typeof window.fetch;
  const user = userEvent.setup();
  renderWithStore(<AlertPost post={post({props: props(alertData()) as unknown as Post['props']})} />);
  await user.click(screen.getByRole('button', {name: 'Show all ServiceEntries'}));
  expect(await screen.findByRole('alert')).toHaveTextContent('Show all ServiceEntries: You do not have the appropriate permissions.');
});

test('props of another version fall back to the message, still with the buttons', () => {
  const p = props({...alertData(), version: 2});
  renderWithStore(<AlertPost post={post({props: p as unknown as Post['props']})} />);
  expect(screen.getByText(/5 outbound destinations of Mattermost need attention\./)).toBeInTheDocument();
  expect(screen.getByText(/\*\*Egress Advisor:\*\*/)).toBeInTheDocument();
  expect(screen.getByRole('button', {name: 'Show all ServiceEntries'})).toBeInTheDocument();
});

test("the fallback message is rendered the host's way when the host offers it", () => {
  (window as unknown as Record<string, unknown>).PostUtils = {
    formatText: (text: string) => `<b>${text.replace(/\*\*/g, '')}</b>`,
    messageHtmlToComponent: (html: string) => <span data-testid='host-markdown'>{html}</span>,
  };
  renderWithStore(<AlertPost post={post({props: {}})} />);
  expect(screen.getByTestId('host-markdown')).toHaveTextContent('<b>Egress Advisor: 5 outbound destinations');
});

test('damaged props and no attachments: just the message', () => {
  renderWithStore(<AlertPost post={post({props: {egress_advisor: {version: 1, findings: 'nope'}, attachments: 'nope'}})} />);
  expect(screen.getByText(/Egress Advisor/)).toBeInTheDocument();
  expect(screen.queryByRole('button')).toBeNull();
});

test('thread updates list what changed', () => {
  renderWithStore(
    <AlertPost
      post={post({
        props: {
          egress_advisor_update: {
            version: 1,
            digest_id: 'd1',
            items: [
              {
                key: 's3.amazonaws.com:443',
                count: 1300,
                previous_count: 1234,
                new_pods: ['mattermost-2'],
                reopened: true,
                lastSeen: '2026-05-01T11:10:00.000Z',
              },
            ],
            items_omitted: 2,
          },
        },
      })}
    />,
  );
  expect(screen.getByText('More activity on 3 destinations of this alert:')).toBeInTheDocument();
  const item = screen.getByText('s3.amazonaws.com:443').closest('li') as HTMLElement;
  expect(item).toHaveTextContent('is back: 1,300 attempts (+66), last');
  expect(item).toHaveTextContent('new pod mattermost-2');
  expect(screen.getByText(/and 2 more/)).toBeInTheDocument();
});

test('a thread update about resolved destinations says they are no longer blocked', () => {
  renderWithStore(
    <AlertPost
      post={post({
        props: {
          egress_advisor_update: {
            version: 1,
            digest_id: 'r1',
            items: [{key: 'push.mattermost.com:443', count: 4, previous_count: 4, new_pods: [], reopened: false, resolved: true, lastSeen: null}],
            items_omitted: 0,
          },
        },
      })}
    />,
  );
  expect(screen.getByText('1 destination of this alert is no longer blocked:')).toBeInTheDocument();
  expect(screen.getByText('push.mattermost.com:443').closest('li')).toHaveTextContent('resolved, a ServiceEntry lets it out now');
});

test('headline counts the omitted findings too', () => {
  expect(alertHeadline(alertData({findings: [alertData().findings[0]], findings_omitted: 0}))).toBe(
    '1 outbound destination of Mattermost needs attention (1 blocked).',
  );
});

test('a destination ignored since the alert went out says who ignored it and why (the bridge draws the card again)', () => {
  const data = alertData();
  data.findings[0] = {...data.findings[0], ignored: {by: 'alice', reason: 'the S3 <b>bucket</b> moved', at: '2026-05-01T11:30:00.000Z'}};
  renderWithStore(<AlertPost post={post({props: props(data) as unknown as Post['props']})} />);
  const line = document.querySelector('[data-ignored]') as HTMLElement;
  expect(line).toHaveTextContent(/^Ignored by @alice: the S3 <b>bucket<\/b> moved · /);
  expect(line.closest('li')).toHaveTextContent('s3.amazonaws.com:443/TLS');
  expect(line.querySelector('b')).toBeNull();
  expect(line.querySelector('time')?.getAttribute('title')).toBe('2026-05-01 11:30:00 UTC');
  expect(document.querySelectorAll('[data-ignored]')).toHaveLength(1);
});
