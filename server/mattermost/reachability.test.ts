import {bridgeHost, checkBridgeReachability, isReservedAddress, parseAllowList, type ReachabilityVerdict} from './reachability';

describe('parseAllowList', () => {
  test('splits on whitespace and commas like the server', () => {
    expect(parseAllowList(' a.svc, 10.0.0.0/8\tb  ,,c\n')).toEqual(['a.svc', '10.0.0.0/8', 'b', 'c']);
    expect(parseAllowList(undefined)).toEqual([]);
    expect(parseAllowList('')).toEqual([]);
  });
});

describe('bridgeHost', () => {
  test.each([
    ['http://egress-advisor.mm.svc.cluster.local:8080/api/command', 'egress-advisor.mm.svc.cluster.local'],
    ['http://Bridge.NS.svc/x', 'Bridge.NS.svc'],
    ['https://10.96.4.2/', '10.96.4.2'],
    ['http://[fd00::12]:8080/x', 'fd00::12'],
    ['http://user:pw@host.example:1/x', 'host.example'],
    ['http://host', 'host'],
    ['http://host?x=1', 'host'],
  ])('%s -> %s', (url, host) => {
    expect(bridgeHost(url)).toBe(host);
  });

  test.each(['ftp://host/', 'host:8080', '', 'http:///path', 'javascript:alert(1)'])('rejects %j', (url) => {
    expect(bridgeHost(url)).toBeUndefined();
  });
});

describe('isReservedAddress', () => {
  test.each([
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['127.0.0.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['100.128.0.1', false],
    ['198.18.0.1', true],
    ['224.0.0.1', true],
    ['0.0.0.0', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['::', true],
    ['fd12::1', true],
    ['fe80::1', true],
    ['::ffff:10.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['2001:db8::1', true],
    ['2606:4700::1111', false],
    ['not-an-ip', false],
  ])('%s -> %s', (ip, reserved) => {
    expect(isReservedAddress(ip)).toBe(reserved);
  });
});

describe('checkBridgeReachability', () => {
  const svc = 'http://egress-advisor.mattermost.svc.cluster.local:8080/api/v1/command';
  const svcHost = 'egress-advisor.mattermost.svc.cluster.local';

  const table: Array<{name: string; allowed: string; url: string; ips?: string[]; verdict: ReachabilityVerdict; matched?: string; add?: string; value?: string}> = [
    {name: 'empty setting, service name resolving to a pod IP', allowed: '', url: svc, ips: ['10.96.0.15'], verdict: 'refused', add: svcHost, value: svcHost},
    {name: 'host listed exactly', allowed: `localhost ${svcHost}`, url: svc, ips: ['10.96.0.15'], verdict: 'allowed', matched: svcHost},
    {name: 'host listed, no resolution needed', allowed: svcHost, url: svc, verdict: 'allowed', matched: svcHost},
    {name: 'comma-separated list', allowed: `a.example,${svcHost}`, url: svc, verdict: 'allowed', matched: svcHost},
    {name: 'short name listed but URL uses the FQDN', allowed: 'egress-advisor', url: svc, ips: ['10.96.0.15'], verdict: 'refused', add: svcHost, value: `egress-advisor ${svcHost}`},
    {name: 'host comparison is case-sensitive', allowed: svcHost, url: svc.replace('egress-advisor', 'Egress-Advisor'), ips: ['10.96.0.15'], verdict: 'refused'},
    {name: 'service CIDR allows the resolved IP', allowed: '10.96.0.0/12', url: svc, ips: ['10.96.0.15'], verdict: 'allowed', matched: '10.96.0.0/12'},
    {name: 'CIDR that does not contain the IP', allowed: '10.0.0.0/16', url: svc, ips: ['10.96.0.15'], verdict: 'refused', value: `10.0.0.0/16 ${svcHost}`},
    {name: 'bare IP entry is not a CIDR for a name', allowed: '10.96.0.15', url: svc, ips: ['10.96.0.15'], verdict: 'refused'},
    {name: 'bare IP entry matches an IP URL by host string', allowed: '10.96.0.15', url: 'http://10.96.0.15:8080/x', verdict: 'allowed', matched: '10.96.0.15'},
    {name: 'IP URL with empty setting', allowed: '', url: 'http://10.96.0.15:8080/x', verdict: 'refused', add: '10.96.0.15'},
    {name: 'IP URL in a listed /32', allowed: '10.96.0.15/32', url: 'http://10.96.0.15:8080/x', verdict: 'allowed', matched: '10.96.0.15/32'},
    {name: 'public address needs nothing', allowed: '', url: 'https://bridge.example.com/x', ips: ['203.0.114.7'], verdict: 'allowed'},
    {name: 'one public among private addresses', allowed: '', url: 'https://bridge.example.com/x', ips: ['10.0.0.1', '198.51.99.1'], verdict: 'allowed'},
    {name: 'name without known addresses', allowed: '', url: svc, verdict: 'unknown', add: svcHost},
    {name: 'loopback name', allowed: '', url: 'http://localhost:9000/x', ips: ['127.0.0.1', '::1'], verdict: 'refused', add: 'localhost'},
    {name: 'IPv6 literal listed without brackets', allowed: 'fd00::12', url: 'http://[fd00::12]:8080/x', verdict: 'allowed', matched: 'fd00::12'},
    {name: 'IPv6 literal in an IPv6 CIDR', allowed: 'fd00::/8', url: 'http://[fd00::12]:8080/x', verdict: 'allowed', matched: 'fd00::/8'},
    {name: 'IPv6 literal not listed', allowed: '', url: 'http://[fd00::12]:8080/x', verdict: 'refused', add: 'fd00::12'},
    {name: 'IPv4-mapped address in an IPv4 CIDR', allowed: '10.0.0.0/8', url: svc, ips: ['::ffff:10.96.0.15'], verdict: 'allowed', matched: '10.0.0.0/8'},
    {name: 'link-local metadata address', allowed: '', url: 'http://169.254.169.254/latest', verdict: 'refused'},
    {name: 'not an http URL', allowed: '', url: 'ftp://x/', verdict: 'invalid-url'},
  ];

  test.each(table)('$name -> $verdict', ({allowed, url, ips, verdict, matched, add, value}) => {
    const result = checkBridgeReachability({allowedUntrustedInternalConnections: allowed, bridgeUrl: url, resolvedAddresses: ips});
    expect(result.verdict).toBe(verdict);
    expect(result.reason.length).toBeGreaterThan(10);
    if (matched !== undefined) expect(result.matchedEntry).toBe(matched);
    if (add !== undefined) expect(result.add).toBe(add);
    if (value !== undefined) expect(result.suggestedValue).toBe(value);
    if (verdict === 'refused' || verdict === 'unknown') {
      expect(result.add).toBe(bridgeHost(url));
      // Applying the suggestion must make the same check pass.
      const after = checkBridgeReachability({allowedUntrustedInternalConnections: result.suggestedValue, bridgeUrl: url, resolvedAddresses: ips});
      expect(after.verdict).toBe('allowed');
    }
    if (verdict === 'allowed') {
      expect(result.add).toBeUndefined();
    }
  });

  test('the refusal names the setting and the exact value', () => {
    const r = checkBridgeReachability({allowedUntrustedInternalConnections: 'localhost', bridgeUrl: svc, resolvedAddresses: ['10.96.0.15']});
    expect(r.reason).toContain('AllowedUntrustedInternalConnections');
    expect(r.reason).toContain(`"localhost ${svcHost}"`);
    expect(r.addresses).toEqual([{address: '10.96.0.15', reserved: true, allowedBy: undefined}]);
  });

  test('null setting is treated as empty', () => {
    expect(checkBridgeReachability({allowedUntrustedInternalConnections: null, bridgeUrl: 'http://10.0.0.1/'}).suggestedValue).toBe('10.0.0.1');
  });
});
