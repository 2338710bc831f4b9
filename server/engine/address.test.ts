import {isIP} from 'node:net';

import fc from 'fast-check';

import {addressKind, addressScope, cidrContains, isIpAddress, normalizeIp, parseAddress, parseCidr} from './address';

describe('addressKind', () => {
  test.each([
    ['169.254.169.254', 'instance-metadata'],
    ['fd00:ec2::254', 'instance-metadata'],
    ['240.240.12.7', 'istio-vip'],
    ['240.241.0.1', 'public'],
    ['10.96.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.170.2', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.1.2.3', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['52.216.8.45', 'public'],
    ['2600:1f18::1', 'public'],
    ['not-an-ip', 'invalid'],
  ])('%s is %s', (ip, kind) => {
    expect(addressKind(ip)).toBe(kind);
  });
});

describe('cidrContains', () => {
  test('compares only the prefix bits', () => {
    expect(cidrContains('10.0.0.0/8', '10.255.255.255')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.0')).toBe(false);
    expect(cidrContains('169.254.169.254', '169.254.169.254')).toBe(true);
    expect(cidrContains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(cidrContains('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '8.8.8.8')).toBe(true);
  });
  test('never matches across address families or malformed input', () => {
    expect(cidrContains('0.0.0.0/0', '::1')).toBe(false);
    expect(cidrContains('10.0.0.0/33', '10.0.0.1')).toBe(false);
    expect(cidrContains('10.0.0.0/x', '10.0.0.1')).toBe(false);
    expect(parseCidr('1.2.3.4/')).toBeNull();
  });
});

describe('one reading of an address for the engine and the suggestions', () => {
  // These used to be read different ways.
  test.each([
    ['::ffff:10.0.0.1', 'private', 'private'],
    ['0.0.0.0', 'unspecified', 'private'],
    ['100.64.0.1', 'shared', 'private'],
    ['100.127.255.254', 'shared', 'private'],
    ['::ffff:a00:1', 'private', 'private'],
    ['[::ffff:169.254.169.254]', 'instance-metadata', 'link-local'],
    ['52.216.8.45', 'public', 'public'],
  ])('%s', (ip, kind, scope) => {
    expect(addressKind(ip)).toBe(kind);
    expect(addressScope(ip)).toBe(scope);
  });

  test('an Envoy address in IPv4-mapped form is the IPv4 destination', () => {
    expect(parseAddress('[::ffff:10.0.0.1]:5432')).toEqual({ip: '10.0.0.1', port: 5432});
    expect(parseAddress('[2600:1F18::0001]:443')).toEqual({ip: '2600:1f18::1', port: 443});
    expect(parseAddress('envoy://internal_client_address/')).toBeNull();
  });
});

describe('normalizeIp', () => {
  test.each([
    ['10.0.0.1', '10.0.0.1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:8.8.8.8', '8.8.8.8'],
    ['::FFFF:808:808', '8.8.8.8'],
    ['010.0.0.1', null],
    ['host.example', null],
    ['', null],
  ])('%j -> %j', (raw, want) => {
    expect(normalizeIp(raw)).toBe(want);
  });

  test('accepts exactly what node:net accepts', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({maxLength: 20})), (s) => {
        // node:net takes any zone text after "%"; only interface-like zones are read here.
        if (s.includes('%')) return;
        expect(isIpAddress(s)).toBe(isIP(s) !== 0);
      }),
      {numRuns: 2000},
    );
  });
});

describe('parseCidr', () => {
  test('folds an IPv4-mapped network to IPv4, as Go reads it', () => {
    expect(parseCidr('::ffff:10.0.0.0/104')).toMatchObject({network: '10.0.0.0', prefix: 8, family: 'ipv4'});
    expect(cidrContains('::ffff:10.0.0.0/104', '10.9.9.9')).toBe(true);
    expect(parseCidr('::ffff:10.0.0.0/90')).toBeNull();
  });
});
