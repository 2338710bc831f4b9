// The props of an alert post (type `custom_egress_alert`): what the bridge writes and what the
// webapp's post renderer reads. Versioned, because posts outlive both sides' releases: a renderer
// that meets a version it does not know falls back to the post's Markdown message.
import {SUGGESTION_FORMATS, VERDICTS, type PortProtocol, type SuggestionFormat, type Verdict} from './types';

/** The bot the bridge posts as: the webapp draws an alert card only for its posts. */
export const ALERT_BOT_USERNAME = 'egress-advisor';

export const ALERT_POST_TYPE = 'custom_egress_alert';

export const ALERT_PROPS_VERSION = 1;

/** The props key holding the alert's data; `attachments` is Mattermost's own key. */
export const ALERT_PROPS_KEY = 'egress_advisor';

export const THREAD_UPDATE_PROPS_KEY = 'egress_advisor_update';
/** Props of the notice about configured integrations that will be blocked: which post it is, after a crash. */
export const AT_RISK_PROPS_KEY = 'egress_advisor_at_risk';

export interface AlertFeature {
  name: string;
  configPath: string;
}

export interface AlertFinding {
  key: string;
  host: string | null;
  ip: string | null;
  port: number;
  protocol: PortProtocol;
  verdict: Verdict;
  features: AlertFeature[];
  count: number;
  /** ISO-8601, from the log lines. */
  firstSeen: string | null;
  lastSeen: string | null;
  pods: string[];
  /** Set once an administrator ignored it (command, button or API); the card says so. Absent: not ignored. */
  ignored?: AlertIgnored;
}

export interface AlertIgnored {
  /** Username of who ignored it. */
  by: string;
  reason: string;
  /** ISO-8601. */
  at: string;
}

export interface EgressAlertData {
  version: typeof ALERT_PROPS_VERSION;
  digest_id: string;
  /** In the bridge's order (most urgent first); may be cut to keep the post small, see findings_omitted. */
  findings: AlertFinding[];
  /** Findings of this alert left out of `findings`; the webapp fetches them from the bridge if it wants them. */
  findings_omitted: number;
  /** The suggestion in `format`; '' when there is nothing to add or when it was too large (see yaml_omitted). */
  yaml: string;
  yaml_omitted: boolean;
  format: SuggestionFormat;
}

export type AlertAction = 'ignore' | 'show-snippet';

/** What a button's callback carries; Mattermost keeps `context` on the server, never sends it to clients. */
export interface AlertActionContext {
  action: AlertAction;
  /** One finding... */
  key?: string;
  /** ...or several (the "all destinations" button). */
  keys?: string[];
  digest_id: string;
  /**
   * Ignore buttons: the id of the finding's latest ignore or un-ignore decision when the alert was drawn
   * ('0': none), as a decimal string. A click after a newer decision is refused.
   */
  decided?: string;
  /** Expiry, seconds since the epoch, as a decimal string. */
  exp: string;
  /** HMAC over every other field (see server/present/hmac.ts). */
  sig: string;
}

export interface AlertButton {
  /** Letters and digits only: Mattermost's action route accepts nothing else. */
  id: string;
  name: string;
  type: 'button';
  style?: 'default' | 'primary' | 'success' | 'good' | 'warning' | 'danger';
  /** Present where the bridge creates the post; Mattermost strips it from what clients receive. */
  integration?: {url: string; context: AlertActionContext};
}

export interface AlertAttachment {
  fallback: string;
  /** 'danger' | 'warning' | '#rrggbb'. */
  color: string;
  actions: AlertButton[];
}

export interface AlertProps {
  [ALERT_PROPS_KEY]: EgressAlertData;
  attachments: AlertAttachment[];
}

export interface ThreadUpdateItem {
  key: string;
  count: number;
  previous_count: number;
  new_pods: string[];
  reopened: boolean;
  /** A ServiceEntry now lets it out (absent in replies of older bridges). */
  resolved?: boolean;
  lastSeen: string | null;
}

export interface ThreadUpdateProps {
  [THREAD_UPDATE_PROPS_KEY]: {
    version: typeof ALERT_PROPS_VERSION;
    digest_id: string;
    items: ThreadUpdateItem[];
    items_omitted: number;
  };
}

const VERDICT_SET = new Set<string>(VERDICTS);
const FORMAT_SET = new Set<string>(SUGGESTION_FORMATS);
const PROTOCOL_SET = new Set<string>(['HTTP', 'TLS', 'TCP']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringOrNull(v: unknown): v is string | null {
  return v === null || typeof v === 'string';
}

function isAlertFinding(v: unknown): v is AlertFinding {
  if (!isRecord(v)) return false;
  return (
    typeof v.key === 'string' &&
    isStringOrNull(v.host) &&
    isStringOrNull(v.ip) &&
    typeof v.port === 'number' &&
    typeof v.protocol === 'string' &&
    PROTOCOL_SET.has(v.protocol) &&
    typeof v.verdict === 'string' &&
    VERDICT_SET.has(v.verdict) &&
    Array.isArray(v.features) &&
    v.features.every((f) => isRecord(f) && typeof f.name === 'string' && typeof f.configPath === 'string') &&
    typeof v.count === 'number' &&
    isStringOrNull(v.firstSeen) &&
    isStringOrNull(v.lastSeen) &&
    Array.isArray(v.pods) &&
    v.pods.every((p) => typeof p === 'string') &&
    (v.ignored === undefined ||
      (isRecord(v.ignored) && typeof v.ignored.by === 'string' && typeof v.ignored.reason === 'string' && typeof v.ignored.at === 'string'))
  );
}

/**
 * The alert data of a post's props, or null when the props are not a version-1 alert (another
 * version, or damaged): the renderer then shows the post's message instead.
 */
export function readAlertData(props: unknown): EgressAlertData | null {
  if (!isRecord(props)) return null;
  const d = props[ALERT_PROPS_KEY];
  if (!isRecord(d) || d.version !== ALERT_PROPS_VERSION) return null;
  if (typeof d.digest_id !== 'string' || typeof d.yaml !== 'string' || typeof d.yaml_omitted !== 'boolean') return null;
  if (typeof d.format !== 'string' || !FORMAT_SET.has(d.format)) return null;
  if (typeof d.findings_omitted !== 'number' || !Array.isArray(d.findings) || !d.findings.every(isAlertFinding)) return null;
  return d as unknown as EgressAlertData;
}
