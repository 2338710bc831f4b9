// Host names come from network traffic and are attacker-controlled: whatever a blocked line carries in its
// server name or :authority, the whole pipeline (scan → findings → suggestion) reports it without emitting
// anything but validated names, and the YAML means exactly what the model says.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import fc from 'fast-check';
import {parse} from 'yaml';
import {buildFindings} from '../../server/engine/findings';
import {checkHost} from '../../server/engine/hostname';
import {Scan} from '../../server/engine/scan';
import {suggest} from '../../server/engine/suggest';

const ctx = {dnsIndex: new Map<string, string[]>(), appEvents: [], inventory: []};

function blockedTls(sni: string, i: number): string {
  return `[2026-11-28T08:00:${String(i % 60).padStart(2, '0')}.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 203.0.113.${i % 250}:443 10.42.1.17:4${i} ${sni} -`;
}

function blockedHttp(authority: string, i: number): string {
  return `[2026-11-28T08:00:00.000Z] "GET / HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "x" "id" "${authority}" "-" - - 198.51.100.${i % 250}:80 10.42.1.17:5${i} - block_all`;
}

const hostile = fc.oneof(
  fc.string({unit: 'binary', maxLength: 80}),
  fc.constantFrom(
    'a: b',
    '{x}',
    '*',
    '"',
    '|',
    '[x](http://y)',
    '`rm`',
    '@channel',
    '<script>alert(1)</script>',
    'x\u202egnp.exe',
    'a'.repeat(300) + '.com',
    '-',
    'ok.example.com',
  ),
  fc.domain(),
);

it('never lets an unchecked name into the YAML, and the YAML holds exactly the modelled hosts', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(hostile, fc.boolean()), {minLength: 1, maxLength: 8}), (names) => {
      const scan = new Scan({exhaustive: true});
      const text = names.map(([n, tls], i) => (tls ? blockedTls(n.replace(/\s/g, ''), i) : blockedHttp(n.replace(/"/g, ''), i))).join('\n') + '\n';
      scan.push(Buffer.from(text));
      scan.end();
      const findings = buildFindings(scan.folder.stats(), ctx);
      const result = suggest(findings, {format: 'bigbang'});
      const modelled = result.entries.flatMap((e) => e.hosts);
      for (const h of modelled) expect(checkHost(h)).toEqual({ok: true, host: h});
      if (result.yaml === '') return;
      const doc = parse(result.yaml) as {addons: {mattermost: {values: {routes: {outbound: Record<string, {hosts: string[]}>}}}}};
      const inYaml = Object.values(doc.addons.mattermost.values.routes.outbound).flatMap((r) => r.hosts);
      expect(inYaml.sort()).toEqual([...modelled].sort());
    }),
    {numRuns: 300},
  );
});

describe('never widen: a wildcard read from traffic is reported, never suggested', () => {
  const suggestFrom = (text: string) => {
    const scan = new Scan({exhaustive: true});
    scan.push(Buffer.from(text));
    scan.end();
    const findings = buildFindings(scan.folder.stats(), ctx);
    return {findings, result: suggest(findings, {format: 'serviceentry'})};
  };

  test.each([
    ['SNI', blockedTls('*.amazonaws.com', 1)],
    ['SNI, bare', blockedTls('*', 2)],
    [':authority', blockedHttp('*.evil.example', 3)],
    [':authority with a port', blockedHttp('*.evil.example:80', 4)],
  ])('%s', (_what, line) => {
    const {findings, result} = suggestFrom(line + '\n');
    expect(findings).toHaveLength(1);
    expect(findings[0].rejectedHost?.reason ?? '').toMatch(/wildcard|"\*"/);
    expect(result.yaml).not.toContain('*');
    expect(result.entries.flatMap((e) => e.hosts).filter((h) => h.includes('*'))).toEqual([]);
    expect(result.skipped.length).toBeGreaterThan(0);
  });

  test('the hostile fixtures produce no wildcard', () => {
    const text = readFileSync(join(__dirname, '../fixtures/access-logs/hostile.log'));
    const {findings, result} = suggestFrom(text.toString('latin1'));
    expect(findings.length).toBeGreaterThan(0);
    expect(result.entries.flatMap((e) => e.hosts).filter((h) => h.includes('*'))).toEqual([]);
    for (const f of findings) expect(f.destination.host ?? '').not.toContain('*');
  });
});
