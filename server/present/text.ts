// Phrases shared by alerts and command replies, so a destination reads the same everywhere. Every
// function returns Markdown that is safe to embed: log-derived parts go through markdown.ts.
import type {FeatureRef, Finding, Plan, SuggestionFormat, Verdict} from '../../common/types';
import {isIpAddress} from '../engine/address';
import {escapeMarkdown, inlineCode, plainText, proseWithCode} from './markdown';
import {formatUtc} from '../../common/time';

/** Mattermost refuses longer messages (model.PostMessageMaxRunesV2). */
export const MAX_POST_RUNES = 16383;

/** Long enough for any valid host name or pod name; longer log values are cut. */
const NAME_CHARS = 255;

export const VERDICT_WORD: Record<Verdict, string> = {
  blocked: 'blocked',
  'external-failed': 'failing',
  passthrough: 'passthrough',
  'external-ok': 'reached',
  internal: 'internal',
  'not-access-log': 'not an access-log line',
};

/** What each verdict means for the administrator, in a few words (Markdown). */
export const VERDICT_MEANING: Record<Verdict, string> = {
  blocked: 'Istio `REGISTRY_ONLY` drops it',
  'external-failed': 'registered, but the connection fails (NetworkPolicy or firewall)',
  passthrough: 'allowed today, blocked once `REGISTRY_ONLY` is on',
  'external-ok': 'registered and reached',
  internal: 'in-mesh traffic',
  'not-access-log': 'not an access-log line',
};

/** Where the YAML of each format goes, as Markdown. */
export const FORMAT_PLACE: Record<SuggestionFormat, string> = {
  bigbang: 'Add to your Big Bang values (`addons.mattermost.values.routes.outbound`)',
  'bigbang-legacy': 'Add to your Big Bang values (`addons.mattermost.values.istio.hardened.customServiceEntries`)',
  package: "Add to the Mattermost chart's values (`routes.outbound`)",
  'package-legacy': "Add to the Mattermost chart's values (`istio.hardened.customServiceEntries`)",
  serviceentry: 'Apply with `kubectl apply -f -` in the Mattermost namespace',
};

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** "2026-11-28 08:01:02 UTC"; a time that does not parse is shown escaped, as logged. */
export function utcTime(iso: string | null): string {
  if (iso === null || iso.trim() === '') return 'unknown';
  return formatUtc(iso) ?? escapeMarkdown(iso, {maxLength: 40});
}

/** "4 min ago": how fresh a source is matters more than its exact time. */
export function age(iso: string | null, now: Date): string {
  if (iso === null) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const s = Math.round((now.getTime() - t) / 1000);
  if (s < 0) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${plural(Math.round(s / 86400), 'day')} ago`;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') && isIpAddress(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A name the log carried but that is no host name: the address leads, the name is only quoted. */
function rejectedNote(f: Finding): string {
  return f.rejectedHost ? ` (the log names it ${inlineCode(f.rejectedHost.printable, NAME_CHARS)})` : '';
}

/** The destination as one code span, e.g. `s3.amazonaws.com:443` or `203.0.113.9:443`. */
export function destinationCode(f: Finding): string {
  const d = f.destination;
  if (d.host !== null) return inlineCode(hostPort(d.host, d.port), NAME_CHARS + 8);
  if (d.ip !== null) return inlineCode(hostPort(d.ip, d.port), NAME_CHARS + 8) + rejectedNote(f);
  return inlineCode(f.key, NAME_CHARS + 8) + rejectedNote(f);
}

/** The host (or the address when no host is named) as a code span, without the port. */
export function nameCode(f: Finding): string {
  const d = f.destination;
  return inlineCode(d.host ?? d.ip ?? f.key, NAME_CHARS) + (d.host === null ? rejectedNote(f) : '');
}

/** The name a button or a notification uses, without Markdown. */
export function destinationPlain(f: Finding, max: number): string {
  const d = f.destination;
  const name = d.host ?? d.ip;
  return plainText(name === null ? f.key : hostPort(name, d.port), max);
}

/** The plain target for a command an administrator may copy, e.g. "/egress show s3.amazonaws.com". */
export function targetText(f: Finding): string {
  const d = f.destination;
  return d.host ?? d.ip ?? f.key;
}

export function featureText(features: readonly FeatureRef[], max: number): string {
  if (features.length === 0) return 'no configured feature uses it (a plugin, a webhook or a link preview may)';
  const shown = features.slice(0, max).map((f) => `${escapeMarkdown(f.name, {maxLength: 120})} (${inlineCode(f.configPath, 120)})`);
  const more = features.length > max ? `; and ${features.length - max} more` : '';
  return shown.join('; ') + more;
}

export function podText(pods: readonly string[], max: number): string {
  const shown = pods.slice(0, max).map((p) => inlineCode(p, NAME_CHARS));
  const more = pods.length > max ? ` and ${pods.length - max} more` : '';
  return shown.join(', ') + more;
}

/** "4 attempts, first …, last …", the times being those of the log lines. */
export function attemptsText(f: Finding): string {
  const n = plural(f.count, 'attempt');
  if (f.firstSeen === null && f.lastSeen === null) return `${n} (the lines carry no time)`;
  if (f.firstSeen === f.lastSeen || f.firstSeen === null || f.lastSeen === null) {
    return `${n}, at ${utcTime(f.lastSeen ?? f.firstSeen)}`;
  }
  return `${n}, first ${utcTime(f.firstSeen)}, last ${utcTime(f.lastSeen)}`;
}

const METHOD_WORDS: Record<string, string> = {
  'connection-test': "by Mattermost's own connection test: blocked on the integration's port while the test connected",
  'app-log': "from Mattermost's own log of the failed call",
  dns: 'by DNS: a configured host resolves to this address',
  port: 'by its port: the only integration Mattermost is configured to call on it',
};

/**
 * How the host was named, when the access-log line did not name it itself, as a list item's label
 * and text; null when there is nothing to add (the line named it, or the plan already explains a
 * well-known address).
 */
export function attributionText(f: Finding): {label: string; text: string} | null {
  const a = f.attribution;
  if (f.rejectedHost) return {label: 'Host', text: 'the name in the log is not a valid host name, so no ServiceEntry is suggested'};
  if (a.method === 'sni' || a.method === 'authority' || a.method === 'cluster' || a.method === 'well-known') return null;
  if (f.destination.host !== null) {
    const how = METHOD_WORDS[a.method] ?? escapeMarkdown(a.method, {maxLength: 20});
    const sure = a.confidence === 'certain' ? '' : ` (${escapeMarkdown(a.confidence, {maxLength: 20})})`;
    const ip = f.destination.ip !== null ? `${inlineCode(f.destination.ip, NAME_CHARS)}; ` : '';
    return {label: 'Address', text: `${ip}host named ${how}${sure}`};
  }
  if (a.candidates.length > 1) {
    const shown = a.candidates.slice(0, 4).map((c) => inlineCode(c, NAME_CHARS));
    const more = a.candidates.length > 4 ? ` and ${a.candidates.length - 4} more` : '';
    const why = a.method === 'port' ? `the integrations configured on port ${f.destination.port}` : 'a shared address';
    return {label: 'Host', text: `one of ${shown.join(', ')}${more} (${why})`};
  }
  // How to name it is part of the plan, which every view shows.
  return {label: 'Host', text: 'not named yet'};
}

/** The plan as the full text: what to do, with its commands and names as code spans. */
export function planText(plan: Plan | undefined, maxChars: number): string {
  return plan === undefined ? 'Not known yet.' : proseWithCode(plan.text, maxChars);
}

/** The plan in a few words, for a line per destination; the full text is one `/egress show` away. */
export function planShort(f: Finding, plan: Plan | undefined): string {
  switch (plan?.action) {
    case 'add':
      return `add ${plan.entries.map((n) => inlineCode(n, 80)).join(', ')}`;
    case 'allowed':
      return `already allowed by ${escapeMarkdown(plan.allowedBy ?? 'an existing entry', {maxLength: 120})}`;
    case 'other-fix':
      return f.verdict === 'external-failed' ? 'registered, check the NetworkPolicy or firewall' : 'no ServiceEntry, see `/egress show`';
    case 'none':
      return 'nothing to do';
    default:
      return 'see `/egress show`';
  }
}
