import {absoluteTime, relativeTime} from './time';

const now = Date.parse('2026-05-01T12:00:00Z');

test('relative times read naturally', () => {
  expect(relativeTime('2026-05-01T11:59:50Z', now)).toBe('just now');
  expect(relativeTime('2026-05-01T11:55:00Z', now)).toBe('5 minutes ago');
  expect(relativeTime('2026-05-01T09:00:00Z', now)).toBe('3 hours ago');
  expect(relativeTime('2026-04-30T12:00:00Z', now)).toBe('yesterday');
  expect(relativeTime('2026-04-10T12:00:00Z', now)).toBe('3 weeks ago');
  expect(relativeTime('2026-05-01T14:00:00Z', now)).toBe('in 2 hours');
});

test('no time or a bad time gives nothing', () => {
  expect(relativeTime(null, now)).toBe('');
  expect(relativeTime('not a time', now)).toBe('');
  expect(absoluteTime(undefined)).toBe('');
});

test('the absolute time is the one format of every view: UTC, to the second, nothing else', () => {
  expect(absoluteTime('2026-05-01T11:55:07.123Z')).toBe('2026-05-01 11:55:07 UTC');
  expect(absoluteTime('2026-05-01T13:55:07+02:00')).toBe('2026-05-01 11:55:07 UTC');
});
