// Host names reach the engine from network traffic (SNI, :authority, cluster names) and are therefore
// attacker-controlled. Everything that ends up in YAML, Markdown or HTML goes through checkHost first;
// anything that fails is only ever shown through printable().

import {isIpAddress} from './address';
import type {RejectedHost} from './types';

export type HostCheck = {ok: true; host: string} | {ok: false; rejected: RejectedHost};

/** RFC 1123 limits (and Kubernetes' / Istio's DNS-1123 checks). */
export const MAX_HOST_LENGTH = 253;
export const MAX_LABEL_LENGTH = 63;

/** Longest printable() result by default: long enough to recognise a name, short enough for one log line. */
export const PRINTABLE_MAX = 120;

const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

// Characters that carry meaning in YAML, Markdown or HTML; naming them in the reason tells the
// administrator that the "host" was most likely crafted, not mistyped.
const SYNTAX_CHARS = new Set([...'`*_[](){}<>#!|~&"\'\\$%@,;=+?^/:']);

/**
 * Validates and normalises a host name for use in a ServiceEntry.
 *
 * Accepted: RFC 1123 names (labels of a-z, 0-9 and inner '-', 1–63 characters, 253 in total) with an
 * optional single leading "*." wildcard. Input is lowercased and one trailing dot (the DNS root) is removed.
 * A single-label name ("minio") is syntactically valid and accepted here; whether it is an in-cluster name is
 * a policy question answered by the suggestion model, not by this syntax check.
 * Rejected: IP literals, an all-numeric last label (Istio refuses it too, and it is what IPs look like), and
 * anything containing characters outside the host-name alphabet.
 */
export function checkHost(raw: unknown): HostCheck {
  if (typeof raw !== 'string') {
    return reject(String(raw), 'is not text');
  }
  const reason = hostProblem(raw);
  if (reason !== null) {
    return reject(raw, reason);
  }
  return {ok: true, host: normaliseHost(raw)};
}

export const TRAFFIC_WILDCARD_REASON =
  'has a "*": no client sends a wildcard in its server name or Host header, so it is not turned into a wildcard ServiceEntry (wildcards come only from the Mattermost configuration or your values)';

/**
 * checkHost for a name read from traffic (SNI, :authority, a cluster name, Mattermost's log): any "*" is
 * rejected, so a crafted name can never widen what the suggestion allows.
 */
export function checkTrafficHost(raw: unknown): HostCheck {
  if (typeof raw === 'string' && raw.includes('*')) return reject(raw, TRAFFIC_WILDCARD_REASON);
  return checkHost(raw);
}

function reject(raw: string, reason: string): HostCheck {
  return {ok: false, rejected: {printable: printable(raw), reason}};
}

function normaliseHost(raw: string): string {
  const lower = raw.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function hostProblem(raw: string): string | null {
  if (raw.length === 0) {
    return 'is empty';
  }
  // Checked on the raw text so that the reason names the real problem even in very long input.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(raw)) {
    return 'contains control characters';
  }
  if (/[\p{Cf}\p{Zl}\p{Zp}]/u.test(raw)) {
    return 'contains invisible formatting characters';
  }
  if (/\s/u.test(raw)) {
    return 'contains spaces';
  }
  if (isIpAddress(raw)) {
    return 'is an IP address, not a host name: a ServiceEntry needs the name the application connects to';
  }
  if (/[^\u0000-\u007f]/.test(raw)) {
    return 'contains non-ASCII characters; an internationalised name must be written in its xn-- (punycode) form';
  }
  const host = normaliseHost(raw);
  if (host.length > MAX_HOST_LENGTH) {
    return `is ${host.length} characters long; a host name has at most ${MAX_HOST_LENGTH}`;
  }
  if (host === '*') {
    return 'is a bare "*", which would match every host';
  }
  const bad = [...new Set([...host].filter((c) => !/[a-z0-9.*-]/.test(c)))];
  if (bad.length > 0) {
    if (bad.includes(':')) {
      return 'contains ":" (a port or an IPv6 address belongs elsewhere, not in the host name)';
    }
    if (bad.includes('_')) {
      return 'contains "_", which host names (and Istio ServiceEntry hosts) do not allow';
    }
    const shown = bad
      .slice(0, 5)
      .map((c) => escapeChar(c))
      .join(' ');
    const syntax = bad.some((c) => SYNTAX_CHARS.has(c)) ? ' (YAML, Markdown or HTML syntax)' : '';
    return `contains characters not allowed in a host name${syntax}: ${shown}`;
  }
  const body = host.startsWith('*.') ? host.slice(2) : host;
  if (body.includes('*')) {
    return 'has a "*" that is not a whole leading "*." label; only a leading wildcard is allowed';
  }
  if (body.length === 0) {
    return 'has no labels after the wildcard';
  }
  const labels = body.split('.');
  for (const label of labels) {
    if (label.length === 0) {
      return 'has an empty label (two dots in a row, or a leading dot)';
    }
    if (label.length > MAX_LABEL_LENGTH) {
      return `has a label of ${label.length} characters; a label has at most ${MAX_LABEL_LENGTH}`;
    }
    if (!LABEL.test(label)) {
      return `has a label that starts or ends with "-": ${printable(label, 70)}`;
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) {
    return 'ends in an all-numeric label, which is how IP addresses look, not host names';
  }
  return null;
}

/** Whether an allowed host pattern (exact or "*.domain") covers a host. Both must be normalised. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) {
    // Envoy's SNI and :authority wildcards match subdomains at any depth, never the apex itself.
    const suffix = pattern.slice(1);
    if (host.startsWith('*.')) {
      // A wildcard is covered by the same wildcard or one of a parent domain.
      return host === pattern || host.slice(1).endsWith(suffix);
    }
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}

// Printable ASCII passes: log samples stay readable (quotes, brackets and pipes are the format itself).
// Control characters, bidi overrides, zero-width and every other non-ASCII character are escaped, since they
// can rewrite a terminal or hide text. Markdown and HTML are the renderers' job (Markdown escaping for posts,
// React for the webapp), not this function's. The backslash stays, so printable() is idempotent.
const PRINTABLE_SAFE = /[\x20-\x7e]/;
const ALL_PRINTABLE = /^[\x20-\x7e]*$/;

/**
 * Makes any string safe to show in a log line or a terminal: characters outside printable ASCII become \xNN
 * (or \u{N} above U+00FF), and the result is at most `max` characters, "..." marking a cut, never splitting
 * an escape. printable(printable(s)) === printable(s).
 */
export function printable(s: string, max: number = PRINTABLE_MAX): string {
  const limit = Math.max(max, 4);
  // Nearly every log line is plain ASCII and short enough: one test instead of a pass per character.
  if (typeof s === 'string' && s.length <= limit && ALL_PRINTABLE.test(s)) return s;
  const pieces: string[] = [];
  let length = 0;
  for (const ch of String(s)) {
    const piece = PRINTABLE_SAFE.test(ch) ? ch : escapeChar(ch);
    pieces.push(piece);
    length += piece.length;
  }
  if (length <= limit) {
    return pieces.join('');
  }
  let out = '';
  for (const piece of pieces) {
    if (out.length + piece.length > limit - 3) {
      break;
    }
    out += piece;
  }
  return `${out}...`;
}

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code <= 0xff) {
    return `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return `\\u{${code.toString(16)}}`;
}
