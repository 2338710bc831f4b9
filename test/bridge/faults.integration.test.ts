/*
 * The zeros the fault suite (`npm run faults`, test/faults/) promises, asserted on smaller runs of the same
 * scenarios: the compiled bridge killed -9 in the middle of ingest loses and doubles nothing; a full disk
 * under the SQLite store (a tmpfs mounted for the test, so it needs root, which CI has) gives a clear error,
 * keeps the process alive, and once space is back loses, doubles and damages nothing; fuzzed hostile lines
 * crash nothing and render no garbage. PostgreSQL restarts and Mattermost outages are asserted in
 * recovery.integration.test.ts and bridge.integration.test.ts; the fault suite prints their figures.
 */
import {fuzz, garbageIn} from '../faults/fuzz';
import {fullDisk, killDuringIngest, type Figure, type Figures} from '../faults/scenarios';

jest.setTimeout(600_000);

function value(f: Figures, label: string): Figure {
  const row = f.rows.find(([k]) => k === label);
  if (row === undefined) throw new Error(`no figure "${label}" in ${JSON.stringify(f.rows)}`);
  return row[1];
}

test('kill -9 during ingest, three times: no line lost, none counted twice', async () => {
  const f = await killDuringIngest(3, 10_000);
  expect(value(f, 'lines in')).toBe(30_000);
  expect(value(f, 'lines lost')).toBe(0);
  expect(value(f, 'lines counted twice')).toBe(0);
  expect(value(f, 'lines counted')).toBe(30_000);
  expect(value(f, 'restarts')).toBe(3);
});

test('a full disk under the SQLite store: a clear error while full, nothing lost, doubled or damaged once space is back', async () => {
  expect(process.getuid?.()).toBe(0);
  const f = await fullDisk();
  expect(value(f, 'what /readyz said')).toMatch(/disk is full/);
  expect(value(f, '/healthz while full')).toBe(200);
  expect(value(f, 'lines lost')).toBe(0);
  expect(value(f, 'lines counted twice')).toBe(0);
  expect(value(f, 'lines counted in the end')).toBe(value(f, 'lines in'));
  expect(value(f, 'SQLite quick_check afterwards')).toBe('ok');
});

test('the garbage check finds garbage', () => {
  expect(garbageIn('a @channel b', '')).toEqual(['a mention outside code']);
  expect(garbageIn('`@channel` [x](http://y)', '')).toEqual(['a link or HTML outside code']);
  expect(garbageIn('ok', 'a: [')).toEqual([expect.stringMatching(/^YAML that does not parse/)]);
  expect(garbageIn('ok', 'hosts:\n  - "a: b"\n  - api.github.com\n')).toEqual(['a host in the YAML that is not a DNS name: "a: b"']);
  expect(garbageIn('ok', 'hosts:\n  - api.github.com\n')).toEqual([]);
});

test('fuzzed hostile lines: no crash, and nothing that would be posted is garbage', async () => {
  const f = await fuzz(40_000);
  expect(value(f, 'scan: exit code')).toBe(0);
  expect(value(f, 'scan: problems in the suggestion YAML')).toBe(0);
  expect(value(f, 'bridge: alive and healthy at the end')).toBe('yes');
  expect(value(f, 'bridge: crashes (starts beyond the first)')).toBe(0);
  expect(value(f, 'alerts with garbage (mention, link, HTML, control character, bad YAML, non-DNS host)')).toBe(0);
  expect(value(f, 'alerts rendered from them (5 destinations each)')).toBeGreaterThan(10);
});
