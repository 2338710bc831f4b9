// The one patch: configured integrations at risk and the access log's destinations, each host once, under
// headed sections, in every format, and still a document the charts read as written.
import {parseAllDocuments} from 'yaml';

import {SUGGESTION_FORMATS} from '../../common/types';
import {assessIntegrations} from './integrations';
import {PATCH_SECTION_TITLES, suggestPatch, type PatchInput} from './patch';
import {readBack} from './suggest';
import {finding} from './suggest/testing';
import type {Finding, InventoryEndpoint} from './types';

const feature = (id: string, configPath: string) => ({id, name: id, configPath});
const endpoint = (host: string, port: number, id: string): InventoryEndpoint => ({host, port, feature: feature(id, `Settings.${id}`), enabled: true});

// SMTP will be blocked (no traffic yet); push is blocked and in the log too; github is only in the log.
const INVENTORY = [endpoint('smtp.example.com', 587, 'smtp'), endpoint('push.mattermost.com', 443, 'push')];
const LOG: Finding[] = [
  finding({host: 'push.mattermost.com', features: [feature('push', 'Settings.push')]}),
  finding({host: 'api.github.com'}),
  finding({host: 'hooks.example.org', port: 8080, protocol: 'HTTP'}),
];

function input(inventory: readonly InventoryEndpoint[], findings: readonly Finding[]): PatchInput {
  const items = assessIntegrations({inventory, mesh: {allowed: [], mode: 'REGISTRY_ONLY'}, values: null, findings});
  return {findings, integrations: {items, mode: 'REGISTRY_ONLY'}};
}

/** Every document of the YAML as plain data, read as Helm reads it (YAML 1.1), failing on any parse error or duplicate key. */
function parsed(yaml: string): unknown[] {
  return parseAllDocuments(yaml, {version: '1.1', uniqueKeys: true}).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS();
  });
}

describe('suggestPatch', () => {
  test.each(SUGGESTION_FORMATS.map((f) => [f]))('%s: one document with both sections, every host once, readable as the chart reads it', (format) => {
    const patch = suggestPatch(input(INVENTORY, LOG), {format});
    parsed(patch.yaml);
    const back = readBack(patch.yaml, format);
    expect(back.errors).toEqual([]);
    const hosts = back.entries.flatMap((e) => e.spec.hosts as string[]);
    expect([...hosts].sort()).toEqual(['api.github.com', 'hooks.example.org', 'push.mattermost.com', 'smtp.example.com']);
    expect(new Set(back.entries.map((e) => e.objectName)).size).toBe(back.entries.length);

    // The integrations first (push is one, though the log shows it too), then the rest of the log.
    expect(patch.sections.map((s) => [s.id, s.title])).toEqual([
      ['integrations', PATCH_SECTION_TITLES.integrations],
      ['log', PATCH_SECTION_TITLES.log],
    ]);
    const hostsOf = (names: string[]) => names.flatMap((n) => patch.entries.find((e) => e.name === n)?.hosts ?? []).sort();
    expect(hostsOf(patch.sections[0].entries)).toEqual(['push.mattermost.com', 'smtp.example.com']);
    expect(hostsOf(patch.sections[1].entries)).toEqual(['api.github.com', 'hooks.example.org']);
    expect(patch.entries.map((e) => e.name)).toEqual([...patch.sections[0].entries, ...patch.sections[1].entries]);

    // Each heading is a comment line, once, in the order of the sections, before the entries it heads.
    const lines = patch.yaml.split('\n');
    const at = (title: string) => lines.findIndex((l) => l.trim() === `# ==== ${title} ====`);
    const integrations = at(PATCH_SECTION_TITLES.integrations);
    const log = at(PATCH_SECTION_TITLES.log);
    expect(integrations).toBeGreaterThan(-1);
    expect(log).toBeGreaterThan(integrations);
    expect(patch.yaml.split(PATCH_SECTION_TITLES.log).length).toBe(2);
    const firstHost = (host: string) => lines.findIndex((l) => l.includes(host) && !l.trim().startsWith('#'));
    expect(firstHost('smtp.example.com')).toBeGreaterThan(integrations);
    expect(firstHost('smtp.example.com')).toBeLessThan(log);
    expect(firstHost('api.github.com')).toBeGreaterThan(log);
  });

  test('a host in both the configuration and the log is one entry, and the plans name it', () => {
    const patch = suggestPatch(input(INVENTORY, LOG), {format: 'bigbang'});
    const push = patch.entries.filter((e) => e.hosts.includes('push.mattermost.com'));
    expect(push).toHaveLength(1);
    expect(patch.plans.find((p) => p.key === 'push.mattermost.com:443')).toMatchObject({action: 'add', entries: [push[0].name]});
  });

  test('only the log without a known configuration, only the configuration without a log, nothing with neither', () => {
    const logOnly = suggestPatch({findings: LOG, integrations: null}, {format: 'bigbang'});
    expect(logOnly.sections.map((s) => s.id)).toEqual(['log']);
    expect(logOnly.yaml).not.toContain(PATCH_SECTION_TITLES.integrations);

    const configOnly = suggestPatch(input(INVENTORY, []), {format: 'serviceentry'});
    expect(configOnly.sections.map((s) => s.id)).toEqual(['integrations']);
    expect(configOnly.yaml).not.toContain(PATCH_SECTION_TITLES.log);

    expect(suggestPatch(input([], []), {format: 'bigbang'})).toMatchObject({yaml: '', entries: [], sections: []});
  });

  test('a part of the patch (`only`) has the names the whole patch gives', () => {
    const whole = suggestPatch(input(INVENTORY, LOG), {format: 'bigbang'});
    const part = suggestPatch(input(INVENTORY, LOG), {format: 'bigbang', only: ['api.github.com:443']});
    expect(part.entries.map((e) => e.name)).toEqual(whole.entries.filter((e) => e.hosts.includes('api.github.com')).map((e) => e.name));
    expect(part.sections.map((s) => s.id)).toEqual(['log']);
  });

  test('host names YAML would read as numbers stay quoted strings; unusable ones are left out with why', () => {
    // Valid host names (no label is all digits) that a plain YAML scalar would turn into numbers.
    const tricky = ['1.5e3', '0.5e1', '1.0e10'];
    const inventory = [...tricky.map((h, i) => endpoint(h, 443, `x${i}`)), endpoint('a#b.example.com', 443, 'hash')];
    const log = [finding({host: '1.5e-3'}), finding({host: '190.0e0', port: 8443})];
    for (const format of SUGGESTION_FORMATS) {
      const patch = suggestPatch(input(inventory, log), {format});
      const back = readBack(patch.yaml, format);
      expect(back.errors).toEqual([]);
      const hosts = back.entries.flatMap((e) => e.spec.hosts as unknown[]);
      // Read as YAML 1.1 (go-yaml, Helm): still the strings, not booleans, null or numbers.
      expect([...hosts].sort()).toEqual([...tricky, '1.5e-3', '190.0e0'].sort());
      expect(hosts.every((h) => typeof h === 'string')).toBe(true);
      expect(JSON.stringify(parsed(patch.yaml))).not.toMatch(/"hosts":\[\d/);
      expect(patch.yaml).not.toContain('a#b');
      expect(patch.skipped.some((s) => s.host.includes('a#b.example.com') || s.host.includes('a\\x23b'))).toBe(true);
    }
  });
});
