// Property-based tests: host names and feature names are attacker- or user-controlled, so the suggestion must
// hold its guarantees for any text, not only for the examples the other tests use.
import fc from 'fast-check';
import {parseAllDocuments} from 'yaml';

import {SUGGESTION_FORMATS} from '../../../common/types';
import {checkHost, printable} from '../hostname';
import type {Finding, SuggestionFormat} from '../types';
import {checkServiceEntrySpec, readBack, suggest, validateServiceEntrySpec} from './index';
import {finding} from './testing';

const FRAGMENTS = [
  '\n',
  '\r',
  '\u2028',
  '\u0085',
  '\t',
  ' ',
  '- ',
  ': ',
  '#',
  '`',
  '```',
  '*',
  '*.',
  '[',
  ']',
  '{',
  '}',
  '&a',
  '*a',
  '!!str',
  '|',
  '>',
  '"',
  "'",
  '<script>',
  '%',
  '@',
  '\\',
  '.',
  '-',
  '_',
  'a',
  'example',
  'com',
  'xn--',
  '---',
  '...',
  '0',
  '\u202e',
];

const hostArb: fc.Arbitrary<string> = fc.oneof(
  fc.domain(),
  fc.domain().map((d) => `*.${d}`),
  fc.domain().map((d) => d.toUpperCase() + '.'),
  fc.string(),
  fc.string({unit: 'binary', maxLength: 40}),
  fc.array(fc.constantFrom(...FRAGMENTS), {maxLength: 12}).map((parts) => parts.join('')),
  fc.ipV4(),
);

const textArb: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({unit: 'binary', maxLength: 60}),
  fc.array(fc.constantFrom(...FRAGMENTS), {maxLength: 10}).map((parts) => parts.join('')),
);

const findingArb: fc.Arbitrary<Finding> = fc
  .record({
    host: fc.option(hostArb, {nil: null}),
    attributionHost: fc.option(hostArb, {nil: null}),
    candidates: fc.array(hostArb, {maxLength: 3}),
    confidence: fc.constantFrom('certain' as const, 'likely' as const, 'ambiguous' as const, 'unknown' as const),
    ip: fc.option(fc.oneof(fc.ipV4(), fc.constantFrom('10.1.2.3', '169.254.169.254', '240.240.1.1', '::1', '2600:1f18::1')), {nil: null}),
    port: fc.oneof(fc.constantFrom(25, 80, 443, 587, 636, 8080, 8443), fc.integer({min: -5, max: 70000})),
    protocol: fc.constantFrom('HTTP' as const, 'TLS' as const, 'TCP' as const),
    verdict: fc.constantFrom('blocked' as const, 'passthrough' as const, 'external-failed' as const, 'external-ok' as const),
    features: fc.array(fc.record({id: fc.string({maxLength: 5}), name: textArb, configPath: textArb}), {maxLength: 2}),
    note: textArb,
  })
  .map((r) =>
    finding({
      host: r.host,
      ip: r.ip,
      port: r.port,
      protocol: r.protocol,
      verdict: r.verdict,
      features: r.features,
      attribution: {host: r.attributionHost, candidates: r.candidates, confidence: r.confidence, note: r.note},
    }),
  );

const findingsArb = fc.array(findingArb, {maxLength: 8});
const formatArb = fc.constantFrom(...SUGGESTION_FORMATS);

/** Every host text a finding offers, normalised when valid. */
function offeredHosts(findings: readonly Finding[]): Set<string> {
  const out = new Set<string>();
  for (const f of findings) {
    for (const raw of [f.attribution.host, f.destination.host, ...f.attribution.candidates]) {
      if (raw === null) {
        continue;
      }
      const withoutPort = raw.replace(/:[0-9]{1,5}$/, '');
      for (const candidate of [raw, withoutPort]) {
        const c = checkHost(candidate);
        if (c.ok) {
          out.add(c.host);
        }
      }
    }
  }
  out.add('instance-metadata.internal');
  return out;
}

const ROUTE_KEYS = new Set(['enabled', 'hosts', 'ports', 'resolution']);

function structureOf(yaml: string, format: SuggestionFormat, names: string[]): void {
  const docs = parseAllDocuments(yaml, {version: '1.1'}).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Record<string, unknown>;
  });
  if (format === 'serviceentry') {
    expect(docs.map((d) => Object.keys(d))).toEqual(names.map(() => ['apiVersion', 'kind', 'metadata', 'spec']));
    return;
  }
  expect(docs).toHaveLength(1);
  let node: unknown = docs[0];
  const path = format.startsWith('bigbang') ? ['addons', 'mattermost', 'values'] : [];
  path.push(...(format.endsWith('legacy') ? ['istio', 'hardened', 'customServiceEntries'] : ['routes', 'outbound']));
  for (const key of path) {
    expect(Object.keys(node as object)).toEqual([key]);
    node = (node as Record<string, unknown>)[key];
  }
  if (format.endsWith('legacy')) {
    expect((node as {name: string}[]).map((i) => Object.keys(i))).toEqual(names.map(() => ['name', 'enabled', 'spec']));
  } else {
    expect(Object.keys(node as object)).toEqual(names);
    for (const route of Object.values(node as Record<string, object>)) {
      expect(Object.keys(route).every((k) => ROUTE_KEYS.has(k))).toBe(true);
    }
  }
}

describe('suggestion properties', () => {
  test('only hosts that pass checkHost reach the YAML, and the YAML holds exactly the modelled entries', () => {
    fc.assert(
      fc.property(findingsArb, formatArb, fc.boolean(), (findings, format, imds) => {
        const r = suggest(findings, {format, namespace: 'mattermost', allowInstanceMetadata: imds});
        const offered = offeredHosts(findings);
        const back = readBack(r.yaml, format);
        expect(back.errors).toEqual([]);
        expect(back.entries.map((e) => e.spec.hosts)).toEqual(r.entries.map((e) => e.hosts));
        for (const entry of back.entries) {
          for (const host of entry.spec.hosts as string[]) {
            const c = checkHost(host);
            expect(c.ok && c.host === host).toBe(true);
            expect(offered.has(host)).toBe(true);
          }
          expect(checkServiceEntrySpec(entry.spec, {namespace: 'mattermost'})).toEqual([]);
        }
        const names = new Set(r.entries.map((e) => e.name));
        expect(names.size).toBe(r.entries.length);
        if (r.yaml !== '') {
          structureOf(
            r.yaml,
            format,
            r.entries.map((e) => e.name),
          );
        }
      }),
      {numRuns: 300},
    );
  });

  test('no YAML or Markdown injection: comments stay comments, and no fence, control or bidi character appears', () => {
    fc.assert(
      fc.property(findingsArb, formatArb, (findings, format) => {
        const {yaml} = suggest(findings, {format});
        expect(yaml).not.toContain('```');
        expect(yaml).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u);
        // Every line is a comment, blank, a document marker, or plain YAML structure of our own keys.
        for (const line of yaml.split('\n')) {
          expect(line).toMatch(/^(\s*#.*|\s*|---|\s*(- )?[a-zA-Z0-9"][-a-zA-Z0-9./"]*:( .*)?|\s*- [-a-z0-9.*"]+)$/);
        }
      }),
      {numRuns: 300},
    );
  });

  test('the output does not depend on the order of the findings', () => {
    fc.assert(
      fc.property(
        findingsArb.chain((fs) => fc.tuple(fc.constant(fs), fc.shuffledSubarray(fs, {minLength: fs.length, maxLength: fs.length}))),
        formatArb,
        ([fs, shuffled], format) => {
          const a = suggest(fs, {format});
          const b = suggest(shuffled, {format});
          expect(b.yaml).toBe(a.yaml);
          expect(b.entries).toEqual(a.entries);
          expect(new Set(b.skipped.map((s) => JSON.stringify(s)))).toEqual(new Set(a.skipped.map((s) => JSON.stringify(s))));
        },
      ),
      {numRuns: 200},
    );
  });

  test('the generators exercise the interesting cases (entries, skipped hosts, rejected names)', () => {
    const samples = fc.sample(findingsArb, {numRuns: 300, seed: 42});
    const results = samples.map((fs) => suggest(fs, {format: 'bigbang'}));
    const withEntries = results.filter((r) => r.entries.length > 0).length;
    const withRejected = results.filter((r) => r.skipped.some((s) => s.reason.startsWith('host name rejected'))).length;
    expect(withEntries).toBeGreaterThan(60);
    expect(withRejected).toBeGreaterThan(60);
  });

  test('checkHost agrees with the Istio host rules on everything it accepts', () => {
    fc.assert(
      fc.property(hostArb, (raw) => {
        const c = checkHost(raw);
        if (c.ok) {
          expect(c.host).toBe(c.host.toLowerCase());
          const spec = {hosts: [c.host], ports: [{number: 443, name: 'https', protocol: 'TLS'}], resolution: 'NONE'};
          expect(validateServiceEntrySpec(spec)).toEqual([]);
          expect(checkHost(c.host)).toEqual(c); // normalisation is stable
        } else {
          expect(c.rejected.printable).toBe(printable(raw));
          expect(c.rejected.reason.length).toBeGreaterThan(0);
        }
      }),
      {numRuns: 2000},
    );
  });

  test('printable output is short, inert and idempotent', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary', maxLength: 300}), fc.integer({min: 4, max: 200}), (s, max) => {
        const p = printable(s, max);
        expect(p.length).toBeLessThanOrEqual(max);
        expect(p).toMatch(/^[\x20-\x7e]*$/);
        expect(printable(p, max)).toBe(p);
      }),
      {numRuns: 1000},
    );
  });
});
