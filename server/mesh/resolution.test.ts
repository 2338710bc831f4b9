// When a finding counts as fixed: covered by a ServiceEntry, and nothing blocked since it appeared.
import type {AllowedHost} from '../engine/suggest/allowed';
import {finding} from '../engine/suggest/testing';
import {CoverageClock, resolutions, type ResolutionCandidate} from './resolution';

const T0 = Date.parse('2026-11-28T09:00:00.000Z');
const timing = {propagationMs: 60_000, graceMs: 60_000};
const PUSH_SE: AllowedHost = {host: 'push.mattermost.com', port: 443, protocol: 'TLS', addresses: [], source: 'ServiceEntry mattermost/push'};

function open(lastSeen: string | null, over: Partial<ResolutionCandidate> = {}): ResolutionCandidate {
  return {...finding({host: 'push.mattermost.com'}), lastSeen, status: 'open', updatedAt: '2026-11-28T08:59:00.000Z', ...over};
}

function clockWith(entries: AllowedHost[], at: number): CoverageClock {
  const c = new CoverageClock();
  c.observe(entries, at);
  return c;
}

describe('resolutions', () => {
  it('resolves a finding blocked before the entry appeared, once the grace has passed, and says by what', () => {
    const clock = clockWith([PUSH_SE], T0);
    const f = open('2026-11-28T08:55:00.000Z');
    expect(resolutions([f], [PUSH_SE], clock, T0 + 30_000, timing).resolve).toEqual([]);
    const {resolve} = resolutions([f], [PUSH_SE], clock, T0 + 61_000, timing);
    expect(resolve).toEqual([
      {
        key: f.key,
        allowedBy: 'ServiceEntry mattermost/push',
        reason: expect.stringMatching(
          /^allowed by ServiceEntry mattermost\/push \(in the mesh since 2026-11-28T09:00:00\.000Z\); no blocked connection since$/,
        ),
      },
    ]);
  });

  it('keeps a finding open that was blocked well after the entry appeared, and says the entry does not work', () => {
    const clock = clockWith([PUSH_SE], T0);
    const {resolve, pending} = resolutions([open('2026-11-28T09:05:00.000Z')], [PUSH_SE], clock, T0 + 3_600_000, timing);
    expect(resolve).toEqual([]);
    expect(pending).toEqual([
      expect.objectContaining({stillBlocked: true, why: expect.stringMatching(/yet a connection was blocked at 2026-11-28T09:05:00\.000Z/)}),
    ]);
  });

  it('counts lines during the propagation window as before the entry, then waits the grace after the last', () => {
    const clock = clockWith([PUSH_SE], T0);
    const f = open('2026-11-28T09:00:30.000Z');
    expect(resolutions([f], [PUSH_SE], clock, T0 + 61_000, timing).pending[0]).toMatchObject({stillBlocked: false});
    expect(resolutions([f], [PUSH_SE], clock, T0 + 91_000, timing).resolve).toHaveLength(1);
  });

  it('an entry keeps its first time while it stays, and starts again when it comes back', () => {
    const clock = new CoverageClock();
    clock.observe([PUSH_SE], T0);
    clock.observe([PUSH_SE], T0 + 10_000);
    expect(clock.sinceOf(PUSH_SE)).toBe(T0);
    clock.observe([], T0 + 20_000);
    expect(clock.sinceOf(PUSH_SE)).toBeUndefined();
    clock.observe([PUSH_SE], T0 + 30_000);
    expect(clock.sinceOf(PUSH_SE)).toBe(T0 + 30_000);
  });

  it('leaves alone what no entry covers, other ports, other verdicts and findings that are not open', () => {
    const clock = clockWith([PUSH_SE], T0);
    const later = T0 + 3_600_000;
    const cases = [
      open('2026-11-28T08:00:00.000Z', {...finding({host: 'api.github.com'}), status: 'open', updatedAt: '2026-11-28T08:00:00.000Z'}),
      open('2026-11-28T08:00:00.000Z', {...finding({host: 'push.mattermost.com', port: 80}), status: 'open', updatedAt: '2026-11-28T08:00:00.000Z'}),
      open('2026-11-28T08:00:00.000Z', {verdict: 'external-failed'}),
      open('2026-11-28T08:00:00.000Z', {status: 'ignored'}),
    ];
    expect(resolutions(cases, [PUSH_SE], clock, later, timing)).toEqual({resolve: [], pending: []});
  });

  it('resolves passthrough findings too (ALLOW_ANY), and IP-only ones through the entry addresses', () => {
    const byAddress: AllowedHost = {host: 'relay.example.com', port: 25, protocol: 'TCP', addresses: ['198.51.100.0/24'], source: 'ServiceEntry mail/relay'};
    const clock = clockWith([PUSH_SE, byAddress], T0);
    const ipOnly = {...finding({ip: '198.51.100.25', port: 25}), lastSeen: '2026-11-28T08:00:00.000Z', status: 'open', updatedAt: '2026-11-28T08:00:00.000Z'};
    const passing = open('2026-11-28T08:00:00.000Z', {verdict: 'passthrough'});
    const {resolve} = resolutions([ipOnly, passing], [PUSH_SE, byAddress], clock, T0 + 120_000, timing);
    expect(resolve.map((r) => [r.key, r.allowedBy])).toEqual([
      ['198.51.100.25:25', 'ServiceEntry mail/relay'],
      ['push.mattermost.com:443', 'ServiceEntry mattermost/push'],
    ]);
    expect(resolve[1].reason).toMatch(/no unregistered connection since/);
  });

  it('uses the store time when the lines carried none', () => {
    const clock = clockWith([PUSH_SE], T0);
    expect(resolutions([open(null, {updatedAt: '2026-11-28T09:30:00.000Z'})], [PUSH_SE], clock, T0 + 3_600_000, timing).pending[0]?.stillBlocked).toBe(true);
  });
});
