// Which destination addresses a MESH_EXTERNAL ServiceEntry can fix, and which ones need other advice.
import {isIP} from 'node:net';

export type AddressKind =
  | 'public'
  | 'private' // RFC 1918 / IPv6 ULA: Pod, Service or corporate networks
  | 'shared' // 100.64/10 (RFC 6598): carrier-grade NAT, used as Pod CIDR by some clusters
  | 'loopback'
  | 'link-local'
  | 'instance-metadata' // the cloud metadata service (169.254.169.254, AWS fd00:ec2::254)
  | 'istio-vip' // Istio's auto-allocated ServiceEntry addresses (PILOT_IP_AUTOALLOCATE_IPV4_PREFIX)
  | 'unspecified'
  | 'invalid';

interface Range {
  cidr: string;
  kind: AddressKind;
}

// Most specific first: the first range that contains the address wins.
const RANGES: readonly Range[] = [
  {cidr: '169.254.169.254/32', kind: 'instance-metadata'},
  {cidr: 'fd00:ec2::254/128', kind: 'instance-metadata'},
  {cidr: '240.240.0.0/16', kind: 'istio-vip'},
  {cidr: '10.0.0.0/8', kind: 'private'},
  {cidr: '172.16.0.0/12', kind: 'private'},
  {cidr: '192.168.0.0/16', kind: 'private'},
  {cidr: '100.64.0.0/10', kind: 'shared'},
  {cidr: '127.0.0.0/8', kind: 'loopback'},
  {cidr: '169.254.0.0/16', kind: 'link-local'},
  {cidr: '0.0.0.0/8', kind: 'unspecified'},
  {cidr: '::1/128', kind: 'loopback'},
  {cidr: '::/128', kind: 'unspecified'},
  {cidr: 'fc00::/7', kind: 'private'},
  {cidr: 'fe80::/10', kind: 'link-local'},
];

export function classifyAddress(ip: string): AddressKind {
  const parsed = parseIp(ip);
  if (parsed === null) {
    return 'invalid';
  }
  for (const range of RANGES) {
    if (cidrContains(range.cidr, ip)) {
      return range.kind;
    }
  }
  return 'public';
}

/** Whether `cidr` (or a bare address, meaning a single host) contains `ip`. False when either is malformed. */
export function cidrContains(cidr: string, ip: string): boolean {
  const net = parseCidr(cidr);
  const addr = parseIp(ip);
  if (net === null || addr === null || net.bits !== addr.bits) {
    return false;
  }
  const shift = BigInt(net.bits - net.prefix);
  return net.value >> shift === addr.value >> shift;
}

interface ParsedIp {
  value: bigint;
  bits: 32 | 128;
}

export function parseCidr(cidr: string): (ParsedIp & {prefix: number}) | null {
  const slash = cidr.indexOf('/');
  const addr = parseIp(slash < 0 ? cidr : cidr.slice(0, slash));
  if (addr === null) {
    return null;
  }
  if (slash < 0) {
    return {...addr, prefix: addr.bits};
  }
  const prefixText = cidr.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) {
    return null;
  }
  const prefix = Number(prefixText);
  return prefix > addr.bits ? null : {...addr, prefix};
}

/** Parses an IPv4 or IPv6 literal; IPv4-mapped IPv6 (::ffff:a.b.c.d) is read as the IPv4 address. */
export function parseIp(ip: string): ParsedIp | null {
  const unbracketed = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  // A zone ("%eth0") names an interface, not part of the address.
  const text = unbracketed.includes(':') ? unbracketed.replace(/%[^%]*$/, '') : unbracketed;
  const version = isIP(text);
  if (version === 4) {
    return {value: text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n), bits: 32};
  }
  if (version !== 6) {
    return null;
  }
  const lower = text.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped !== null) {
    return parseIp(mapped[1]);
  }
  return {value: ipv6Value(lower), bits: 128};
}

function ipv6Value(text: string): bigint {
  let groups: string[];
  const [head, tail] = text.split('::') as [string, string | undefined];
  const expandV4 = (parts: string[]): string[] =>
    parts.flatMap((p) => {
      if (!p.includes('.')) {
        return [p];
      }
      const n = p.split('.').map(Number);
      return [((n[0] << 8) | n[1]).toString(16), ((n[2] << 8) | n[3]).toString(16)];
    });
  const headParts = expandV4(head === '' ? [] : head.split(':'));
  if (tail === undefined) {
    groups = headParts;
  } else {
    const tailParts = expandV4(tail === '' ? [] : tail.split(':'));
    groups = [...headParts, ...Array<string>(8 - headParts.length - tailParts.length).fill('0'), ...tailParts];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}
