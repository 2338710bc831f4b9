/*
 * Will Mattermost call the bridge? Slash commands, outgoing webhooks and message buttons go out
 * through Mattermost's "untrusted" HTTP client, which refuses reserved addresses (private, loopback,
 * link-local, and more) unless ServiceSettings.AllowedUntrustedInternalConnections lets them
 * through. The bridge runs in the cluster at a private address, so this is the usual reason for
 * "/egress" failing with "Command with a trigger of 'egress' failed".
 *
 * Mirrors the server's dialer (server/public/shared/httpservice, httpservice.go and client.go):
 *  1. the list is split on whitespace and commas;
 *  2. an entry equal to the URL's host string, exactly as written in the URL (case-sensitive, no
 *     brackets for IPv6, no port), lets the connection through with no address check;
 *  3. otherwise each resolved address is allowed if it is not reserved and not an address of the
 *     Mattermost host itself, or if a CIDR entry contains it. A bare IP entry is not a CIDR: it only
 *     works through rule 2, when the URL is written with that IP.
 *  4. the connection is made if any resolved address is allowed.
 * Not visible from here: the addresses of Mattermost's own host (refused like reserved ones), and
 * an HTTP(S)_PROXY in Mattermost's environment (then the proxy's address is what gets checked).
 *
 * Pure and free of Node modules, so the webapp can use it too: name resolution is the caller's
 * (`bridgeHost()` gives the name to resolve).
 */

const V4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const V4 = new RegExp(`^${V4_OCTET}(?:\\.${V4_OCTET}){3}$`);

export const SETTING_PATH = 'ServiceSettings.AllowedUntrustedInternalConnections';
export const SETTING_ENV = 'MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS';

/** The server's reserved ranges, in its order (httpservice/client.go `reservedIPRanges`). */
export const RESERVED_RANGES: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '0.0.0.0/8',
  '169.254.0.0/16',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '192.88.99.0/24',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '255.255.255.255/32',
  '100.64.0.0/10',
  '::/128',
  '::1/128',
  '100::/64',
  '2001::/23',
  '2001:2::/48',
  '2001:db8::/32',
  '2001::/32',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
  '2002::/16',
  '64:ff9b::/96',
  '2001:10::/28',
  '2001:20::/28',
];

export type ReachabilityVerdict =
  /** Mattermost will connect (as far as this setting goes). */
  | 'allowed'
  /** Mattermost will refuse: "address forbidden, you may need to set AllowedUntrustedInternalConnections". */
  | 'refused'
  /** The URL's host is a name and no resolved addresses were given. */
  | 'unknown'
  /** The URL cannot be used as an integration URL at all. */
  | 'invalid-url';

export interface ReachabilityInput {
  /** `ServiceSettings.AllowedUntrustedInternalConnections` as read from the config (may be unset). */
  allowedUntrustedInternalConnections: string | null | undefined;
  /** The URL Mattermost will call, e.g. `http://egress-advisor.mattermost.svc.cluster.local:8080/…`. */
  bridgeUrl: string;
  /** Addresses the URL's host resolves to, as seen from Mattermost's pod. Not needed for IP URLs. */
  resolvedAddresses?: readonly string[];
}

export interface ReachabilityResult {
  verdict: ReachabilityVerdict;
  /** The host string Mattermost compares with the list (empty for an invalid URL). */
  host: string;
  /** The addresses that were checked, each with whether Mattermost accepts it. */
  addresses: Array<{address: string; reserved: boolean; allowedBy?: string}>;
  /** The list entry that allows the connection, when one does. */
  matchedEntry?: string;
  /** One sentence for a log line, `/egress status` or the System Console. */
  reason: string;
  /** When refused or unknown: the entry to add (the host string exactly as in the URL). */
  add?: string;
  /** When refused or unknown: the whole setting value with the entry added to what is there. */
  suggestedValue?: string;
}

/** Splits the setting the way the server does: on whitespace and commas. */
export function parseAllowList(value: string | null | undefined): string[] {
  return (value ?? '').split(/[\s,]+/u).filter(Boolean);
}

/**
 * The host string of a URL as Mattermost's Go HTTP client sees it: as written (no lowercasing, no
 * IDNA for ASCII names), without brackets and port. Unlike WHATWG `URL.hostname`, which would
 * lowercase it and keep the brackets. Returns undefined for anything but an http(s) URL with a host.
 */
export function bridgeHost(url: string): string | undefined {
  const m = /^(https?):\/\/(?:[^@/?#]*@)?(\[[^\]/?#]*\]|[^:/?#]*)(?::(\d*))?(?:[/?#]|$)/i.exec(url.trim());
  if (!m || !m[2]) return undefined;
  return m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
}

export function checkBridgeReachability(input: ReachabilityInput): ReachabilityResult {
  const current = input.allowedUntrustedInternalConnections ?? '';
  const entries = parseAllowList(current);
  const host = bridgeHost(input.bridgeUrl);
  if (host === undefined) {
    return {
      verdict: 'invalid-url',
      host: '',
      addresses: [],
      reason: `the bridge URL ${JSON.stringify(input.bridgeUrl)} is not an http(s) URL with a host; Mattermost only calls http(s) URLs`,
    };
  }

  if (entries.includes(host)) {
    return {
      verdict: 'allowed',
      host,
      addresses: [],
      matchedEntry: host,
      reason: `${SETTING_PATH} lists the bridge host "${host}", so Mattermost connects without checking its address`,
    };
  }

  const fix = {add: host, suggestedValue: current.trim() ? `${current.trim()} ${host}` : host};
  const literal = ipVersion(host) ? [host] : undefined;
  const candidates = literal ?? input.resolvedAddresses ?? [];
  if (candidates.length === 0) {
    return {
      verdict: 'unknown',
      host,
      addresses: [],
      reason:
        `the bridge host "${host}" is a name whose addresses are not known here; in-cluster service names resolve to ` +
        `private addresses, which Mattermost refuses unless ${SETTING_PATH} lists "${host}"`,
      ...fix,
    };
  }

  const cidrs = entries.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  const addresses = candidates.map((address) => {
    const ip = parseIp(address);
    if (!ip) return {address, reserved: true, allowedBy: undefined as string | undefined};
    const reserved = isReservedIp(ip);
    const allowedBy = reserved ? cidrs.find((c) => cidrContains(c, ip))?.text : undefined;
    return {address, reserved, allowedBy};
  });

  const allowed = addresses.find((a) => !a.reserved || a.allowedBy);
  if (allowed) {
    if (allowed.allowedBy) {
      return {
        verdict: 'allowed',
        host,
        addresses,
        matchedEntry: allowed.allowedBy,
        reason: `${SETTING_PATH} entry "${allowed.allowedBy}" contains the bridge address ${allowed.address}`,
      };
    }
    return {
      verdict: 'allowed',
      host,
      addresses,
      reason: `the bridge address ${allowed.address} is not in a reserved range (Mattermost still refuses it if it is an address of the Mattermost host itself)`,
    };
  }

  const listed = addresses.map((a) => a.address).join(', ');
  return {
    verdict: 'refused',
    host,
    addresses,
    reason:
      `Mattermost refuses to call the bridge: "${host}" resolves to reserved address${addresses.length > 1 ? 'es' : ''} ${listed} ` +
      `and ${SETTING_PATH} ${entries.length ? `(${JSON.stringify(current.trim())}) lists neither the host nor a CIDR containing ${addresses.length > 1 ? 'them' : 'it'}` : 'is empty'}; ` +
      `set it to ${JSON.stringify(fix.suggestedValue)} (System Console > Environment > Developer, or ${SETTING_ENV})`,
    ...fix,
  };
}

/** Whether Mattermost's untrusted client refuses this address unless it is allowed explicitly. */
export function isReservedAddress(address: string): boolean {
  const ip = parseIp(address);
  return ip ? isReservedIp(ip) : false;
}

/** An address as 4 or 16 bytes, IPv4-mapped IPv6 folded to IPv4 as the server does. */
interface Ip {
  bytes: number[];
}

interface Cidr {
  text: string;
  bytes: number[];
  prefix: number;
}

function isReservedIp(ip: Ip): boolean {
  return RESERVED.some((c) => cidrContains(c, ip));
}

const RESERVED: Cidr[] = RESERVED_RANGES.map((r) => {
  const c = parseCidr(r);
  if (!c) throw new Error(`bad reserved range ${r}`);
  return c;
});

function cidrContains(c: Cidr, ip: Ip): boolean {
  if (c.bytes.length !== ip.bytes.length) return false;
  let bits = c.prefix;
  for (let i = 0; i < c.bytes.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((c.bytes[i] & mask) !== (ip.bytes[i] & mask)) return false;
  }
  return true;
}

function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const addr = text.slice(0, slash);
  const version = ipVersion(addr);
  if (version === 0) return undefined;
  const raw = version === 4 ? v4Bytes(addr) : v6Bytes(addr);
  const prefix = Number(prefixText);
  if (prefix > raw.length * 8) return undefined;
  // Go's ParseCIDR("::ffff:10.0.0.0/104") yields an IPv4 network; the same folding applies here.
  if (raw.length === 16 && isV4Mapped(raw) && prefix >= 96) return {text, bytes: raw.slice(12), prefix: prefix - 96};
  return {text, bytes: raw, prefix};
}

function parseIp(address: string): Ip | undefined {
  const a = address.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const version = ipVersion(a);
  if (version === 4) return {bytes: v4Bytes(a)};
  if (version === 6) {
    const b = v6Bytes(a);
    return isV4Mapped(b) ? {bytes: b.slice(12)} : {bytes: b};
  }
  return undefined;
}

/** 4, 6 or 0 like node:net isIP, with Go's strictness (no leading zeros in IPv4 octets). */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (V4.test(s)) return 4;
  if (!s.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(s)) return 0;
  let text = s;
  let extra = 0;
  const last = text.lastIndexOf(':');
  if (text.slice(last + 1).includes('.')) {
    if (!V4.test(text.slice(last + 1))) return 0;
    text = `${text.slice(0, last + 1)}0`;
    extra = 1;
  }
  const halves = text.split('::');
  if (halves.length > 2) return 0;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  if (groups.flat().some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g))) return 0;
  const count = groups.flat().length + extra;
  if (halves.length === 1) return count === 8 ? 6 : 0;
  return count <= 7 ? 6 : 0;
}

function isV4Mapped(b: number[]): boolean {
  return b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

function v4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}

function v6Bytes(a: string): number[] {
  let text = a;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = v4Bytes(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const r = groups(rest);
  const words = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const bytes = words.flatMap((w) => [(w >> 8) & 0xff, w & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}
