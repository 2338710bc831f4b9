// What the administrator's values already allow, in a form the model can look up.
import {cidrContains, isIpAddress, unbracket} from '../address';
import {hostMatches} from '../hostname';

export interface AllowedHost {
  /** Normalised host name or "*.domain" pattern. */
  host: string;
  port: number;
  /** As written in the values (upper-cased), or null when the source gave none. */
  protocol: string | null;
  /** The entry's `addresses` (IPs or CIDRs); an IP-only destination is allowed through these. */
  addresses: string[];
  /** Where it is allowed, e.g. "routes.outbound.mattermost-external (package default)". */
  source: string;
}

/** The first allowance (in values order) that covers host on port (any port when null), or null. */
export function findAllowance(allowed: readonly AllowedHost[], host: string, port: number | null): AllowedHost | null {
  return allowed.find((a) => (port === null || a.port === port) && hostMatches(a.host, host)) ?? null;
}

/** The first allowance whose addresses contain ip on port (any port when null), or null. */
export function findAddressAllowance(allowed: readonly AllowedHost[], ip: string, port: number | null): AllowedHost | null {
  return allowed.find((a) => (port === null || a.port === port) && a.addresses.some((cidr) => cidrContains(cidr, ip))) ?? null;
}

/**
 * The first allowance that lets a configured or seen destination out: by name, or for an IP by the entry's
 * addresses. With port null (a configuration that implies none) any port counts.
 */
export function coveringAllowance(allowed: readonly AllowedHost[], hostOrIp: string, port: number | null): AllowedHost | null {
  return isIpAddress(hostOrIp) ? findAddressAllowance(allowed, unbracket(hostOrIp), port) : findAllowance(allowed, hostOrIp, port);
}
