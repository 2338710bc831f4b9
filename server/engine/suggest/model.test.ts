import type {ServiceEntryModel} from '../types';
import {buildServiceEntries, INSTANCE_METADATA_HOST, partitionValid} from './model';
import {MAX_NAME_LENGTH} from './names';
import {finding} from './testing';
import {checkServiceEntrySpec, toServiceEntrySpec} from './validate';

function only(entries: ServiceEntryModel[]): ServiceEntryModel {
  expect(entries).toHaveLength(1);
  return entries[0];
}

describe('which findings get an entry', () => {
  test('blocked and passthrough do; reached and internal ones are not mentioned at all', () => {
    const r = buildServiceEntries([
      finding({host: 'a.example.com', verdict: 'blocked'}),
      finding({host: 'b.example.org', verdict: 'passthrough'}),
      finding({host: 'c.example.net', verdict: 'external-ok'}),
      finding({host: 'd.example.io', verdict: 'internal'}),
    ]);
    expect(r.entries.flatMap((e) => e.hosts).sort()).toEqual(['a.example.com', 'b.example.org']);
    expect(r.skipped).toEqual([]);
  });

  test('an external-failed destination is already registered: the advice points at the NetworkPolicy', () => {
    const r = buildServiceEntries([finding({host: 'search.example.com', port: 9200, verdict: 'external-failed'})]);
    expect(r.entries).toEqual([]);
    expect(r.skipped).toEqual([
      {host: 'search.example.com', keys: [r.skipped[0].keys![0]], reason: expect.stringMatching(/already registered.*NetworkPolicy/)},
    ]);
  });

  test('a finding marked with a rejected host, or whose host fails validation, never becomes an entry', () => {
    const r = buildServiceEntries([
      finding({host: null, ip: '203.0.113.1', rejectedHost: {printable: 'x\\x0ay', reason: 'contains control characters'}}),
      finding({host: 'evil.com\n  - "*"', ip: '203.0.113.2'}),
      finding({host: 'a.example.com', attribution: {host: 'bad_host.example.com'}}),
    ]);
    expect(r.entries).toEqual([]);
    expect(r.skipped.map((s) => s.host).sort()).toEqual(['bad_host.example.com', 'evil.com\\x0a  - "*"', 'x\\x0ay']);
    expect(r.skipped.every((s) => s.reason.startsWith('host name rejected'))).toBe(true);
  });

  test('attribution.host takes precedence over destination.host and is normalised', () => {
    const e = only(buildServiceEntries([finding({host: 'x.example.com', attribution: {host: 'API.Example.COM.'}})]).entries);
    expect(e.hosts).toEqual(['api.example.com']);
  });

  test('an :authority carrying the destination port is the host without it', () => {
    const e = only(buildServiceEntries([finding({host: 'hooks.example.org:8080', port: 8080, protocol: 'HTTP'})]).entries);
    expect(e.hosts).toEqual(['hooks.example.org']);
    expect(e.ports).toEqual([{number: 8080, name: 'http-8080', protocol: 'HTTP'}]);
  });

  test('an IP literal in the host field is an IP-only destination, not a hostile name', () => {
    const r = buildServiceEntries([finding({host: '52.1.2.3', port: 443, attribution: {note: 'No server name was logged.'}})]);
    expect(r.entries).toEqual([]);
    expect(r.skipped).toHaveLength(1);
    expect(r.skipped[0].host).toBe('52.1.2.3');
    expect(r.skipped[0].reason).toMatch(/^no host name is known for 52\.1\.2\.3:443.*No server name was logged\./);
  });

  test('IP-only advice names valid candidates and leaves out invalid ones', () => {
    const r = buildServiceEntries([finding({host: null, ip: '52.1.2.3', attribution: {candidates: ['b.example.com', 'a.example.com', 'x\ny']}})]);
    expect(r.skipped[0].reason).toContain('It could be a.example.com, b.example.com.');
    expect(r.skipped[0].reason).not.toContain('x\ny');
  });
});

describe('addresses a MESH_EXTERNAL entry cannot fix', () => {
  test('an in-cluster address with a cluster name: fix the Sidecar, not a ServiceEntry', () => {
    const r = buildServiceEntries([finding({host: 'pg.data.svc.cluster.local', ip: '10.96.0.20', port: 5432, protocol: 'TCP'})]);
    expect(r.entries).toEqual([]);
    expect(r.skipped[0]).toMatchObject({host: 'pg.data.svc.cluster.local', reason: expect.stringMatching(/private range.*Sidecar.*wrong fix/)});
  });

  test('an outside-looking name at a private address gets both possibilities explained', () => {
    const r = buildServiceEntries([finding({host: 'ldap.corp.example.com', ip: '192.168.10.5', port: 636})]);
    expect(r.entries).toEqual([]);
    expect(r.skipped[0].reason).toMatch(/If it is a Kubernetes Service.*If it is a server outside the cluster/);
  });

  test.each([
    ['100.64.3.4', /shared range 100\.64\.0\.0\/10/],
    ['127.0.0.1', /loopback/],
    ['240.240.12.7', /allocated to a ServiceEntry.*exportTo/],
    ['169.254.170.2', /link-local/],
  ])('%s is skipped with its own advice', (ip, advice) => {
    const r = buildServiceEntries([finding({host: null, ip, port: 8443, protocol: 'TCP'})]);
    expect(r.entries).toEqual([]);
    expect(r.skipped[0].reason).toMatch(advice);
  });

  test('names that only resolve inside the cluster are skipped even without an address', () => {
    const r = buildServiceEntries([
      finding({host: 'minio', port: 9000, protocol: 'HTTP'}),
      finding({host: 'minio.minio.svc', port: 9000, protocol: 'HTTP'}),
      finding({host: 'localhost', port: 8065, protocol: 'HTTP'}),
    ]);
    expect(r.entries).toEqual([]);
    expect(r.skipped.map((s) => s.host).sort()).toEqual(['localhost', 'minio', 'minio.minio.svc']);
  });
});

describe('instance metadata', () => {
  const imds = finding({host: null, ip: '169.254.169.254', port: 80, protocol: 'HTTP', attribution: {method: 'well-known'}});

  test('is advice by default, not an entry', () => {
    const r = buildServiceEntries([imds]);
    expect(r.entries).toEqual([]);
    expect(r.skipped[0].reason).toMatch(/instance metadata service.*IAM Roles for Service Accounts.*NetworkPolicy/);
  });

  test('when asked for, is a STATIC entry matched by address that Istio accepts', () => {
    const e = only(buildServiceEntries([imds], {allowInstanceMetadata: true}).entries);
    expect(e).toMatchObject({
      name: 'instance-metadata',
      hosts: [INSTANCE_METADATA_HOST],
      addresses: ['169.254.169.254/32'],
      endpoints: [{address: '169.254.169.254'}],
      resolution: 'STATIC',
      ports: [{number: 80, name: 'tcp-80', protocol: 'TCP'}],
    });
    expect(e.comment).toMatch(/credentials/);
    expect(checkServiceEntrySpec(toServiceEntrySpec(e))).toEqual([]);
  });

  test('is not suggested when the values already allow its address', () => {
    const r = buildServiceEntries([imds], {
      allowInstanceMetadata: true,
      allowed: [{host: 'imds.internal', port: 80, protocol: 'TCP', addresses: ['169.254.169.254/32'], source: 'ServiceEntry imds'}],
    });
    expect(r.entries).toEqual([]);
    expect(r.skipped[0].reason).toBe('port 80 is already allowed by ServiceEntry imds');
  });
});

describe('one entry per destination', () => {
  test('every host and port gets its own entry, named after it alone', () => {
    const r = buildServiceEntries([
      finding({host: 's3.amazonaws.com'}),
      finding({host: 'bucket.s3.us-gov-west-1.amazonaws.com'}),
      finding({host: 'hooks.example.com'}),
      finding({host: 'jira.example.com'}),
      finding({host: 'b.example.com', port: 8443, key: 'b8443'}),
    ]);
    expect(r.entries.map((e) => [e.name, e.hosts, e.ports.map((p) => p.number)])).toEqual([
      ['b-example-com-8443', ['b.example.com'], [8443]],
      ['bucket-s3-us--gov--west--1-amazonaws-com-443', ['bucket.s3.us-gov-west-1.amazonaws.com'], [443]],
      ['hooks-example-com-443', ['hooks.example.com'], [443]],
      ['jira-example-com-443', ['jira.example.com'], [443]],
      ['s3-amazonaws-com-443', ['s3.amazonaws.com'], [443]],
    ]);
  });

  test('a destination has the same entry whatever else is rendered with it', () => {
    const hooks = finding({host: 'hooks.example.com'});
    const alone = buildServiceEntries([hooks]).entries;
    const together = buildServiceEntries([finding({host: 'jira.example.com'}), hooks, finding({host: 'example.com', port: 80, protocol: 'HTTP'})]).entries;
    expect(together.filter((e) => e.covers.includes(hooks.key))).toEqual(alone);
  });

  test('TCP hosts get an entry each, DNS resolution, and a note when they share a port', () => {
    const r = buildServiceEntries([
      finding({host: 'smtp1.example.com', port: 587, protocol: 'TCP'}),
      finding({host: 'smtp2.example.com', port: 587, protocol: 'TCP'}),
    ]);
    expect(r.entries.map((e) => [e.name, e.hosts, e.resolution])).toEqual([
      ['smtp1-example-com-587', ['smtp1.example.com'], 'DNS'],
      ['smtp2-example-com-587', ['smtp2.example.com'], 'DNS'],
    ]);
    for (const e of r.entries) {
      expect(e.comment).toMatch(/Another entry also uses TCP port 587/);
      expect(checkServiceEntrySpec(toServiceEntrySpec(e))).toEqual([]);
    }
  });

  test('TCP seen on an implicit-TLS port is declared TLS, and says why', () => {
    const e = only(buildServiceEntries([finding({host: 'ldap.example.com', port: 636, protocol: 'TCP'})]).entries);
    expect(e.ports).toEqual([{number: 636, name: 'tls-636', protocol: 'TLS'}]);
    expect(e.comment).toMatch(/Port 636 declared as TLS/);
  });

  test('TCP on other ports stays TCP', () => {
    const e = only(buildServiceEntries([finding({host: 'db.example.com', port: 5432, protocol: 'TCP'})]).entries);
    expect(e.ports[0].protocol).toBe('TCP');
  });

  test('one host and port seen with two protocols is declared once, with the most specific one', () => {
    const r = buildServiceEntries([
      finding({host: 'a.example.com', port: 8443, protocol: 'TCP', key: 'k1'}),
      finding({host: 'a.example.com', port: 8443, protocol: 'TLS', key: 'k2'}),
    ]);
    expect(only(r.entries).ports).toEqual([{number: 8443, name: 'tls-8443', protocol: 'TLS'}]);
    expect(only(r.entries).covers).toEqual(['k1', 'k2']);
    expect(r.skipped[0].reason).toMatch(/also seen as TCP/);
  });

  test('wildcard hosts need resolution NONE and never share a name with a concrete host', () => {
    const r = buildServiceEntries([
      finding({host: '*.example.com'}),
      finding({host: 'wildcard.example.com'}),
      finding({host: '*.example.com', port: 25, protocol: 'TCP', key: 'wild25'}),
    ]);
    expect(r.entries.map((e) => [e.name, e.hosts, e.resolution])).toEqual([
      ['wildcard---example-com-443', ['*.example.com'], 'NONE'],
      ['wildcard-example-com-443', ['wildcard.example.com'], 'DNS'],
    ]);
    expect(r.skipped).toEqual([{host: '*.example.com', keys: ['wild25'], reason: expect.stringMatching(/wildcard host cannot be allowed on TCP port 25/)}]);
  });

  test('an ambiguous address allows every configured candidate, each in its own entry', () => {
    const r = buildServiceEntries([
      finding({
        host: null,
        ip: '104.16.1.1',
        protocol: 'TCP',
        attribution: {host: 'cdn-a.example.net', candidates: ['cdn-a.example.net', 'cdn-b.example.net'], confidence: 'ambiguous', method: 'dns'},
      }),
    ]);
    expect(r.entries.map((e) => e.hosts)).toEqual([['cdn-a.example.net'], ['cdn-b.example.net']]);
    for (const e of r.entries) expect(e.comment).toMatch(/shared by several configured hosts/);
  });
});

describe('names', () => {
  test('avoid reserved names and stay unique', () => {
    const r = buildServiceEntries([finding({host: 'api.example.com'})], {reservedNames: ['api-example-com-443', 'api-example-com-443-2']});
    expect(only(r.entries).name).toBe('api-example-com-443-3');
  });

  test('two destinations never share a name, however their hosts are spelt', () => {
    const hosts = ['a-b.example.com', 'a.b-example.com', 'a.b.example.com', 'a--b.example.com', '*.a-b.example.com', 'wildcard.a-b.example.com'];
    const names = hosts.flatMap((host) => [443, 4433].map((port) => only(buildServiceEntries([finding({host, port})]).entries).name));
    expect(new Set(names).size).toBe(names.length);
  });

  test('stay within the length that keeps <name>-external a DNS label', () => {
    const host = `${'a'.repeat(63)}.${'b'.repeat(63)}.example.com`;
    const e = only(buildServiceEntries([finding({host, port: 25, protocol: 'TCP'})]).entries);
    expect(e.name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(`${e.name}-external`).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});

describe('comments', () => {
  test('name each feature once, with its configuration path, sanitised', () => {
    const feature = {id: 'f', name: 'Evil\nname: x', configPath: 'A.`B`'};
    const e = only(
      buildServiceEntries([finding({host: 'a.example.com', features: [feature]}), finding({host: 'a.example.com', features: [feature], key: 'again'})]).entries,
    );
    expect(e.comment).toBe('Restores: Evil\\x0aname: x [A.\\x60B\\x60]');
  });

  test('say when the traffic was only seen under ALLOW_ANY', () => {
    const e = only(buildServiceEntries([finding({host: 'a.example.com', verdict: 'passthrough'})]).entries);
    expect(e.comment).toMatch(/ALLOW_ANY/);
  });
});

describe('determinism', () => {
  test('the order of the findings does not matter', () => {
    const fs = [
      finding({host: 'b.example.com'}),
      finding({host: 'a.example.com'}),
      finding({host: 'smtp.example.org', port: 587, protocol: 'TCP'}),
      finding({host: 'c.example.net', port: 80, protocol: 'HTTP'}),
    ];
    const first = buildServiceEntries(fs);
    expect(buildServiceEntries([...fs].reverse())).toEqual(first);
    expect(buildServiceEntries([fs[2], fs[0], fs[3], fs[1]])).toEqual(first);
  });
});

describe('partitionValid', () => {
  test('moves an entry Istio would refuse to skipped, with the errors', () => {
    const broken: ServiceEntryModel = {
      name: 'broken',
      hosts: ['*.example.com', 'b.example.com'],
      ports: [
        {number: 587, name: 'tcp-587', protocol: 'TCP'},
        {number: 587, name: 'Bad_Name', protocol: 'TCP'},
      ],
      resolution: 'DNS',
      location: 'MESH_EXTERNAL',
      covers: [],
    };
    const fine: ServiceEntryModel = {...broken, name: 'fine', hosts: ['a.example.com'], ports: [{number: 443, name: 'https', protocol: 'TLS'}]};
    const r = partitionValid([broken, fine]);
    expect(r.entries.map((e) => e.name)).toEqual(['fine']);
    expect(r.skipped.map((s) => s.host)).toEqual(['*.example.com', 'b.example.com']);
    const reason = r.skipped[0].reason;
    expect(reason).toMatch(/would be refused by Istio/);
    expect(reason).toMatch(/must be FQDN/);
    expect(reason).toMatch(/port numbers must be unique/);
    expect(reason).toMatch(/invalid port name/);
    expect(reason).toMatch(/multiple hosts provided with non-HTTP, non-TLS ports/);
  });
});
