import {cidrContains, classifyAddress, parseCidr} from './addresses';

describe('classifyAddress', () => {
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
    expect(classifyAddress(ip)).toBe(kind);
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
