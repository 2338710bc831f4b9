// IP addresses and ranges: the one place that reads them, for the engine, the suggestions and the
// reachability checks. node:net does the parsing and the range matching (isIP, BlockList), so IPv4-mapped
// IPv6 ("::ffff:10.0.0.1"), zones and the many IPv6 spellings are read the same way everywhere.
import {BlockList, isIP} from 'node:net';

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** "[v6]" without its brackets; anything else unchanged. */
export function unbracket(s: string): string {
  return s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
}

/**
 * The canonical text of an IP literal, or null when `raw` is not one: brackets and an interface zone
 * dropped, IPv4-mapped IPv6 read as the IPv4 address, IPv6 compressed and lowercased.
 */
export function normalizeIp(raw: string): string | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 80) return null;
  let s = unbracket(raw.trim());
  if (IPV4.test(s)) return s;
  // A zone names a local interface; anything else after "%" is not part of an address.
  const zone = s.indexOf('%');
  if (zone > 0) {
    if (!s.includes(':') || !/^[A-Za-z0-9_.-]{1,32}$/.test(s.slice(zone + 1))) return null;
    s = s.slice(0, zone);
  }
  const mapped = MAPPED_V4.exec(s);
  if (mapped !== null) return isIP(mapped[1]) === 4 ? mapped[1] : null;
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return null;
  const canonical = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (hex === null) return canonical;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for IPv4 and IPv6 literals, including "[v6]" brackets and an interface "%zone" suffix. */
export function isIpAddress(s: string): boolean {
  return normalizeIp(s) !== null;
}

function family(ip: string): 'ipv4' | 'ipv6' {
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

export interface Cidr {
  /** As written. */
  text: string;
  /** Normalised network address (IPv4-mapped networks folded to IPv4). */
  network: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "a.b.c.d/n", "v6::/n", or a bare address (a single host); null when malformed. */
export function parseCidr(text: string): Cidr | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const raw = unbracket(addrText.trim());
  const ip = normalizeIp(raw);
  if (ip === null) return null;
  let prefix: number;
  if (slash < 0) prefix = ip.includes(':') ? 128 : 32;
  else {
    const prefixText = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
  }
  // "::ffff:10.0.0.0/104" is the IPv4 network 10.0.0.0/8, as Go's ParseCIDR reads it.
  const mapped = !ip.includes(':') && raw.includes(':');
  if (mapped) {
    if (slash >= 0 && prefix < 96) return null;
    if (slash >= 0) prefix -= 96;
  }
  const fam = family(ip);
  if (prefix > (fam === 'ipv4' ? 32 : 128)) return null;
  return {text, network: ip, prefix, family: fam};
}

/** A set of ranges, asked which one (if any) contains an address. */
export class RangeSet<T> {
  private readonly ranges: {cidr: Cidr; value: T; list: BlockList}[] = [];
  /** Every range at once: most addresses are in none, and one check says so. */
  private readonly any = new BlockList();

  /** Ranges are tried in the order added: add the most specific first. Malformed ones are skipped. */
  constructor(entries: Iterable<readonly [string, T]> = []) {
    for (const [text, value] of entries) this.add(text, value);
  }

  add(text: string, value: T): boolean {
    const cidr = parseCidr(text);
    if (cidr === null) return false;
    const list = new BlockList();
    list.addSubnet(cidr.network, cidr.prefix, cidr.family);
    this.any.addSubnet(cidr.network, cidr.prefix, cidr.family);
    this.ranges.push({cidr, value, list});
    return true;
  }

  /** The first range containing `ip` (any spelling normalizeIp reads), or undefined. */
  find(ip: string): {cidr: Cidr; value: T} | undefined {
    const addr = normalizeIp(ip);
    if (addr === null) return undefined;
    const fam = family(addr);
    if (!this.any.check(addr, fam)) return undefined;
    for (const r of this.ranges) {
      if (r.cidr.family === fam && r.list.check(addr, fam)) return r;
    }
    return undefined;
  }
}

/** Whether `cidr` (or a bare address, meaning a single host) contains `ip`. False when either is malformed. */
export function cidrContains(cidr: string, ip: string): boolean {
  return new RangeSet([[cidr, true]]).find(ip) !== undefined;
}

// ---- What an address is --------------------------------------------------------------------------------

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

// Most specific first: the first range that contains the address wins.
const KINDS = new RangeSet<AddressKind>([
  ['169.254.169.254/32', 'instance-metadata'],
  ['fd00:ec2::254/128', 'instance-metadata'],
  ['240.240.0.0/16', 'istio-vip'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'shared'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['0.0.0.0/8', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/128', 'unspecified'],
  ['fc00::/7', 'private'],
  ['fe80::/10', 'link-local'],
]);

// Blocked lines repeat a few addresses many times; remembering the answer keeps BlockList off the hot path.
const kindCache = new Map<string, AddressKind>();
const KIND_CACHE_MAX = 4096;

export function addressKind(ip: string): AddressKind {
  const cached = kindCache.get(ip);
  if (cached !== undefined) return cached;
  const kind = normalizeIp(ip) === null ? 'invalid' : (KINDS.find(ip)?.value ?? 'public');
  if (kindCache.size >= KIND_CACHE_MAX) kindCache.clear();
  kindCache.set(ip, kind);
  return kind;
}

export type AddressScope = 'loopback' | 'link-local' | 'private' | 'istio-vip' | 'public';

/**
 * Where an address lives, coarsely. "private" covers the pod and Service ranges of any cluster (RFC 1918,
 * CGNAT, IPv6 ULA) and the unspecified address: a block there is not an external host. Anything that is not
 * an address is 'public' (the caller has a host name, not an address).
 */
export function addressScope(ip: string): AddressScope {
  switch (addressKind(ip)) {
    case 'loopback':
      return 'loopback';
    case 'link-local':
    case 'instance-metadata':
      return 'link-local';
    case 'private':
    case 'shared':
    case 'unspecified':
      return 'private';
    case 'istio-vip':
      return 'istio-vip';
    default:
      return 'public';
  }
}

// ---- Addresses as Envoy prints them --------------------------------------------------------------------

export interface HostPort {
  ip: string;
  port: number | null;
}

/** "1.2.3.4:443", "[2600::1]:443", a bare address; null for anything else ("envoy://internal/…", "-"). */
export function parseAddress(s: string | null): HostPort | null {
  if (s === null) return null;
  let ip: string;
  let port: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    ip = s.slice(1, end);
    port = s[end + 1] === ':' ? s.slice(end + 2) : undefined;
  } else {
    const colon = s.lastIndexOf(':');
    if (colon > 0 && s.indexOf(':') === colon) {
      ip = s.slice(0, colon);
      port = s.slice(colon + 1);
    } else {
      ip = s;
    }
  }
  const normal = normalizeIp(ip);
  if (normal === null) return null;
  const n = port === undefined ? null : Number(port);
  return {ip: normal, port: n !== null && Number.isInteger(n) && n > 0 && n < 65536 ? n : null};
}
