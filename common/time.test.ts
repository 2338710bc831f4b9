import {formatUtc} from './time';

describe('formatUtc: one time format for people', () => {
  test('UTC to the second, whatever the zone or precision of the input', () => {
    expect(formatUtc('2026-11-28T08:01:02.345Z')).toBe('2026-11-28 08:01:02 UTC');
    expect(formatUtc('2026-11-28T09:01:02+01:00')).toBe('2026-11-28 08:01:02 UTC');
    expect(formatUtc('2026-11-28T08:01:02Z')).toBe('2026-11-28 08:01:02 UTC');
  });

  test('plain characters only: nothing invisible to copy', () => {
    expect(formatUtc('2026-11-28T08:01:02Z')).toMatch(/^[0-9 :A-Z-]+$/);
  });

  test('no time, or one that cannot be read: null, for the view to say so', () => {
    for (const t of [null, undefined, '', '  ', 'yesterday', '2026-13-45T99:00:00Z']) expect(formatUtc(t)).toBeNull();
  });
});
