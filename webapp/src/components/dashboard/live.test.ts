import {FakeEventSource} from '../../test/fake_event_source';

import {LiveRevision, type LiveMode} from './live';

beforeEach(() => {
  jest.useFakeTimers();
  FakeEventSource.reset();
});

afterEach(() => {
  jest.useRealTimers();
});

function setup(withStream = true) {
  const revisions: Array<[number, string[] | null]> = [];
  const modes: LiveMode[] = [];
  const poll = jest.fn(async () => 42);
  const live = new LiveRevision({
    eventsUrl: '/plugins/egress-advisor/api/v1/events',
    poll,
    onRevision: (r, keys) => revisions.push([r, keys]),
    onMode: (m) => modes.push(m),
    pollMs: 1000,
    livePollMs: 5000,
    retryStreamAfter: 3,
    EventSource: withStream ? (FakeEventSource as unknown as typeof EventSource) : null,
  });
  return {live, revisions, modes, poll};
}

test('follows the event stream: revision on connect, then findings-changed with keys', () => {
  const {live, revisions, modes} = setup();
  live.start();
  const es = FakeEventSource.latest();
  expect(es.url).toBe('/plugins/egress-advisor/api/v1/events');
  expect(es.withCredentials).toBe(true);
  expect(modes).toEqual(['connecting']);
  es.open();
  es.emit('revision', {revision: 7, keys: null});
  es.emit('findings-changed', {revision: 8, keys: ['a.example.com:443']});
  es.emit('findings-changed', 'not json');
  expect(revisions).toEqual([
    [7, null],
    [8, ['a.example.com:443']],
  ]);
  expect(modes).toEqual(['connecting', 'live']);
  live.stop();
  expect(es.closed).toBe(true);
});

test('falls back to polling when the stream fails, and tries the stream again later', async () => {
  const {live, revisions, modes, poll} = setup();
  live.start();
  const first = FakeEventSource.latest();
  first.fail();
  expect(first.closed).toBe(true);
  expect(modes[modes.length - 1]).toBe('polling');

  await jest.advanceTimersByTimeAsync(1000);
  expect(poll).toHaveBeenCalledTimes(1);
  expect(revisions).toEqual([[42, null]]);
  await jest.advanceTimersByTimeAsync(1000);
  expect(FakeEventSource.instances).toHaveLength(1);
  // The third poll without a stream opens a new one.
  await jest.advanceTimersByTimeAsync(1000);
  expect(FakeEventSource.instances).toHaveLength(2);
  expect(modes[modes.length - 1]).toBe('connecting');
  live.stop();
});

test('while the stream is up, a slow poll still runs', async () => {
  const {live, poll} = setup();
  live.start();
  FakeEventSource.latest().open();
  await jest.advanceTimersByTimeAsync(4999);
  expect(poll).not.toHaveBeenCalled();
  await jest.advanceTimersByTimeAsync(1);
  expect(poll).toHaveBeenCalledTimes(1);
  live.stop();
});

test('without EventSource it polls', async () => {
  const {live, modes, poll} = setup(false);
  live.start();
  expect(modes).toEqual(['polling']);
  await jest.advanceTimersByTimeAsync(3000);
  expect(poll).toHaveBeenCalledTimes(3);
  live.stop();
});

test('stop() ends everything: no timer, no stream, no late callbacks', async () => {
  const {live, revisions, poll} = setup();
  live.start();
  const es = FakeEventSource.latest();
  live.stop();
  expect(es.closed).toBe(true);
  es.emit('findings-changed', {revision: 9, keys: null});
  await jest.advanceTimersByTimeAsync(60_000);
  expect(poll).not.toHaveBeenCalled();
  expect(revisions).toEqual([]);
  expect(jest.getTimerCount()).toBe(0);
  expect(live.mode).toBe('stopped');
});

test('a failing poll is reported and polling goes on', async () => {
  const errors: unknown[] = [];
  const poll = jest.fn().mockRejectedValueOnce(new Error('502')).mockResolvedValue(3);
  const revisions: number[] = [];
  const live = new LiveRevision({
    eventsUrl: '/e',
    poll,
    onRevision: (r) => revisions.push(r),
    onPollError: (e) => errors.push(e),
    pollMs: 100,
    EventSource: null,
  });
  live.start();
  await jest.advanceTimersByTimeAsync(200);
  expect(errors).toHaveLength(1);
  expect(revisions).toEqual([3]);
  live.stop();
});
