// Where a URL or a "host:port" setting from a Mattermost configuration or a Mattermost log line points.
// Both are text other people control (any team admin can set a webhook URL; error strings echo whatever
// was dialled), so names go through checkHost like every host name the engine emits.

import {normalizeIp} from './address';
import {checkHost} from './hostname';

/** A concrete host name (no wildcard), lower-cased, or null when checkHost rejects it. */
export function hostName(raw: string): string | null {
  const c = checkHost(raw.trim());
  return c.ok && !c.host.includes('*') ? c.host : null;
}

export interface UrlTarget {
  scheme: string;
  /** Exactly one of host and ip is set. */
  host: string | null;
  ip: string | null;
  /** The explicit port, else the scheme's default, else null. */
  port: number | null;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  ldap: 389,
  ldaps: 636,
  postgres: 5432,
  postgresql: 5432,
  mysql: 3306,
  redis: 6379,
  rediss: 6379,
  smtp: 25,
  smtps: 465,
};

/** Where a URL points; null when it does not parse or its host is neither a clean name nor an IP. */
export function urlTarget(raw: string): UrlTarget | null {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return null;
  }
  const scheme = u.protocol.replace(/:$/, '').toLowerCase();
  const port = u.port !== '' ? Number(u.port) : (DEFAULT_PORTS[scheme] ?? null);
  const ip = normalizeIp(u.hostname);
  if (ip !== null) return {scheme, host: null, ip, port};
  // WHATWG URL keeps the host of non-special schemes (postgres://) as written, so it is validated here too.
  const host = hostName(decodeURIComponentSafe(u.hostname));
  return host === null ? null : {scheme, host, ip: null, port};
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** "host", "host:port", "[v6]:port" or a bare IP, as Go settings such as SMTPServer or RedisAddress hold them. */
export function splitHostPort(raw: string): {host: string; port: number | null} | null {
  const s = raw.trim();
  if (s === '') return null;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return null;
    const rest = s.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    return {host: s.slice(1, end), port: rest === '' ? null : toPort(rest.slice(1))};
  }
  const first = s.indexOf(':');
  if (first >= 0 && first === s.lastIndexOf(':')) {
    const portText = s.slice(first + 1);
    if (!/^\d{1,5}$/.test(portText)) return null;
    return {host: s.slice(0, first), port: toPort(portText)};
  }
  return {host: s, port: null};
}

/** A TCP port from a number or a numeric string ("587"), or null. */
export function toPort(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d{1,5}\s*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : null;
}
