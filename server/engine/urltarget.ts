// Host names and addresses as a Mattermost configuration or a Mattermost log line gives them. Both are text
// other people control (any team admin can set a webhook URL; error strings echo whatever was dialled), so
// a name is accepted only in the plain RFC 1123 form that can go into YAML, Markdown or HTML unchanged.
import {isIP} from 'node:net';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The lower-cased name without a trailing dot, or null when it is not a plain RFC 1123 host name. */
export function normalizeHostName(raw: string): string | null {
  let h = raw.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0 || h.length > 253) return null;
  const labels = h.split('.');
  if (!labels.every((l) => LABEL.test(l))) return null;
  // An all-numeric last label is a mangled IPv4 address, never a name a resolver would answer for.
  if (/^\d+$/.test(labels[labels.length - 1])) return null;
  return h;
}

/**
 * An IP literal in the form Envoy prints it (IPv6 compressed and lower case, brackets and zone removed,
 * IPv4-mapped IPv6 as plain IPv4), or null.
 */
export function normalizeIp(raw: string): string | null {
  let s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone > 0) s = s.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(s);
  if (mapped) s = mapped[1];
  const family = isIP(s);
  if (family === 4) return s;
  if (family === 6) return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  return null;
}

export function isIpLiteral(s: string): boolean {
  return normalizeIp(s) !== null;
}

/** Text from a configuration or a log, safe to quote in a warning: control and non-ASCII characters escaped, cut short. */
export function printable(raw: string, max = 80): string {
  const cut = raw.length > max ? `${raw.slice(0, max)}…` : raw;
  return cut.replace(/[^\x20-\x7e…]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
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
  const host = normalizeHostName(decodeURIComponentSafe(u.hostname));
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
