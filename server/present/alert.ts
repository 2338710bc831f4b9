/*
 * The alert post: a Markdown message that reads well where the plugin is not loaded (mobile, email,
 * push), plus the props the webapp renders (props.ts). Thread updates are the short replies for
 * destinations an alert already announced.
 */
import {MAX_REASON_CHARS, type IntegrationItem} from '../../common/api';
import {
  AT_RISK_PROPS_KEY,
  THREAD_UPDATE_PROPS_KEY,
  type AlertIgnored,
  type AlertProps,
  type ThreadUpdateItem,
  type ThreadUpdateProps,
} from '../../common/alert';
import type {Finding, Plan, SuggestionFormat, Verdict} from '../../common/types';
import {codeBlock, escapeMarkdown, fitMarkdown, inlineCode, plainText, runeLength} from './markdown';
import {renderAlertProps} from './props';
import {destinationCode, FORMAT_PLACE, featureText, MAX_POST_RUNES, planShort, planText, plural, targetText, utcTime, VERDICT_WORD} from './text';
import {integrationKey} from '../engine/integrations';

export {MAX_PROPS_CHARS, MAX_BUTTON_FINDINGS} from './props';

export interface AlertInput {
  findings: Finding[];
  suggestionYaml: string;
  format: SuggestionFormat;
  /** Where Mattermost posts button clicks: the bridge's in-cluster URL. */
  actionUrl: string;
  hmacKey: Buffer;
  now: Date;
  /** Mattermost's SiteURL, for a link to the plugin's System Console page. */
  siteUrl?: string;
  digestId: string;
  /** The plan of each finding (suggest()'s `plans`), computed with the YAML. */
  plans: readonly Plan[];
  /** Findings an administrator has ignored since the alert went out, by key: the card is redrawn to say so. */
  ignored?: Readonly<Record<string, AlertIgnored>>;
  /** See AlertPropsInput.decisions. */
  decisions?: ReadonlyMap<string, number>;
}

export interface RenderedAlert {
  message: string;
  props: AlertProps;
}

const PLUGIN_ID = 'egress-advisor';
/** Destinations an alert lists, one line each; the rest are one tap away (`/egress list`, the page). */
export const MAX_ALERT_LINES = 10;
/** An alert carries its YAML only for this many destinations at most, and only when it is short. */
export const MAX_ALERT_YAML_DESTINATIONS = 5;
const MAX_ALERT_YAML_RUNES = 4000;
/** Kept free under the limit for the "… and N more" line. */
const MORE_LINE_RUNES = 80;

const SUMMARY_ORDER: Verdict[] = ['blocked', 'external-failed', 'passthrough'];

function summary(findings: readonly Finding[]): string {
  const n = findings.length;
  const parts = SUMMARY_ORDER.map((v) => [v, findings.filter((f) => f.verdict === v).length] as const)
    .filter(([, c]) => c > 0)
    .map(([v, c]) => `${c} ${VERDICT_WORD[v]}`);
  const other = n - findings.filter((f) => SUMMARY_ORDER.includes(f.verdict)).length;
  if (other > 0) parts.push(`${other} other`);
  const needs = n === 1 ? 'needs' : 'need';
  return `**Egress Advisor:** ${plural(n, 'outbound destination')} of Mattermost ${needs} attention (${parts.join(', ')}).`;
}

/** One destination on one line: where, what it breaks, and the plan in a few words. */
function destinationLine(f: Finding, index: number, plan: Plan | undefined, ignored: AlertIgnored | undefined): string {
  const feature =
    f.features.length === 0 ? '' : ` (${escapeMarkdown(f.features[0].name, {maxLength: 60})}${f.features.length > 1 ? ` +${f.features.length - 1}` : ''})`;
  if (ignored !== undefined)
    return `${index}. ${destinationCode(f)} ${VERDICT_WORD[f.verdict]}${feature}: ignored by ${escapeMarkdown(ignored.by, {maxLength: 64})}`;
  return `${index}. ${destinationCode(f)} ${VERDICT_WORD[f.verdict]}${feature}: ${planShort(f, plan)}`;
}

function yamlPart(yaml: string, format: SuggestionFormat): string {
  return `${FORMAT_PLACE[format]}:\n\n${codeBlock(yaml, 'yaml')}`;
}

/** A link to the plugin's System Console page, only for a plain http(s) SiteURL. */
function consoleLink(siteUrl: string | undefined): string | null {
  if (siteUrl === undefined || siteUrl === '') return null;
  let url: URL;
  try {
    url = new URL(siteUrl);
  } catch {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return null;
  const base = url.href.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const href = `${base}/admin_console/plugins/plugin_${PLUGIN_ID}`;
  // Characters that could end the link destination or the Markdown around it.
  if (/[\s()<>[\]\\`"']/.test(href)) return null;
  return `History and settings: [System Console](${href})`;
}

function join(parts: readonly string[]): string {
  return parts.join('\n\n');
}

/**
 * Lays the pieces out within Mattermost's length limit: all of it when it fits; else as many
 * lines as fit with the YAML; else the YAML gives way to `yamlTooLong`.
 */
function layout(head: string, sections: readonly string[], yaml: string | null, tail: readonly string[], yamlTooLong: string): string {
  const budget = MAX_POST_RUNES - MORE_LINE_RUNES;
  const fill = (yamlBlock: string | null): string | null => {
    const fixed = runeLength(join([head, ...(yamlBlock !== null ? [yamlBlock] : []), ...tail]));
    if (fixed > budget) return null;
    const kept: string[] = [];
    let used = fixed;
    for (const s of sections) {
      const n = runeLength(s) + 2;
      if (used + n > budget) break;
      kept.push(s);
      used += n;
    }
    if (kept.length === 0 && sections.length > 0) return null;
    const more = sections.length - kept.length;
    const moreLine = more > 0 ? [`… and ${more} more, see \`/egress list\``] : [];
    return join([head, ...kept, ...moreLine, ...(yamlBlock !== null ? [yamlBlock] : []), ...tail]);
  };
  const full = fill(yaml);
  if (full !== null) return full;
  if (yaml !== null) {
    const without = fill(yamlTooLong);
    if (without !== null) return without;
  }
  // Unreachable with the bounds of the lines; kept so that the limit holds whatever the input.
  return fitMarkdown(join([head, ...sections, ...(yaml !== null ? [yamlTooLong] : [])]), MAX_POST_RUNES, '… see /egress list');
}

/**
 * The alert as a phone shows it: a summary, one line per destination (at most MAX_ALERT_LINES), and for a
 * few destinations the YAML; whatever the count, the post stays this size, and the rest is one command away.
 */
export function renderAlertMessage(input: AlertInput): string {
  const {findings} = input;
  if (findings.length === 0) return '**Egress Advisor:** no outbound destination of Mattermost needs attention.';
  const plans = new Map(input.plans.map((p) => [p.key, p]));
  const shown = findings.slice(0, MAX_ALERT_LINES);
  const lines = shown.map((f, i) => destinationLine(f, i + 1, plans.get(f.key), input.ignored?.[f.key]));
  const more = findings.length - shown.length;
  const head = join([summary(findings), lines.join('\n'), ...(more > 0 ? [`… and ${plural(more, 'more destination')}: \`/egress list\``] : [])]);

  const adds = findings.some((f) => plans.get(f.key)?.action === 'add');
  const yamlFits =
    input.suggestionYaml.trim() !== '' && findings.length <= MAX_ALERT_YAML_DESTINATIONS && runeLength(input.suggestionYaml) <= MAX_ALERT_YAML_RUNES;
  const parts = [head];
  if (yamlFits) parts.push(yamlPart(input.suggestionYaml, input.format));
  else if (adds) parts.push(`The YAML for ${findings.length === 1 ? 'it' : 'all of them'}: \`/egress snippet all\``);
  const one = shown.length === 1 ? targetText(shown[0]) : null;
  parts.push(`Details: \`/egress show ${one !== null && isCommandArgument(one) ? one : '<host>'}\``);
  const link = consoleLink(input.siteUrl);
  if (link !== null) parts.push(link);
  return fitMarkdown(join(parts), MAX_POST_RUNES, '… see `/egress list`');
}

/** A value that can stand in a command as it is: a host name, an address, host:port. */
function isCommandArgument(s: string): boolean {
  return /^[a-z0-9*.:[\]-]{1,260}$/i.test(s);
}

export function renderAlert(input: AlertInput): RenderedAlert {
  const yamlShown = input.findings.length <= MAX_ALERT_YAML_DESTINATIONS;
  return {
    message: renderAlertMessage(input),
    props: renderAlertProps({...input, suggestionYaml: yamlShown ? input.suggestionYaml : '', yamlOmitted: !yamlShown}),
  };
}

export interface ThreadUpdateEntry {
  finding: Finding;
  /** What the thread last said about it. */
  previousCount: number;
  previousPods: readonly string[];
  /** It had been resolved and came back. */
  reopened?: boolean;
  /** It is resolved: what lets it out now (the resolution's reason). */
  resolution?: string;
}

export interface ThreadUpdateInput {
  digestId: string;
  entries: readonly ThreadUpdateEntry[];
}

export interface RenderedThreadUpdate {
  message: string;
  props: ThreadUpdateProps;
}

const MAX_UPDATE_LINES = 50;
const MAX_NEW_PODS_SHOWN = 3;

function updateLine(e: ThreadUpdateEntry): {line: string; item: ThreadUpdateItem} {
  const f = e.finding;
  const known = new Set(e.previousPods);
  const newPods = f.pods.filter((p) => !known.has(p));
  const grew = f.count - e.previousCount;
  const parts = [`${plural(f.count, 'attempt')}${grew > 0 ? ` (+${grew.toLocaleString('en-US')})` : ''}`];
  parts.push(`last ${utcTime(f.lastSeen)}`);
  if (newPods.length > 0) parts.push(`new ${newPods.length === 1 ? 'pod' : 'pods'} ${podTextShort(newPods)}`);
  const state = e.reopened ? `${VERDICT_WORD[f.verdict]} again` : VERDICT_WORD[f.verdict];
  return {
    line:
      e.resolution !== undefined
        ? `- ${destinationCode(f)} resolved: ${escapeMarkdown(plainText(e.resolution, 400))}`
        : `- ${destinationCode(f)} ${state}: ${parts.join(', ')}`,
    item: {
      key: f.key,
      count: f.count,
      previous_count: e.previousCount,
      new_pods: newPods.slice(0, 20),
      reopened: e.reopened === true,
      resolved: e.resolution !== undefined,
      lastSeen: f.lastSeen,
    },
  };
}

function podTextShort(pods: readonly string[]): string {
  const shown = pods.slice(0, MAX_NEW_PODS_SHOWN).map((p) => inlineCode(p, 255));
  return shown.join(', ') + (pods.length > MAX_NEW_PODS_SHOWN ? ` and ${pods.length - MAX_NEW_PODS_SHOWN} more` : '');
}

/** The reply in an alert's thread when destinations it announced see more traffic. */
export function renderThreadUpdate(input: ThreadUpdateInput): RenderedThreadUpdate {
  const rendered = input.entries.map(updateLine);
  const head =
    input.entries.length > 0 && input.entries.every((e) => e.resolution !== undefined)
      ? `${plural(input.entries.length, 'destination')} of this alert ${input.entries.length === 1 ? 'is' : 'are'} no longer blocked:`
      : `More activity on ${plural(input.entries.length, 'destination')} of this alert:`;
  const lines: string[] = [head];
  let used = runeLength(head);
  const budget = MAX_POST_RUNES - MORE_LINE_RUNES;
  let shown = 0;
  for (const r of rendered) {
    const n = runeLength(r.line) + 1;
    if (shown >= MAX_UPDATE_LINES || used + n > budget) break;
    lines.push(r.line);
    used += n;
    shown++;
  }
  const more = rendered.length - shown;
  if (more > 0) lines.push(`… and ${more} more, see /egress list`);
  return {
    message: lines.join('\n'),
    props: {
      [THREAD_UPDATE_PROPS_KEY]: {
        version: 1,
        digest_id: input.digestId,
        items: rendered.slice(0, shown).map((r) => r.item),
        items_omitted: more,
      },
    },
  };
}

export interface AtRiskInput {
  /** Enabled integrations no ServiceEntry covers and no traffic has shown yet. */
  items: readonly IntegrationItem[];
  mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | 'unknown';
  suggestionYaml: string;
  format: SuggestionFormat;
  /** The plan of each integration, keyed as its stand-in finding (integrationKey), from the same suggest() as the YAML. */
  plans: readonly Plan[];
  siteUrl?: string;
  noticeId: string;
}

function atRiskWhen(mode: AtRiskInput['mode'], n: number): string {
  const [they, work] = n === 1 ? ['It', 'works'] : ['They', 'work'];
  if (mode === 'REGISTRY_ONLY') return 'Nothing has failed yet; the first call to each will be dropped (BlackHoleCluster).';
  if (mode === 'ALLOW_ANY')
    return `${they} ${work} today only because the mesh lets any destination out; switching on REGISTRY_ONLY will block ${n === 1 ? 'it' : 'them'}.`;
  return `Under REGISTRY_ONLY ${n === 1 ? 'its' : 'their'} calls will be dropped.`;
}

/**
 * An integration's plan in its line: the entry names when the YAML allows it, else the whole plan (why no
 * ServiceEntry, and what instead, such as credentials of its own for the instance metadata service).
 */
function atRiskPlan(plan: Plan | undefined): string {
  if (plan === undefined) return 'see the System Console page';
  if (plan.action === 'add') return `add ${plan.entries.map((n) => inlineCode(n, 80)).join(', ')}`;
  return planText(plan, 800);
}

/** The post that warns before anything has failed: configured integrations the mesh will not let out. */
export function renderAtRiskNotice(input: AtRiskInput): {message: string; props: Record<string, unknown>} {
  const n = input.items.length;
  const head = `**Egress Advisor:** ${plural(n, 'configured integration')} of Mattermost ${n === 1 ? 'has' : 'have'} no ServiceEntry. ${atRiskWhen(input.mode, n)}`;
  const plans = new Map(input.plans.map((p) => [p.key, p]));
  const sections = input.items.map((i) => {
    const where = inlineCode(i.port === null ? i.host : `${i.host}:${i.port}`, 270);
    return `- ${featureText([i.feature], 1)}: ${where}: ${atRiskPlan(plans.get(integrationKey(i)) ?? i.findings.map((f) => plans.get(f.key)).find((p) => p !== undefined))}`;
  });
  const yaml = input.suggestionYaml.trim() === '' ? null : yamlPart(input.suggestionYaml, input.format);
  const adds = input.plans.some((p) => p.action === 'add');
  // Without the YAML in the post (ShowAlertYaml off), say where it is: the page lists these integrations with it.
  const where = yaml === null && adds ? ['The YAML for them is on the System Console page, under the configured integrations.'] : [];
  const tail = [...where, consoleLink(input.siteUrl)].filter((x): x is string => x !== null);
  const message = layout(head, sections, yaml, tail, 'The suggested YAML is too long for a post: see the System Console page.');
  return {
    message,
    props: {[AT_RISK_PROPS_KEY]: {version: 1, notice_id: input.noticeId, hosts: input.items.slice(0, 50).map((i) => `${i.host}:${i.port ?? ''}`)}},
  };
}

export interface StatusChangeInput {
  digestId: string;
  finding: Finding;
  change: 'ignore' | 'unignore';
  /** Username of who changed it. */
  by: string;
  reason: string;
}

/** The reply in an alert's thread when a destination it announced is ignored or un-ignored, wherever that was done. */
export function renderStatusChange(input: StatusChangeInput): RenderedThreadUpdate {
  const f = input.finding;
  const who = escapeMarkdown(input.by, {maxLength: 64});
  const why = input.reason.trim() === '' ? '' : `: ${escapeMarkdown(input.reason, {maxLength: MAX_REASON_CHARS})}`;
  const message =
    input.change === 'ignore'
      ? `${destinationCode(f)} ignored by ${who}${why}. No more alerts for it. Undo: ${inlineCode(`/egress unignore ${targetText(f)}`, 300)}`
      : `${destinationCode(f)} no longer ignored (by ${who}${why}). New traffic to it will alert again.`;
  return {
    message,
    props: {
      [THREAD_UPDATE_PROPS_KEY]: {
        version: 1,
        digest_id: input.digestId,
        items: [{key: f.key, count: f.count, previous_count: f.count, new_pods: [], reopened: false, resolved: false, lastSeen: f.lastSeen}],
        items_omitted: 0,
      },
    },
  };
}
