import {parse, parseAllDocuments} from 'yaml';

import {SUGGESTION_FORMATS} from '../../../common/types';
import type {Finding, SuggestionFormat} from '../types';
import {GENERATED_LABEL, readBack, renderSuggestion, suggest} from './index';
import {finding} from './testing';

const FINDINGS: Finding[] = [
  finding({host: 's3.amazonaws.com', features: [{id: 'fs', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'}]}),
  finding({host: 'smtp.example.com', port: 587, protocol: 'TCP'}),
  finding({host: 'hooks.example.org', port: 8080, protocol: 'HTTP'}),
  finding({host: 'api.github.com'}),
  finding({host: '*.cdn.example.net'}),
];

const IMDS = finding({host: null, ip: '169.254.169.254', port: 80, protocol: 'HTTP', attribution: {method: 'well-known'}});

describe('suggest', () => {
  test.each(SUGGESTION_FORMATS.map((f) => [f]))('%s: applying the suggestion closes the gap', (format) => {
    const values = 'addons: {mattermost: {values: {routes: {outbound: {s3: {hosts: [s3.amazonaws.com]}}}}}}\n';
    const first = suggest(FINDINGS, {format, values});
    expect(first.entries.flatMap((e) => e.hosts).sort()).toEqual(['*.cdn.example.net', 'hooks.example.org', 'smtp.example.com']);
    // The suggestion read as values (next to the original file) allows everything it was made for.
    const second = suggest(FINDINGS, {format, values: `${values}---\n${first.yaml}`});
    expect(second.yaml).toBe('');
    expect(second.entries).toEqual([]);
    expect(second.skipped.map((s) => s.host).sort()).toEqual([
      '*.cdn.example.net',
      'api.github.com',
      'hooks.example.org',
      's3.amazonaws.com',
      'smtp.example.com',
    ]);
    expect(second.skipped.every((s) => /already allowed by/.test(s.reason))).toBe(true);
  });

  test('without a values file the traffic decides: a default-route host that was blocked is suggested', () => {
    const r = suggest([finding({host: 'api.github.com'})], {format: 'bigbang'});
    expect(r.entries.map((e) => e.hosts)).toEqual([['api.github.com']]);
  });

  test('with a values file the default route counts, and its names are never reused', () => {
    const r = suggest([finding({host: 'api.github.com'}), finding({host: 'a.mattermost.external'})], {format: 'bigbang', values: 'domain: x.example\n'});
    expect(r.entries.map((e) => [e.name, e.hosts])).toEqual([['a-mattermost-external-443', ['a.mattermost.external']]]);
    expect(r.skipped).toEqual([
      {
        host: 'api.github.com',
        keys: ['api.github.com:443'],
        reason: 'port 443 is already allowed by routes.outbound.mattermost-external (package default)',
        allowedBy: 'routes.outbound.mattermost-external (package default)',
      },
    ]);
    // The chart's route names are reserved even without a values file.
    expect(suggest([finding({host: 'a.mattermost.external'})], {format: 'bigbang'}).entries[0].name).toBe('a-mattermost-external-443');
  });

  test('a generated name never collides with a route the administrator already has', () => {
    const values = 'routes: {outbound: {hooks-example-org-443: {enabled: false, hosts: [x.example.org]}}}';
    const r = suggest([finding({host: 'hooks.example.org'})], {format: 'package', values});
    expect(r.entries.map((e) => e.name)).toEqual(['hooks-example-org-443-2']);
    expect(Object.keys((parse(r.yaml) as {routes: {outbound: object}}).routes.outbound)).toEqual(['hooks-example-org-443-2']);
  });

  test('an unreadable values file is said in the notes and in the YAML, and everything blocked is listed', () => {
    const r = suggest([finding({host: 'a.example.com'})], {format: 'bigbang', values: 'addons: [\n'});
    expect(r.notes[0]).toMatch(/^The values file could not be read completely \(YAML error/);
    expect(r.entries).toHaveLength(1);
    const header = r.yaml.split('\n').filter((l) => l.startsWith('#'));
    expect(header.some((l) => l.includes('could not be read completely'))).toBe(true);
    expect(readBack(r.yaml, 'bigbang').errors).toEqual([]);
  });

  test('an invalid namespace is left out and said', () => {
    const r = suggest([finding({host: 'a.example.com'})], {format: 'serviceentry', namespace: 'Bad NS\n'});
    expect(r.notes).toEqual(['The namespace Bad NS\\x0a is not a valid Kubernetes namespace name and was left out.']);
    const doc = parse(r.yaml) as {metadata: Record<string, unknown>};
    expect(doc.metadata).toEqual({name: 'a-example-com-443', labels: {[GENERATED_LABEL]: 'true'}});
  });

  test('nothing missing gives an empty string, as the contract says', () => {
    expect(suggest([], {format: 'bigbang'}).yaml).toBe('');
    expect(suggest([finding({host: 'a.example.com', verdict: 'external-ok'})], {format: 'serviceentry'}).yaml).toBe('');
  });
});

describe('instance metadata in each format', () => {
  test('routes.outbound cannot carry addresses: the entry is skipped with the format to use', () => {
    for (const format of ['bigbang', 'package'] as SuggestionFormat[]) {
      const r = suggest([IMDS], {format, allowInstanceMetadata: true});
      expect(r.yaml).toBe('');
      expect(r.skipped).toEqual([
        {host: 'instance-metadata.internal', keys: [IMDS.key], reason: expect.stringMatching(/routes\.outbound cannot carry.*-legacy or serviceentry/)},
      ]);
    }
  });

  test.each(['bigbang-legacy', 'package-legacy', 'serviceentry'] as SuggestionFormat[])('%s carries addresses and endpoints', (format) => {
    const r = suggest([IMDS], {format, allowInstanceMetadata: true});
    const [entry] = readBack(r.yaml, format).entries;
    expect(entry.spec).toMatchObject({
      hosts: ['instance-metadata.internal'],
      addresses: ['169.254.169.254/32'],
      endpoints: [{address: '169.254.169.254'}],
      resolution: 'STATIC',
      exportTo: ['.'],
    });
    expect(r.yaml).toMatch(/# It hands the node's credentials to Mattermost/);
  });
});

describe('renderSuggestion', () => {
  const entry = {
    name: 'yes',
    hosts: ['on.example.com'],
    ports: [{number: 443, name: 'https', protocol: 'TLS' as const}],
    resolution: 'NONE' as const,
    location: 'MESH_EXTERNAL' as const,
    covers: [],
    comment: 'line one\nline two\u2028evil: true\u0085x: 1',
  };

  test('quotes words that YAML 1.1 readers (Helm) would take for booleans', () => {
    const {yaml} = renderSuggestion([entry], 'package');
    expect(yaml).toContain('"yes":');
    expect((parse(yaml, {version: '1.1'}) as {routes: {outbound: Record<string, unknown>}}).routes.outbound).toHaveProperty('yes');
  });

  test('writes resolution only when it differs from the chart default', () => {
    expect(renderSuggestion([entry], 'package').yaml).toContain('resolution: NONE');
    expect(renderSuggestion([{...entry, resolution: 'DNS'}], 'package').yaml).not.toContain('resolution');
    expect(renderSuggestion([{...entry, resolution: 'DNS'}], 'package-legacy').yaml).toContain('resolution: DNS');
  });

  test('comment lines stay comments even with line separators YAML 1.1 readers break on', () => {
    const {yaml} = renderSuggestion([entry], 'serviceentry');
    expect(yaml).toContain('# line two\\u{2028}evil: true\\x85x: 1');
    for (const version of ['1.1', '1.2'] as const) {
      const docs = parseAllDocuments(yaml, {version});
      const value = (docs as {toJS: () => unknown}[])[0].toJS() as Record<string, unknown>;
      expect(Object.keys(value)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    }
  });

  test('exportTo is written as in the Big Bang documentation', () => {
    expect(renderSuggestion([entry], 'package-legacy').yaml).toContain('exportTo: ["."]');
  });
});
