// Addresses as Envoy prints them ("1.2.3.4:443", "[2600::1]:443", "envoy://internal/…") and the address
// ranges that decide whether a destination is outside the cluster.
import {isIP} from 'node:net';

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export interface HostPort {
  ip: string;
  port: number | null;
}

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
  // Nearly every address in a log is IPv4; the regex is much cheaper than isIP on the hot path.
  if (!IPV4.test(ip) && isIP(ip) === 0) return null;
  const n = port === undefined ? null : Number(port);
  return {ip: ip.toLowerCase(), port: n !== null && Number.isInteger(n) && n > 0 && n < 65536 ? n : null};
}

function v4(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    const b = Number(p);
    if (!Number.isInteger(b) || b < 0 || b > 255) return null;
    n = n * 256 + b;
  }
  return n;
}

function inV4(ip: number, base: string, bits: number): boolean {
  const b = v4(base)!;
  const size = 2 ** (32 - bits);
  return ip >= b && ip < b + size;
}

export type AddressScope = 'loopback' | 'link-local' | 'private' | 'istio-vip' | 'public';

/**
 * Where an address lives. "private" covers the pod and Service ranges of any cluster (RFC 1918, CGNAT,
 * IPv6 ULA): a block there is an in-cluster Service hidden by Sidecar scoping, not an external host.
 */
export function addressScope(ip: string): AddressScope {
  const n = v4(ip);
  if (n !== null) {
    if (inV4(n, '127.0.0.0', 8)) return 'loopback';
    if (inV4(n, '169.254.0.0', 16)) return 'link-local';
    if (inV4(n, '240.240.0.0', 16)) return 'istio-vip';
    if (inV4(n, '10.0.0.0', 8) || inV4(n, '172.16.0.0', 12) || inV4(n, '192.168.0.0', 16) || inV4(n, '100.64.0.0', 10)) {
      return 'private';
    }
    return 'public';
  }
  const lower = ip.toLowerCase();
  if (lower === '::1') return 'loopback';
  if (lower === 'fd00:ec2::254') return 'link-local'; // EC2's IPv6 instance-metadata address sits in ULA space
  if (/^fe[89ab]/.test(lower)) return 'link-local';
  if (/^f[cd]/.test(lower)) return 'private';
  return 'public';
}
