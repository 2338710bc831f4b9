// Istio's visibility rules and the allowances they give, on the recorded objects (test/fixtures/kubernetes).
import {buildServiceEntries} from '../engine/suggest/model';
import {finding} from '../engine/suggest/testing';
import {fixture, type Json} from '../sources/kube/testing/fixtures';
import {computeAllowances, type MeshInput} from './allowances';
import {allowedHostsFromMesh, reservedNamesFromMesh} from './allowed';
import type {ServiceEntryLike, SidecarLike} from './types';
import {egressAllows, exportedTo, selectSidecar} from './visibility';

const entries = (fixture<Json>('serviceentries.json').items as ServiceEntryLike[]).map((e) => e);
const byName = (name: string): ServiceEntryLike => entries.find((e) => e.metadata?.name === name) as ServiceEntryLike;

function input(over: Partial<MeshInput> = {}): MeshInput {
  return {
    namespace: 'mattermost',
    rootNamespace: 'istio-system',
    workloadLabels: {app: 'mattermost'},
    serviceEntries: entries,
    sidecars: [],
    meshConfigMode: null,
    ...over,
  };
}

function sidecar(name: string, over: (s: Json) => void = () => undefined): SidecarLike {
  const s = fixture<Json>(name);
  over(s);
  return s as SidecarLike;
}

describe('exportTo', () => {
  it.each([
    ['mattermost-external-external', true, 'its own namespace with "."'],
    ['smtp-relay', true, 'another namespace without exportTo (Istio exports to all)'],
    ['elasticsearch', true, 'another namespace exporting to mattermost by name'],
    ['sso', true, 'another namespace exporting to "*"'],
    ['gitlab-only', false, 'another namespace exporting with "." (its own only)'],
    ['grafana-plugins', false, 'another namespace exporting to other namespaces'],
    ['nexus-upstream', false, '"~" (to none)'],
  ])('%s is visible in mattermost: %s (%s)', (name, visible) => {
    expect(exportedTo(byName(name), 'mattermost')).toBe(visible);
  });
});

describe('computeAllowances', () => {
  it("lists the hosts and ports of the namespace's own entries and of those exported to it", () => {
    const m = computeAllowances(input());
    const seen = [...new Set(m.hosts.map((h) => `${h.host}:${h.port}/${h.protocol} ${h.source}`))];
    expect(seen).toEqual([
      'securityupdatecheck.mattermost.com:443/TLS ServiceEntry mattermost/mattermost-external-external',
      'customers.mattermost.com:443/TLS ServiceEntry mattermost/mattermost-external-external',
      'notices.mattermost.com:443/TLS ServiceEntry mattermost/mattermost-external-external',
      'api.integrations.mattermost.com:443/TLS ServiceEntry mattermost/mattermost-external-external',
      'pdat.matterlytics.com:443/TLS ServiceEntry mattermost/mattermost-external-external',
      'api.github.com:443/TLS ServiceEntry mattermost/mattermost-external-external',
      'mattermost-files.s3.us-gov-west-1.amazonaws.com:443/HTTPS ServiceEntry mattermost/s3-external',
      'smtp.mail.example.mil:587/TCP ServiceEntry istio-egress/smtp-relay',
      '*.es.example.mil:9200/HTTPS ServiceEntry logging/elasticsearch',
      'login.example.mil:443/HTTPS ServiceEntry keycloak/sso',
    ]);
    expect(m.ignored.map((i) => i.source)).toEqual([
      'ServiceEntry gitlab/gitlab-only',
      'ServiceEntry monitoring/grafana-plugins',
      'ServiceEntry nexus/nexus-upstream',
    ]);
    expect(m.ignored[0].why).toBe('not exported to mattermost (exportTo: .)');
    expect(m.entryNames).toEqual(['mattermost-external-external', 's3-external']);
  });

  it('takes the outbound mode from the Sidecar that applies: REGISTRY_ONLY or ALLOW_ANY', () => {
    const strict = computeAllowances(input({sidecars: [sidecar('sidecar-registry-only.json')]}));
    expect(strict).toMatchObject({outboundMode: 'REGISTRY_ONLY', modeSource: 'Sidecar mattermost/mattermost-sidecar'});
    expect(strict.sidecars).toEqual([expect.objectContaining({name: 'mattermost-sidecar', mode: 'REGISTRY_ONLY', selected: true, egressHosts: null})]);
    expect(computeAllowances(input({sidecars: [sidecar('sidecar-allow-any.json')]})).outboundMode).toBe('ALLOW_ANY');
  });

  it('falls back to the root namespace Sidecar, then the mesh config, then Istio’s default', () => {
    const root = sidecar('sidecar-registry-only.json', (s) => {
      (s.metadata as Json).namespace = 'istio-system';
      (s.metadata as Json).name = 'default';
    });
    expect(computeAllowances(input({sidecars: [root]}))).toMatchObject({outboundMode: 'REGISTRY_ONLY', modeSource: 'Sidecar istio-system/default'});
    expect(computeAllowances(input({meshConfigMode: 'REGISTRY_ONLY'}))).toMatchObject({
      outboundMode: 'REGISTRY_ONLY',
      modeSource: 'the mesh config (outboundTrafficPolicy)',
    });
    expect(computeAllowances(input({meshConfigMode: null})).outboundMode).toBe('ALLOW_ANY');
    const unread = input();
    delete unread.meshConfigMode;
    expect(computeAllowances(unread).outboundMode).toBe('unknown');
  });

  it('prefers a Sidecar selecting the Mattermost pods, and hides what its egress hosts leave out', () => {
    const selecting = sidecar('sidecar-egress-hosts.json');
    const plain = sidecar('sidecar-allow-any.json');
    const m = computeAllowances(input({sidecars: [plain, selecting]}));
    expect(m).toMatchObject({outboundMode: 'REGISTRY_ONLY', modeSource: 'Sidecar mattermost/mattermost-egress'});
    expect(m.sidecars.find((s) => s.name === 'mattermost-sidecar')?.why).toBe('mattermost/mattermost-egress takes precedence');
    // egress hosts ./*, istio-system/*, istio-egress/*: the entries from logging and keycloak are not visible.
    const sources = new Set(m.hosts.map((h) => h.source));
    expect(sources).toEqual(
      new Set(['ServiceEntry mattermost/mattermost-external-external', 'ServiceEntry mattermost/s3-external', 'ServiceEntry istio-egress/smtp-relay']),
    );
    expect(m.ignored.some((i) => i.source === 'ServiceEntry logging/elasticsearch' && i.why.includes('hidden by the egress hosts'))).toBe(true);
    const other = computeAllowances(input({sidecars: [selecting], workloadLabels: {app: 'gitlab'}}));
    expect(other.sidecars[0]).toMatchObject({selected: false});
    expect(other.sidecars[0].why).toContain('does not match');
  });

  it('reads egress host patterns the way Istio does', () => {
    expect(egressAllows(['./*'], 'mattermost', 'mattermost', 'a.example.com')).toBe(true);
    expect(egressAllows(['./*'], 'mattermost', 'other', 'a.example.com')).toBe(false);
    expect(egressAllows(['*/*.example.com'], 'mattermost', 'other', 'a.example.com')).toBe(true);
    expect(egressAllows(['*/*.example.com'], 'mattermost', 'other', 'example.com')).toBe(false);
    expect(egressAllows(['other/api.example.com'], 'mattermost', 'other', 'api.example.com')).toBe(true);
    expect(egressAllows(['~/*'], 'mattermost', 'mattermost', 'a.example.com')).toBe(false);
    expect(egressAllows(null, 'mattermost', 'other', 'a.example.com')).toBe(true);
  });

  it('picks the oldest of several namespace-wide Sidecars', () => {
    const older = sidecar('sidecar-allow-any.json', (s) => {
      (s.metadata as Json).name = 'older';
      (s.metadata as Json).creationTimestamp = '2025-01-01T00:00:00Z';
    });
    const newer = sidecar('sidecar-registry-only.json');
    expect(selectSidecar([newer, older], 'mattermost', 'istio-system', {app: 'mattermost'}).selected).toBe(older);
  });

  it('notes entries it cannot use', () => {
    const bad = {metadata: {name: 'bad', namespace: 'mattermost'}, spec: {hosts: ['ok.example.com', 'not a host'], ports: [{number: 'x'}]}};
    const m = computeAllowances(input({serviceEntries: [bad]}));
    expect(m.hosts).toEqual([]);
    expect(m.notes.join('\n')).toMatch(/port whose number cannot be read[\s\S]*lists no ports[\s\S]*not a valid host name/);
  });
});

describe('allowances for the suggestion engine', () => {
  it('become AllowedHost entries that keep buildServiceEntries from suggesting what is already allowed', () => {
    const m = computeAllowances(input());
    const allowed = allowedHostsFromMesh(m);
    expect(allowed).toContainEqual({host: 'smtp.mail.example.mil', port: 587, protocol: 'TCP', addresses: [], source: 'ServiceEntry istio-egress/smtp-relay'});
    expect(allowed).toContainEqual({host: '*.es.example.mil', port: 9200, protocol: 'HTTPS', addresses: [], source: 'ServiceEntry logging/elasticsearch'});
    const findings = [
      finding({host: 'smtp.mail.example.mil', port: 587, protocol: 'TCP'}),
      finding({host: 'node1.es.example.mil', port: 9200, protocol: 'TLS'}),
      finding({host: 'gitlab-runner-cache.example.mil', port: 443}),
      finding({host: 'push.mattermost.com', port: 443}),
    ];
    const without = buildServiceEntries(findings).entries.flatMap((e) => e.hosts);
    expect(without).toEqual(expect.arrayContaining(['smtp.mail.example.mil', 'node1.es.example.mil', 'push.mattermost.com']));
    const built = buildServiceEntries(findings, {allowed, reservedNames: reservedNamesFromMesh(m)});
    const hosts = built.entries.flatMap((e) => e.hosts).sort();
    // The gitlab entry is not exported to mattermost, so its host is still suggested.
    expect(hosts).toEqual(['gitlab-runner-cache.example.mil', 'push.mattermost.com']);
    expect(built.entries.every((e) => !reservedNamesFromMesh(m).includes(e.name))).toBe(true);
  });
});
