/*
 * Replies to `/egress`, in Markdown that reads on a phone: short lines and lists, no tables
 * (Mattermost mobile renders wide tables poorly). Every string that came from traffic, from
 * Mattermost's configuration or from the person typing goes through markdown.ts.
 */
import {INTEGRATION_STATES, MAX_REASON_CHARS, type IntegrationState} from '../../common/api';
import type {ConnectionTestResponse, ConnectionTestResult, RehearsalReport, RehearsalResponse, RehearsalVerdict} from '../../common/connection-tests';
import type {Finding, Plan, SuggestionFormat, Verdict} from '../../common/types';
import {LIST_FILTERS, renderHelp, renderUsageError, type ListFilter} from './command';
import {codeBlock, escapeMarkdown, fitMarkdown, inlineCode, proseWithCode, runeLength} from './markdown';
import {
  age,
  attemptsText,
  attributionText,
  destinationCode,
  FORMAT_PLACE,
  featureText,
  MAX_POST_RUNES,
  nameCode,
  planText,
  plural,
  podText,
  targetText,
  utcTime,
  VERDICT_MEANING,
  VERDICT_WORD,
} from './text';

export {renderHelp, renderUsageError};

/** A finding as the store holds it; the store's StoredFinding fits as it is. */
export interface FindingView extends Finding {
  status?: 'open' | 'ignored' | 'resolved';
  ignored?: {by: {username: string}; reason: string; at: string} | null;
}

export const REFUSAL = 'Only system administrators can use /egress.';

/** To someone who pressed an alert's button: about the button, not about a command they did not type. */
export const BUTTON_REFUSAL = 'Only system administrators can use the buttons of Egress Advisor alerts.';

export function renderRefusal(): string {
  return REFUSAL;
}

// ---- status ----

export interface SourceStatus {
  /** E.g. "kubernetes mattermost/mattermost-0", "file /var/log/istio-proxy.log". */
  name: string;
  state: 'running' | 'starting' | 'stopped' | 'error';
  /** ISO-8601 time the bridge last read a line from it. */
  lastLineAt: string | null;
  lines?: number;
  error?: string | null;
}

export interface StatusInput {
  now: Date;
  version?: string;
  sources: readonly SourceStatus[];
  mattermost: {ok: boolean; detail: string; serverVersion?: string};
  /** From the verdicts seen: blocked lines mean REGISTRY_ONLY, passthrough lines mean ALLOW_ANY. */
  hardening: {state: 'registry-only' | 'allow-any' | 'unknown'; detail?: string};
  /** Whether the plugin inside Mattermost has called the bridge. */
  plugin?: {connected: boolean; reason: string};
  counts: {open: number; ignored: number; resolved: number; openByVerdict: Partial<Record<Verdict, number>>};
  /** Notifications not yet delivered. */
  outboxDepth?: number;
  /** The mesh as read from Kubernetes, when a kubernetes source runs. */
  mesh?: {mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | 'unknown'; source: string};
  /** Enabled configured integrations by state, as GET status counts them. */
  integrations?: Partial<Record<IntegrationState, number>>;
  /** Set on a replica that does not lead. */
  standby?: boolean;
  /** What the findings limit cost (server/bridge/status.ts overflowSentence), when it cost anything. */
  overflow?: string;
  /** Calls Mattermost refused itself (server/bridge/status.ts refusalsSentence), when there were any. */
  refusals?: string;
  /** The latest connection test of each integration that has one. */
  tests?: readonly ConnectionTestResult[];
}

const INTEGRATION_STATE_WORDS: Record<IntegrationState, string> = {
  blocked: 'blocked now',
  'will-be-blocked': 'will be blocked',
  unknown: 'not known',
  allowed: 'allowed',
  'in-cluster': 'in the cluster',
};

const HARDENING: Record<StatusInput['hardening']['state'], string> = {
  'registry-only': '`REGISTRY_ONLY`, unregistered hosts are blocked',
  'allow-any': '`ALLOW_ANY`, nothing is blocked yet; passthrough destinations are what hardening would block',
  unknown: 'not known yet (no outbound line seen)',
};

function sourceLine(s: SourceStatus, now: Date): string {
  const last = s.lastLineAt === null ? 'no line yet' : `last line ${age(s.lastLineAt, now)} (${utcTime(s.lastLineAt)})`;
  const lines = s.lines !== undefined ? `, ${plural(s.lines, 'line')}` : '';
  const err = s.error ? `: ${escapeMarkdown(s.error, {maxLength: 300})}` : '';
  return `- ${inlineCode(s.name, 200)} ${s.state}, ${last}${lines}${err}`;
}

export function renderStatus(s: StatusInput): string {
  const out: string[] = [`**Egress Advisor status**${s.version ? ` (${escapeMarkdown(s.version, {maxLength: 40})})` : ''}`, ''];
  const c = s.counts;
  const open = (['blocked', 'external-failed', 'passthrough'] as const)
    .map((v) => [v, c.openByVerdict[v] ?? 0] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${VERDICT_WORD[v]}`);
  out.push(`- Findings: ${c.open} open${open.length ? ` (${open.join(', ')})` : ''}, ${c.ignored} ignored, ${c.resolved} resolved`);
  out.push(`- Istio egress: ${HARDENING[s.hardening.state]}${s.hardening.detail ? `. ${escapeMarkdown(s.hardening.detail, {maxLength: 300})}` : ''}`);
  if (s.mesh)
    out.push(
      `- Mesh: outbound mode ${s.mesh.mode === 'unknown' ? 'not known' : inlineCode(s.mesh.mode)}, from ${escapeMarkdown(s.mesh.source, {maxLength: 200})}`,
    );
  if (s.integrations) {
    const i = s.integrations;
    // Every state the API counts, zeros included, so that the parts add up to the whole.
    const parts = INTEGRATION_STATES.map((state) => `${i[state] ?? 0} ${INTEGRATION_STATE_WORDS[state]}`);
    const toFix = (i['will-be-blocked'] ?? 0) + (i.blocked ?? 0) > 0 ? ' (their ServiceEntries: the System Console page)' : '';
    const unknown = (i.unknown ?? 0) > 0 ? '; not known: nothing (mesh or values file) tells yet what is allowed' : '';
    out.push(`- Configured integrations: ${parts.join(', ')}${toFix}${unknown}`);
  }
  if (s.overflow) out.push(`- Store full: ${escapeMarkdown(s.overflow, {maxLength: 400})}`);
  if (s.refusals) out.push(`- Refused by Mattermost: ${escapeMarkdown(s.refusals, {maxLength: 600})}`);
  if (s.standby) out.push('- This replica is on standby: another one reads the logs and posts the alerts.');
  const mmVersion = s.mattermost.serverVersion ? ` (server ${escapeMarkdown(s.mattermost.serverVersion, {maxLength: 40})})` : '';
  out.push(`- Mattermost: ${s.mattermost.ok ? 'connected' : 'not connected'}${mmVersion}: ${escapeMarkdown(s.mattermost.detail, {maxLength: 300})}`);
  if (s.plugin) out.push(`- Plugin: ${s.plugin.connected ? 'connected' : 'not connected yet'}: ${escapeMarkdown(s.plugin.reason, {maxLength: 300})}`);
  if (s.outboxDepth !== undefined && s.outboxDepth > 0) out.push(`- Notifications waiting: ${s.outboxDepth}`);
  if (s.tests && s.tests.length > 0) {
    out.push('', "**Mattermost's connection tests** (latest of each)");
    out.push(...s.tests.map((r) => `- ${testLine(r)}`));
  }
  out.push('', '**Log sources**');
  if (s.sources.length === 0) out.push('- none configured');
  const shown = s.sources.slice(0, 30);
  out.push(...shown.map((x) => sourceLine(x, s.now)));
  if (s.sources.length > shown.length) out.push(`- … and ${s.sources.length - shown.length} more`);
  return fit(out.join('\n'));
}

// ---- list ----

const LIST_TITLE: Record<ListFilter, string> = {
  open: 'Open destinations',
  blocked: 'Blocked destinations',
  failing: 'Failing destinations',
  passthrough: 'Passthrough destinations',
  ignored: 'Ignored destinations',
  all: 'All destinations',
};

const MAX_LIST_ITEMS = 50;

function listItem(f: FindingView): string {
  const feature =
    f.features.length === 0 ? '' : `, ${escapeMarkdown(f.features[0].name, {maxLength: 60})}${f.features.length > 1 ? ` +${f.features.length - 1}` : ''}`;
  const status = f.status && f.status !== 'open' ? ` (${f.status})` : '';
  return `- ${destinationCode(f)} ${VERDICT_WORD[f.verdict]}${status}: ${plural(f.count, 'attempt')}, last ${utcTime(f.lastSeen)}${feature}`;
}

export interface ListInput {
  filter: ListFilter;
  findings: readonly FindingView[];
  /** All that match, when `findings` is one page of them. */
  total?: number;
}

export function renderList(input: ListInput): string {
  const total = input.total ?? input.findings.length;
  if (total === 0) {
    const hint = input.filter === 'open' ? ' Nothing is blocked that the bridge has seen.' : '';
    return `**${LIST_TITLE[input.filter]}:** none.${hint} Other lists: ${LIST_FILTERS.map((f) => `\`${f}\``).join(', ')}.`;
  }
  const head = `**${LIST_TITLE[input.filter]}** (${total})`;
  const foot = 'Details: `/egress show <host>`. YAML: `/egress snippet all`.';
  const lines = [head];
  let used = runeLength(head) + runeLength(foot) + 100;
  let shown = 0;
  for (const f of input.findings) {
    const item = listItem(f);
    const n = runeLength(item) + 1;
    if (shown >= MAX_LIST_ITEMS || used + n > MAX_POST_RUNES) break;
    lines.push(item);
    used += n;
    shown++;
  }
  if (total > shown) lines.push(`- … and ${total - shown} more`);
  lines.push('', foot);
  return lines.join('\n');
}

// ---- show ----

const MAX_SAMPLES = 5;
const SAMPLE_CHARS = 1000;

export function renderShow(f: FindingView, plan?: Plan): string {
  const status = f.status ? `, ${f.status}` : '';
  const out = [
    `**${VERDICT_WORD[f.verdict].replace(/^./, (c) => c.toUpperCase())}${status}:** ${nameCode(f)} port ${f.destination.port}/${f.protocol}`,
    `- Meaning: ${VERDICT_MEANING[f.verdict]}`,
    `- Breaks: ${featureText(f.features, 10)}`,
    `- Seen: ${attemptsText(f)}`,
  ];
  if (f.pods.length > 0) out.push(`- Pods: ${podText(f.pods, 10)}`);
  const host = attributionText(f);
  if (host !== null) out.push(`- ${host.label}: ${host.text}`);
  else if (f.destination.host !== null && f.destination.ip !== null) out.push(`- Address: ${inlineCode(f.destination.ip, 255)}`);
  if (f.destination.host !== null && host !== null && f.attribution.note.trim() !== '') {
    out.push(`- How: ${proseWithCode(f.attribution.note, 600)}`);
  }
  if (f.ignored) {
    const reason = f.ignored.reason.trim() === '' ? '' : `: ${escapeMarkdown(f.ignored.reason, {maxLength: 300})}`;
    out.push(`- Ignored by ${escapeMarkdown(f.ignored.by.username, {maxLength: 64})} on ${utcTime(f.ignored.at)}${reason}`);
  }
  out.push('', `**What to do:** ${planText(plan, 1500)}`);
  const tail = plan?.action === 'add' ? ['', `The YAML: ${inlineCode(`/egress snippet ${targetText(f)}`, 300)}`] : [];
  // The log lines get what room is left; each is whole or left out.
  const budget = MAX_POST_RUNES - runeLength([...out, ...tail].join('\n')) - 200;
  const samples: string[] = [];
  let used = 0;
  for (const raw of f.samples.slice(0, MAX_SAMPLES)) {
    const line = truncate(raw, SAMPLE_CHARS);
    // Room for the zero-width spaces codeBlock() adds after each '@'.
    const n = runeLength(line) + (line.match(/@/g)?.length ?? 0) + 1;
    if (used + n > budget) break;
    samples.push(line);
    used += n;
  }
  if (samples.length > 0) {
    out.push('', `The first ${plural(samples.length, 'log line')} kept (of ${plural(f.count, 'attempt')}):`, codeBlock(samples.join('\n'), 'text'));
  }
  out.push(...tail);
  return fit(out.join('\n'));
}

function truncate(s: string, max: number): string {
  const chars = [...s.replace(/\r?\n/g, ' ')];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

// ---- snippet ----

export interface SnippetInput {
  /** The host asked for; null for the whole patch (configured integrations at risk and all open destinations). */
  target: string | null;
  format: SuggestionFormat;
  yaml: string;
  /** Hosts left out of the YAML, and why (suggest()'s `skipped`). */
  skipped?: readonly {host: string; reason: string; keys?: string[]}[];
  /** suggest()'s `notes`. */
  notes?: readonly string[];
  /** suggest()'s `plans`: the destinations left out of the YAML say why, as everywhere else. */
  plans?: readonly Plan[];
}

const ALL_TO_ADD = 'the configured integrations at risk and all open destinations';

export function renderSnippet(s: SnippetInput): string {
  const what = s.target === null ? ALL_TO_ADD : inlineCode(s.target, 255);
  const out: string[] = [];
  if (s.yaml.trim() === '') {
    out.push(`**No ServiceEntry to add** for ${what} (\`${s.format}\` format).`);
  } else {
    out.push(`**ServiceEntries for ${s.target === null ? ALL_TO_ADD : 'one destination'}** (\`${s.format}\` format)`);
    if (s.target !== null) out.push(`Host: ${what}`);
    out.push(`${FORMAT_PLACE[s.format]}:`, '', codeBlock(s.yaml, 'yaml'));
  }
  const left = (s.plans ?? []).filter((p) => p.action !== 'add');
  const other = left.length === 0 ? (s.skipped ?? []).filter((k) => k.keys === undefined) : [];
  if (left.length + other.length > 0) {
    out.push('', 'Not in the YAML:');
    for (const p of left.slice(0, 20)) out.push(`- ${inlineCode(p.key, 255)}: ${proseWithCode(p.text, 600)}`);
    for (const k of other.slice(0, 20)) out.push(`- ${inlineCode(k.host, 255)}: ${escapeMarkdown(k.reason, {maxLength: 300})}`);
    if (left.length > 20) out.push(`- … and ${left.length - 20} more`);
  }
  for (const n of (s.notes ?? []).slice(0, 5)) out.push('', `Note: ${escapeMarkdown(n, {maxLength: 400})}`);
  const message = out.join('\n');
  if (runeLength(message) <= MAX_POST_RUNES) return message;
  // Half a YAML document is worse than none: it would paste without error and allow too little.
  return [
    `**The YAML for ${what} is too long for a reply** (\`${s.format}\` format).`,
    'Get it from the System Console page of Egress Advisor, or ask for one host at a time: `/egress snippet <host>`.',
  ].join('\n');
}

// ---- ignore / unignore / lookups ----

export function renderIgnored(f: FindingView, reason: string): string {
  const why = reason.trim() === '' ? '' : `\nReason: ${escapeMarkdown(reason, {maxLength: MAX_REASON_CHARS})}`;
  return `Ignored ${destinationCode(f)}: no more alerts for it.${why}\nUndo: ${inlineCode(`/egress unignore ${targetText(f)}`, 300)}`;
}

export function renderUnignored(f: FindingView, wasIgnored: boolean): string {
  if (!wasIgnored) return `Not ignored, nothing changed: ${destinationCode(f)}`;
  return `No longer ignored: ${destinationCode(f)}. New traffic to it will alert again.`;
}

/** A button's ignore refused because someone decided about the destination after the alert was drawn. */
export function renderDecidedSince(f: FindingView, latest: {action: 'ignore' | 'unignore'; by: string; at: string}): string {
  const what = latest.action === 'ignore' ? 'ignored' : 'un-ignored';
  const who = latest.by === '' ? '' : ` by ${escapeMarkdown(latest.by, {maxLength: 64})}`;
  return (
    `Not changed: ${destinationCode(f)} was ${what}${who} at ${utcTime(latest.at)}, after this alert was posted, and an older alert's ` +
    `button does not override that. To ignore it now: ${inlineCode(`/egress ignore ${targetText(f)}`, 300)}`
  );
}

/** The bridge could not look the caller up, because its own link to Mattermost does not work: nothing was done, and why. */
export function renderUnchecked(problem: string): string {
  return (
    `Egress Advisor cannot check your roles in Mattermost right now, so it did nothing: ${escapeMarkdown(problem, {maxLength: 600})} ` +
    "The page under System Console → Plugins → Egress Advisor shows the bridge's status."
  );
}

/** The context of a button clicked on another post than the alert it was made for (copied, or sent with another post id). */
export const BUTTON_ELSEWHERE = 'This button does not belong to this post: only the alert that announced a destination can change it. Use `/egress list`.';

/** The alert is posted, but the bridge has not yet recorded which post it is (it does so within a minute). */
export const BUTTON_UNRECORDED = 'This alert is still being recorded by the bridge; try its buttons again in a minute.';

/** An alert of an older bridge: its Ignore button carries no view of earlier decisions, so it cannot be trusted not to override one. */
export const BUTTON_TOO_OLD = 'This alert was posted by an older version of the bridge, and its Ignore button no longer works. Use `/egress ignore <host>`.';

export function renderNotFound(target: string): string {
  return `No destination matches ${inlineCode(target, 300)}. See \`/egress list all\`.`;
}

/** A host with findings on several ports: the reply names them so one can be picked. */
export function renderAmbiguous(target: string, matches: readonly FindingView[]): string {
  const lines = [`${inlineCode(target, 300)} matches ${matches.length} destinations; add the port:`];
  for (const f of matches.slice(0, 20)) lines.push(`- ${destinationCode(f)} ${VERDICT_WORD[f.verdict]}`);
  if (matches.length > 20) lines.push(`- … and ${matches.length - 20} more`);
  return lines.join('\n');
}

// ---- connection tests ----

function testLine(r: ConnectionTestResult): string {
  const who = r.requestedBy ? `asked by @${escapeMarkdown(r.requestedBy.username, {maxLength: 64})}` : r.trigger === 'after-fix' ? 'after a fix' : 'rehearsal';
  const label = escapeMarkdown(r.label, {maxLength: 80});
  const target = r.target ? ` ${inlineCode(`${r.target.host}${r.target.port !== null ? `:${r.target.port}` : ''}`, 300)}` : '';
  const at = utcTime(r.finishedAt);
  const why = escapeMarkdown(r.message, {maxLength: 500});
  switch (r.outcome) {
    case 'passed':
      return `Mattermost reached ${label}${target} at ${at} (${who})`;
    case 'failed':
      return `Mattermost could not reach ${label}${target} at ${at}: ${why} (${who})`;
    case 'not-configured':
      return `${label} is not configured in Mattermost; nothing was tested (${who})`;
    case 'not-available':
      return `${label} could not be tested at ${at}: ${why} (${who})`;
  }
}

export function renderTest(t: ConnectionTestResponse): string {
  if (!t.ran) {
    const latest = t.latest ? `\n\nLatest: ${testLine(t.latest)}` : '';
    return `Not tested: ${escapeMarkdown(t.reason, {maxLength: 400})}${latest}`;
  }
  const r = t.result;
  const lines = [testLine(r)];
  if (r.outcome === 'failed')
    lines.push(
      '',
      "The test ran inside Mattermost's pod, through its istio-proxy: if the mesh blocks the integration, its blocked line names the host (see `/egress list`).",
    );
  if (r.findingKeys.length > 0)
    lines.push(
      '',
      `Destinations: ${r.findingKeys
        .slice(0, 10)
        .map((k) => inlineCode(k, 300))
        .join(', ')}`,
    );
  return lines.join('\n');
}

// ---- the rehearsal before hardening ----

const REHEARSAL_VERDICT: Record<RehearsalVerdict, string> = {
  'will-break': 'breaks under REGISTRY_ONLY',
  'keeps-working': 'keeps working',
  'already-failing': 'fails already',
  unconfirmed: 'passed, no log line read',
  'not-tested': 'not tested',
  'not-configured': 'not configured',
};

export function renderRehearsalReport(r: RehearsalReport): string {
  if (r.state === 'not-run') return proseWithCode(r.summary, 600);
  const mode = r.mode === 'unknown' ? 'not known' : inlineCode(r.mode);
  const who = r.requestedBy ? `asked by @${escapeMarkdown(r.requestedBy.username, {maxLength: 64})}` : 'run by the bridge';
  const out = [
    `**Rehearsal of REGISTRY_ONLY** at ${utcTime(r.startedAt)} (${who}; outbound mode ${mode}, from ${escapeMarkdown(r.modeSource, {maxLength: 200})})`,
    '',
    escapeMarkdown(r.summary, {maxLength: 600}),
    '',
  ];
  for (const e of r.entries) {
    out.push(`- **${escapeMarkdown(e.label, {maxLength: 80})}**: ${REHEARSAL_VERDICT[e.verdict]}. ${proseWithCode(e.detail, 700)}`);
    const named = e.lines.filter((l) => l.named);
    if (named.length > 0) out.push(`  PassthroughCluster: ${named.map((l) => inlineCode(l.destination, 300)).join(', ')}`);
  }
  for (const e of r.entries.filter((x) => x.yaml !== ''))
    out.push('', `ServiceEntry for ${escapeMarkdown(e.label, {maxLength: 80})}:`, '', codeBlock(e.yaml, 'yaml'));
  return out.join('\n');
}

export function renderRehearsal(r: RehearsalResponse): string {
  if (r.ran) return renderRehearsalReport(r.report);
  const latest = r.report.state === 'done' ? `\n\nThe latest:\n\n${renderRehearsalReport(r.report)}` : '';
  return `Not rehearsed: ${proseWithCode(r.reason, 600)}${latest}`;
}

// ---- one entry point ----

export type CommandReply =
  | {kind: 'help'}
  | {kind: 'usage-error'; error: string}
  | {kind: 'refused'}
  | {kind: 'status'; status: StatusInput}
  | {kind: 'list'; list: ListInput}
  | {kind: 'show'; finding: FindingView; plan?: Plan}
  | {kind: 'snippet'; snippet: SnippetInput}
  | {kind: 'ignored'; finding: FindingView; reason: string}
  | {kind: 'unignored'; finding: FindingView; wasIgnored: boolean}
  | {kind: 'not-found'; target: string}
  | {kind: 'ambiguous'; target: string; matches: readonly FindingView[]}
  | {kind: 'test'; test: ConnectionTestResponse}
  | {kind: 'rehearsal'; rehearsal: RehearsalResponse};

export function renderCommandReply(reply: CommandReply): string {
  switch (reply.kind) {
    case 'help':
      return renderHelp();
    case 'usage-error':
      return renderUsageError(reply.error);
    case 'refused':
      return renderRefusal();
    case 'status':
      return renderStatus(reply.status);
    case 'list':
      return renderList(reply.list);
    case 'show':
      return renderShow(reply.finding, reply.plan);
    case 'snippet':
      return renderSnippet(reply.snippet);
    case 'ignored':
      return renderIgnored(reply.finding, reply.reason);
    case 'unignored':
      return renderUnignored(reply.finding, reply.wasIgnored);
    case 'not-found':
      return renderNotFound(reply.target);
    case 'ambiguous':
      return renderAmbiguous(reply.target, reply.matches);
    case 'test':
      return fit(renderTest(reply.test));
    case 'rehearsal':
      return fit(renderRehearsal(reply.rehearsal));
  }
}

function fit(message: string): string {
  return fitMarkdown(message, MAX_POST_RUNES, '… (cut: too long for one reply)');
}
