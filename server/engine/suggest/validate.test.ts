import {schemaErrors} from './schema';
import {checkServiceEntrySpec, toServiceEntrySpec, validateServiceEntry, validateServiceEntrySpec} from './validate';

const good = () => ({
  hosts: ['api.example.com'],
  location: 'MESH_EXTERNAL',
  exportTo: ['.'],
  ports: [{number: 443, name: 'https', protocol: 'TLS'}],
  resolution: 'DNS',
});

function errorsOf(patch: Record<string, unknown>): string[] {
  return validateServiceEntrySpec({...good(), ...patch});
}

describe('validateServiceEntrySpec (Istio rules)', () => {
  test('accepts the documented Big Bang example', () => {
    expect(validateServiceEntrySpec(good())).toEqual([]);
    expect(checkServiceEntrySpec(good())).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['no hosts', {hosts: []}, /at least one host/],
    ['a bare *', {hosts: ['*'], resolution: 'NONE'}, /invalid host \*/],
    ['an invalid label', {hosts: ['bad_label.example.com']}, /label "bad_label" invalid/],
    ['an all-numeric top-level domain', {hosts: ['10.0.0.1']}, /all-numeric/],
    ['a wildcard with DNS resolution', {hosts: ['*.example.com']}, /must be FQDN/],
    ['more than 256 hosts', {hosts: Array.from({length: 257}, (_, i) => `h${i}.example.com`)}, /at most 256/],
    [
      'a duplicate port number',
      {
        ports: [
          {number: 443, name: 'https', protocol: 'TLS'},
          {number: 443, name: 'tls', protocol: 'TLS'},
        ],
      },
      /numbers must be unique/,
    ],
    [
      'a duplicate port name',
      {
        ports: [
          {number: 443, name: 'https', protocol: 'TLS'},
          {number: 8443, name: 'https', protocol: 'TLS'},
        ],
      },
      /names must be unique/,
    ],
    ['a port name that is not DNS-1123', {ports: [{number: 443, name: 'HTTPS_x', protocol: 'TLS'}]}, /invalid port name/],
    ['port 0', {ports: [{number: 0, name: 'zero', protocol: 'TCP'}]}, /between 1 and 65535/],
    ['port 65536', {ports: [{number: 65536, name: 'big', protocol: 'TCP'}]}, /between 1 and 65535/],
    ['an unknown protocol', {ports: [{number: 443, name: 'https', protocol: 'QUIC'}]}, /unrecognized protocol/],
    ['no ports', {ports: []}, /at least one port/],
    ['a CIDR with DNS resolution', {addresses: ['10.0.0.0/24']}, /CIDR addresses are allowed only/],
    ['an invalid address', {addresses: ['300.1.1.1'], resolution: 'NONE'}, /not a valid IP address or CIDR/],
    ['endpoints with NONE', {resolution: 'NONE', endpoints: [{address: '1.2.3.4'}]}, /no endpoints should be provided/],
    ['STATIC without endpoints', {resolution: 'STATIC'}, /endpoints must be provided/],
    ['STATIC with a host name endpoint', {resolution: 'STATIC', endpoints: [{address: 'example.com'}]}, /not a valid IP address/],
    [
      'two endpoints with DNS_ROUND_ROBIN',
      {resolution: 'DNS_ROUND_ROBIN', endpoints: [{address: 'a.example.com'}, {address: 'b.example.com'}]},
      /0 or 1 endpoint/,
    ],
    [
      'an endpoint port the entry does not define',
      {resolution: 'STATIC', endpoints: [{address: '1.2.3.4', ports: {other: 80}}]},
      /not defined by the service entry/,
    ],
    [
      'workloadSelector with endpoints',
      {resolution: 'STATIC', workloadSelector: {labels: {app: 'x'}}, endpoints: [{address: '1.2.3.4'}]},
      /only one of workloadSelector or endpoints/,
    ],
    [
      'two hosts with a TCP port and DNS resolution',
      {hosts: ['a.example.com', 'b.example.com'], ports: [{number: 587, name: 'tcp-587', protocol: 'TCP'}]},
      /multiple hosts provided with non-HTTP, non-TLS ports/,
    ],
    ['DYNAMIC_DNS with a concrete host', {resolution: 'DYNAMIC_DNS'}, /requires every host to be a wildcard/],
    ['an unknown resolution', {resolution: 'MAGIC'}, /unknown resolution/],
    ['an unknown location', {location: 'SOMEWHERE'}, /unknown location/],
    ['a duplicate exportTo', {exportTo: ['.', '.']}, /duplicate entries in exportTo/],
    ['* with another exportTo', {exportTo: ['*', 'team-a']}, /both public/],
    ['~ with another exportTo', {exportTo: ['~', '.']}, /no one \(~\) and someone/],
    ['an exportTo that is no namespace', {exportTo: ['Team A']}, /neither/],
  ])('refuses %s', (_what, patch, expected) => {
    const errors = errorsOf(patch);
    expect(errors.some((e) => expected.test(e))).toBe(true);
  });

  test('"." and the own namespace in exportTo are a duplicate only when the namespace is known', () => {
    const spec = {...good(), exportTo: ['.', 'mattermost']};
    expect(validateServiceEntrySpec(spec)).toEqual([]);
    expect(validateServiceEntrySpec(spec, {namespace: 'mattermost'})).toEqual(['duplicate entries in exportTo field "mattermost"']);
    expect(validateServiceEntrySpec({...spec, exportTo: ['mattermost', '.']}, {namespace: 'mattermost'})).toEqual([
      'duplicate entries in exportTo: . and current namespace mattermost',
    ]);
  });

  test('several hosts are fine when Istio can tell them apart (HTTP, TLS) or resolution is NONE', () => {
    expect(errorsOf({hosts: ['a.example.com', 'b.example.com']})).toEqual([]);
    expect(errorsOf({hosts: ['a.example.com', 'b.example.com'], resolution: 'NONE', ports: [{number: 587, name: 'tcp-587', protocol: 'TCP'}]})).toEqual([]);
  });

  test('protocols are read case-insensitively, as Istio does', () => {
    expect(errorsOf({ports: [{number: 443, name: 'https', protocol: 'tls'}]})).toEqual([]);
  });

  test('a wildcard with NONE, and an IP-only entry with STATIC endpoints, are valid', () => {
    expect(errorsOf({hosts: ['*.example.com'], resolution: 'NONE'})).toEqual([]);
    expect(
      errorsOf({
        hosts: ['instance-metadata.internal'],
        addresses: ['169.254.169.254/32'],
        resolution: 'STATIC',
        endpoints: [{address: '169.254.169.254'}],
        ports: [{number: 80, name: 'tcp-80', protocol: 'TCP'}],
      }),
    ).toEqual([]);
  });

  test('warns where Istio warns', () => {
    expect(validateServiceEntry({...good(), hosts: ['*foo.example.com'], resolution: 'NONE'}).warnings[0]).toMatch(/partial wildcard/);
    expect(validateServiceEntry({...good(), ports: [{number: 5432, name: 'tcp-5432', protocol: 'TCP'}]}).warnings[0]).toMatch(/IST0134/);
  });

  test('survives input of the wrong shape', () => {
    expect(validateServiceEntrySpec(null)).toEqual(['spec must be a mapping']);
    expect(validateServiceEntrySpec({hosts: 'a.example.com', ports: 'x'})).toEqual(expect.arrayContaining(['hosts must be a list', 'ports must be a list']));
  });
});

describe('schemaErrors (JSON Schema, ajv)', () => {
  test('accepts a complete spec', () => {
    expect(schemaErrors(good())).toEqual([]);
  });

  test.each<[string, unknown, RegExp]>([
    ['a misspelt field', {...good(), resolutoin: 'DNS'}, /additional properties \(resolutoin\)/],
    ['a port number given as text', {...good(), ports: [{number: '443', name: 'https', protocol: 'TLS'}]}, /spec\.ports\.0\.number must be integer/],
    ['a missing port name', {...good(), ports: [{number: 443, protocol: 'TLS'}]}, /must have required property 'name'/],
    ['a host with a space', {...good(), hosts: ['a b.com']}, /spec\.hosts\.0 must match pattern/],
    ['no hosts', {ports: []}, /must have required property 'hosts'/],
    ['a lowercase resolution', {...good(), resolution: 'dns'}, /must be equal to one of the allowed values/],
  ])('refuses %s', (_what, spec, expected) => {
    expect(schemaErrors(spec).some((e) => expected.test(e))).toBe(true);
  });
});

describe('toServiceEntrySpec', () => {
  test('always exports to the own namespace only and copies addresses and endpoints when present', () => {
    const spec = toServiceEntrySpec({
      name: 'x',
      hosts: ['instance-metadata.internal'],
      ports: [{number: 80, name: 'tcp-80', protocol: 'TCP'}],
      resolution: 'STATIC',
      location: 'MESH_EXTERNAL',
      addresses: ['169.254.169.254/32'],
      endpoints: [{address: '169.254.169.254'}],
      covers: [],
    });
    expect(spec.exportTo).toEqual(['.']);
    expect(spec.addresses).toEqual(['169.254.169.254/32']);
    expect(spec.endpoints).toEqual([{address: '169.254.169.254'}]);
    expect(checkServiceEntrySpec(spec)).toEqual([]);
  });
});
