import fc from 'fast-check';
import {DEFAULT_BACKOFF, backoffDelayMs, nextAttemptAt} from './backoff';

describe('backoffDelayMs', () => {
  it('doubles from the base until the cap, without jitter at random = 0.5', () => {
    expect([1, 2, 3, 4, 5, 10, 11, 12, 50].map((a) => backoffDelayMs(a, 0.5))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 512_000, 900_000, 900_000, 900_000,
    ]);
  });

  it('stays finite and capped for absurd attempt counts and inputs', () => {
    for (const attempt of [1e9, Number.MAX_SAFE_INTEGER, Infinity, -5, 0, Number.NaN]) {
      const d = backoffDelayMs(attempt, Number.NaN);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
    }
  });

  it('spreads within ±jitter and never exceeds the cap (property)', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 10_000}), fc.double({min: 0, max: 1, maxExcluded: true, noNaN: true}), (attempt, r) => {
        const plain = backoffDelayMs(attempt, 0.5);
        const d = backoffDelayMs(attempt, r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(plain * (1 - DEFAULT_BACKOFF.jitter)) - 1);
        expect(d).toBeLessThanOrEqual(Math.min(DEFAULT_BACKOFF.maxMs, Math.ceil(plain * (1 + DEFAULT_BACKOFF.jitter))));
      }),
    );
  });

  it('never shrinks as attempts grow, for the same random draw (property)', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 200}), fc.double({min: 0, max: 1, maxExcluded: true, noNaN: true}), (attempt, r) => {
        expect(backoffDelayMs(attempt + 1, r)).toBeGreaterThanOrEqual(backoffDelayMs(attempt, r));
      }),
    );
  });

  it('honours a custom policy and gives the retry time', () => {
    const policy = {baseMs: 100, factor: 3, maxMs: 1_000, jitter: 0};
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(a, 0.9, policy))).toEqual([100, 300, 900, 1_000]);
    expect(nextAttemptAt(new Date('2024-05-01T00:00:00Z'), 2, 0.5).toISOString()).toBe('2024-05-01T00:00:02.000Z');
  });
});
