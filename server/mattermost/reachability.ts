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
 * Pure: name resolution is the caller's (`bridgeHost()` gives the name to resolve). Addresses and
 * ranges are read by the engine's address module, as everywhere else.
 */
import {isIpAddress, RangeSet} from '../engine/address';

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
  const literal = isIpAddress(host) ? [host] : undefined;
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

  // A bare IP entry is not a CIDR: it only matches through the host string above.
  const cidrs = new RangeSet(entries.filter((e) => e.includes('/')).map((e) => [e, e] as const));
  const addresses = candidates.map((address) => {
    if (!isIpAddress(address.trim())) return {address, reserved: true, allowedBy: undefined as string | undefined};
    const reserved = isReservedAddress(address);
    const allowedBy = reserved ? cidrs.find(address.trim())?.value : undefined;
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
  return RESERVED.find(address.trim()) !== undefined;
}

const RESERVED = new RangeSet(RESERVED_RANGES.map((r) => [r, r] as const));
