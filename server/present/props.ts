/*
 * The structured half of an alert post: data for the webapp's renderer and the buttons.
 *
 * Size: Mattermost refuses a post whose props exceed 800,000 runes as JSON (model.PostPropsMaxRunes;
 * 760,000 for what a client may set). Props travel to every client on every load of the channel,
 * so this layer stays far below that, at MAX_PROPS_CHARS, by leaving findings (and, if need be, the
 * YAML) out and saying how many: the webapp can ask the bridge for the rest.
 */
import {
  ALERT_PROPS_KEY,
  ALERT_PROPS_VERSION,
  type AlertActionContext,
  type AlertAttachment,
  type AlertButton,
  type AlertFinding,
  type AlertIgnored,
  type AlertProps,
} from '../../common/alert';
import {MAX_REASON_CHARS} from '../../common/api';
import type {Finding, SuggestionFormat, Verdict} from '../../common/types';
import {sealContext, type ContextFields} from './hmac';
import {plainText} from './markdown';
import {destinationPlain, VERDICT_WORD} from './text';

/** Measured in UTF-16 units of the JSON, which is never fewer than the runes Mattermost counts. */
export const MAX_PROPS_CHARS = 64 * 1024;

/** Findings that get buttons of their own; the rest are reached through "all" and /egress. */
export const MAX_BUTTON_FINDINGS = 5;

/** Keys one "all destinations" button may carry. */
const MAX_ALL_KEYS = 100;
const MAX_ALL_KEYS_CHARS = 8 * 1024;
/** Longer keys cannot be signed (see hmac.ts) and get no buttons. */
const MAX_KEY_CHARS = 1024;
const MAX_YAML_CHARS = 32 * 1024;
/** A valid host or pod name is at most 253 characters; longer log values are cut. */
const NAME_CHARS = 255;
const MAX_PODS = 20;
const MAX_FEATURES = 20;
const BUTTON_NAME_CHARS = 48;

const COLOR: Partial<Record<Verdict, string>> = {
  blocked: 'danger',
  'external-failed': 'warning',
  passthrough: '#1C58D9',
};

export interface AlertPropsInput {
  findings: readonly Finding[];
  suggestionYaml: string;
  format: SuggestionFormat;
  actionUrl: string;
  hmacKey: Buffer;
  now: Date;
  digestId: string;
  /** The YAML was left out on purpose (too many destinations for one post): the card says where it is. */
  yamlOmitted?: boolean;
  /** Findings ignored since the alert went out, by key: the card says so, and they get no Ignore button. */
  ignored?: Readonly<Record<string, AlertIgnored>>;
  /**
   * The id of each finding's latest ignore or un-ignore decision as the alert is drawn (none: 0). Its Ignore
   * button carries it, so that a click after a newer decision is refused (the store's decidedUpTo).
   */
  decisions?: ReadonlyMap<string, number>;
}

function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}

export function alertFinding(f: Finding, ignored?: AlertIgnored): AlertFinding {
  const d = f.destination;
  return {
    ...(ignored !== undefined ? {ignored: {by: cut(ignored.by, 64), reason: cut(ignored.reason, 2 * MAX_REASON_CHARS), at: cut(ignored.at, 64)}} : {}),
    key: cut(f.key, MAX_KEY_CHARS),
    host: d.host === null ? null : cut(d.host, NAME_CHARS),
    ip: d.ip === null ? null : cut(d.ip, NAME_CHARS),
    port: d.port,
    protocol: f.protocol,
    verdict: f.verdict,
    features: f.features.slice(0, MAX_FEATURES).map((x) => ({name: cut(x.name, 200), configPath: cut(x.configPath, 200)})),
    count: f.count,
    firstSeen: f.firstSeen === null ? null : cut(f.firstSeen, 64),
    lastSeen: f.lastSeen === null ? null : cut(f.lastSeen, 64),
    pods: f.pods.slice(0, MAX_PODS).map((p) => cut(p, NAME_CHARS)),
  };
}

function button(id: string, name: string, fields: ContextFields, input: AlertPropsInput, style?: AlertButton['style']): AlertButton {
  const context = sealContext(input.hmacKey, {...fields, digest_id: input.digestId}, input.now) as unknown as AlertActionContext;
  return {id, name: plainText(name, BUTTON_NAME_CHARS), type: 'button', ...(style ? {style} : {}), integration: {url: input.actionUrl, context}};
}

function findingAttachment(f: Finding, i: number, input: AlertPropsInput): AlertAttachment {
  const label = destinationPlain(f, 200);
  return {
    fallback: plainText(`${VERDICT_WORD[f.verdict]}: ${label}`, 240),
    color: COLOR[f.verdict] ?? '#8A8A8A',
    actions: [
      ...(input.ignored?.[f.key] !== undefined
        ? []
        : [
            button(
              `ignore${i}`,
              `Ignore ${destinationPlain(f, BUTTON_NAME_CHARS - 7)}`,
              {action: 'ignore', key: f.key, decided: String(input.decisions?.get(f.key) ?? 0)},
              input,
            ),
          ]),
      button(`show${i}`, 'Show ServiceEntry', {action: 'show-snippet', key: f.key}, input, 'primary'),
    ],
  };
}

function allAttachment(findings: readonly Finding[], input: AlertPropsInput): AlertAttachment | null {
  const keys: string[] = [];
  let chars = 0;
  for (const f of findings) {
    if (keys.length >= MAX_ALL_KEYS || chars + f.key.length > MAX_ALL_KEYS_CHARS) break;
    keys.push(f.key);
    chars += f.key.length;
  }
  if (keys.length < 2) return null;
  const name = keys.length === findings.length ? 'Show all ServiceEntries' : `Show ServiceEntries (first ${keys.length})`;
  return {
    fallback: plainText(`${findings.length} destinations`, 80),
    color: COLOR[findings[0]?.verdict ?? 'blocked'] ?? '#8A8A8A',
    actions: [button('showall', name, {action: 'show-snippet', keys}, input, 'primary')],
  };
}

/** The findings that get buttons of their own. */
export function buttonFindings<F extends Finding>(findings: readonly F[]): F[] {
  return findings.filter((f) => f.key.length <= MAX_KEY_CHARS).slice(0, MAX_BUTTON_FINDINGS);
}

function attachments(input: AlertPropsInput): AlertAttachment[] {
  const signable = input.findings.filter((f) => f.key.length <= MAX_KEY_CHARS);
  const out = buttonFindings(signable).map((f, i) => findingAttachment(f, i, input));
  const all = signable.length > 1 ? allAttachment(signable, input) : null;
  if (all) out.push(all);
  return out;
}

export function renderAlertProps(input: AlertPropsInput): AlertProps {
  const props: AlertProps = {
    [ALERT_PROPS_KEY]: {
      version: ALERT_PROPS_VERSION,
      digest_id: input.digestId,
      findings: [],
      findings_omitted: 0,
      yaml: '',
      yaml_omitted: false,
      format: input.format,
    },
    attachments: attachments(input),
  };
  const data = props[ALERT_PROPS_KEY];
  let size = JSON.stringify(props).length;

  const yamlSize = JSON.stringify(input.suggestionYaml).length - 2;
  if (input.yamlOmitted === true) {
    data.yaml_omitted = true;
    size += 'true'.length - 'false'.length;
  } else if (yamlSize <= MAX_YAML_CHARS) {
    data.yaml = input.suggestionYaml;
    size += yamlSize;
  } else {
    data.yaml_omitted = true;
    size += 'true'.length - 'false'.length;
  }

  // Room for the digits of findings_omitted, whatever it ends up being.
  size += 12;
  for (const f of input.findings) {
    const item = alertFinding(f, input.ignored?.[f.key]);
    const itemSize = JSON.stringify(item).length + 1;
    if (size + itemSize > MAX_PROPS_CHARS) break;
    data.findings.push(item);
    size += itemSize;
  }
  data.findings_omitted = input.findings.length - data.findings.length;
  return props;
}
