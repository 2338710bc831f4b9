// Mattermost's own server log, read for one thing: failed outbound calls and the target each one names.
// Core Mattermost has no url/host field for them; the target is only inside Go error strings
// (mattermost-logs.md, "Where the URL or host appears"). Every log format Mattermost has written is
// accepted, bare or behind kubectl, syslog and docker compose prefixes. Never throws.
import type {AppLogEvent} from './types';
import {addressScope, normalizeIp} from './address';
import {splitPrefix} from './prefix';
import {hostName, toPort, urlTarget} from './urltarget';

const MAX_LINE = 64 * 1024;
const MAX_MESSAGE = 1000;

// ---- Wrappers ------------------------------------------------------------------------------------------

// "Feb  6 19:28:50 mm420 mattermost[7631]: " (BSD syslog, journald's short form).
const SYSLOG_BSD = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [\w./-]+(?:\[\d+\])?: /;
// "2024-02-06T19:28:50.123456+00:00 mm420 mattermost[7631]: " (RFC 5424-ish, journald short-iso).
const SYSLOG_ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) \S+ [\w./-]+(?:\[\d+\])?: /;
// "mm-mattermost-1   | " (docker compose), "mattermost_app.1.x3k@node1    | " (swarm).
const COMPOSE = /^[A-Za-z0-9][\w.@-]{0,200}\s*\| ?/;

// ---- Record layouts ------------------------------------------------------------------------------------

// 5.x zap console: time, level, caller, message, then the fields as one JSON object, tab-separated.
const ZAP_CONSOLE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\t(\w+)\t(\S+)\t([^\t]*)(?:\t(\{.*\}))?\s*$/;
// 4.x log4go: "[2018/05/03 10:04:41 PDT] [EROR] message".
const LOG4GO = /^\[(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) ([A-Za-z]{1,5}|[+-]\d{4})\] \[([A-Z]{4})\] (.*)$/;
// logr plain/console: "error [2022-07-07 13:50:42.602 +02:00] message caller=\"…\" key=value".
const LOGR_PLAIN = /^([a-z]+)\s+\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? ?(?:Z|[+-]\d\d:?\d\d)?)\]\s+(.*)$/;

// ---- Go error shapes -----------------------------------------------------------------------------------

// net/http: `Post "https://host/path": cause` (Go 1.14+), `Post https://host/path: cause` (older).
const HTTP_QUOTED = /\b(?:Get|Post|Put|Patch|Delete|Head|Options) "(https?:\/\/[^"\s]+)"/;
const HTTP_BARE = /\b(?:Get|Post|Put|Patch|Delete|Head|Options) (https?:\/\/[^\s"]+?):(?:\s|$)/;
// 5.x link previews: "GetOpenGraphMetadata request failed for url=<url> with err=…".
const URL_FIELD = /\burl=(https?:\/\/[^\s"]+)/;
// net.OpError: "dial tcp 52.1.2.3:443: connect: …" (the resolved address), old Go adds "getsockopt:".
// With a local address bound Go writes "dial tcp 10.0.0.5:41234->52.1.2.3:443: …": the remote end is after "->".
const DIAL = /\bdial tcp[46]? (?:\S+?->)?(\[[0-9A-Fa-f:.%\w]+\]|[^\s:[\]]+):(\d{1,5})\b/;
// "read tcp 10.0.0.5:41234->52.1.2.3:443: read: connection reset by peer": the remote is after "->".
const READ_WRITE = /\b(?:read|write) tcp[46]? \S+?->(\[[0-9A-Fa-f:.%\w]+\]|[\d.]+):(\d{1,5})\b/;
// DNS: "lookup smtp.example.com on 10.96.0.10:53: no such host", "lookup postgres: i/o timeout".
const LOOKUP = /\blookup ([A-Za-z0-9_.-]+?)(?: on \S+)?: /;
// Mattermost refused the address itself (AllowedUntrustedInternalConnections): nothing was dialled.
const FORBIDDEN = /address forbidden, you may need to set AllowedUntrustedInternalConnections/;
const FAILURE_WORDS = /fail|error|err=|unable|refused|timeout|reset|EOF/i;

// Fields that name the caller or the code, never the remote end of an outbound call.
const NOT_TARGET_FIELDS = new Set([
  'ip_addr',
  'ip',
  'caller',
  'path',
  'request_id',
  'user_id',
  'method',
  'localAddr',
  'Host',
  'host',
  'level',
  'timestamp',
  'ts',
  'time',
  'msg',
  'message',
  'logger',
  'source',
  'plugin_id',
  'origin',
]);
// Where the error text lives, by Mattermost version and plugin (mattermost-logs.md).
const ERROR_FIELDS = ['error', 'err', 'Error', 'err_details', 'detailed_error', 'errorVerbose'];

interface LogRecord {
  timeMs: number | null;
  message: string;
  /** Error texts first: that is where the target is. */
  texts: string[];
  /** A masked DSN on database ping lines: host and port of the database. */
  dataSource: string | null;
  pod: string | null;
}

export function parseAppLogLine(line: string): AppLogEvent | null {
  try {
    if (typeof line !== 'string') return null;
    const r = read(line);
    return r === null ? null : target(r.rec, r.pod, r.timeMs);
  } catch {
    return null;
  }
}

export const UNTRUSTED_SETTING = 'ServiceSettings.AllowedUntrustedInternalConnections';

/** Mattermost refusing to call an internal address itself: no connection was made, so the mesh is not why. */
export interface MattermostRefusal {
  timeMs: number | null;
  pod: string | null;
  url: string | null;
  /** The host string to list in the setting (as written in the URL), when the line names one. */
  host: string | null;
  /** What to change, in words. */
  advice: string;
}

/** What to change about a refused call, in words: the setting, and the host to list in it. */
export function refusalAdvice(url: string | null, host: string | null): string {
  const what = url !== null ? `Mattermost refused to call ${url} itself` : 'Mattermost refused to call an integration itself';
  return (
    `${what}: the address is internal (private, loopback or link-local) and ${UNTRUSTED_SETTING} does not allow it. ` +
    `This is not the mesh: no connection was made. If the integration is meant to be internal, add ${host !== null ? `"${host}"` : 'its host name'} to ${UNTRUSTED_SETTING} ` +
    '(System Console > Environment > Developer > Allow untrusted internal connections to, or MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS).'
  );
}

export function parseMattermostRefusal(line: string): MattermostRefusal | null {
  try {
    if (typeof line !== 'string' || !line.includes('AllowedUntrustedInternalConnections')) return null;
    const r = read(line);
    if (r === null || !FORBIDDEN.test(r.rec.texts.join('\n'))) return null;
    let url: string | null = null;
    for (const text of r.rec.texts) {
      const m = HTTP_QUOTED.exec(text) ?? HTTP_BARE.exec(text);
      if (m) {
        url = m[1].length > 2048 ? m[1].slice(0, 2048) : m[1];
        break;
      }
    }
    const t = url !== null ? urlTarget(url) : null;
    const host = t === null ? null : (t.host ?? t.ip);
    return {timeMs: r.timeMs, pod: r.pod, url, host, advice: refusalAdvice(url, host)};
  } catch {
    return null;
  }
}

/**
 * True when the call failed before any connection was made (name resolution), so no access-log line can
 * belong to it.
 */
export function failedBeforeConnecting(e: AppLogEvent): boolean {
  return (
    e.ip === null &&
    /\blookup \S+(?: on \S+)?: (?:no such host|Temporary failure in name resolution|i\/o timeout|server misbehaving|Name or service not known)/.test(e.message)
  );
}

function read(raw: string): {rec: LogRecord; pod: string | null; timeMs: number | null} | null {
  let line = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw;
  line = line.replace(/^\ufeff/, '').replace(/\r$/, '');
  // Syslog first: its ISO time would otherwise pass for a kubectl --timestamps prefix.
  let pod: string | null = null;
  let outerTime: number | null = null;
  let body: string;
  const iso = SYSLOG_ISO.exec(line);
  const bsd = iso ? null : SYSLOG_BSD.exec(line);
  if (iso) {
    outerTime = parseTime(iso[1]);
    body = line.slice(iso[0].length);
  } else if (bsd) {
    body = line.slice(bsd[0].length); // no year in it: left to the record's own time
  } else {
    const prefix = splitPrefix(line);
    pod = prefix.pod;
    outerTime = prefix.time !== null ? parseTime(prefix.time) : null;
    body = line.slice(prefix.rest);
    const compose = COMPOSE.exec(body);
    if (compose && /^\s*[{[]|^\s*\d{4}-|^\s*[a-z]+\s+\[/.test(body.slice(compose[0].length))) body = body.slice(compose[0].length);
  }
  const rec = record(body.trim());
  if (rec === null) return null;
  return {rec, pod: pod ?? rec.pod, timeMs: rec.timeMs ?? outerTime};
}

function record(body: string): LogRecord | null {
  if (body === '') return null;
  if (body.startsWith('{')) {
    const fields = parseJsonObject(body);
    if (fields !== null) return fromFields(fields, null, null);
  }
  let m = ZAP_CONSOLE.exec(body);
  if (m) {
    const fields = m[5] !== undefined ? (parseJsonObject(m[5]) ?? {}) : {};
    return fromFields(fields, m[4], parseTime(m[1]));
  }
  m = LOG4GO.exec(body);
  if (m) return plain(m[4], parseLog4goTime(m[1], m[2]));
  m = LOGR_PLAIN.exec(body);
  if (m) {
    const {message, fields} = splitKeyValues(m[3]);
    const rec = fromFields(fields, message, parseTime(m[2]));
    // Unquoted values with spaces ("err=Post https://…: EOF") are cut by the pair syntax: keep the whole text.
    rec.texts.push(m[3]);
    rec.message = m[3];
    return rec;
  }
  // Console output of some versions ends with the fields as JSON after the message.
  const brace = body.indexOf(' {"');
  if (brace > 0 && body.endsWith('}')) {
    const fields = parseJsonObject(body.slice(brace + 1));
    if (fields !== null) return fromFields(fields, body.slice(0, brace), null);
  }
  return plain(body, null);
}

function plain(text: string, timeMs: number | null): LogRecord {
  return {timeMs, message: text, texts: [text], dataSource: null, pod: null};
}

function parseJsonObject(s: string): {[k: string]: unknown} | null {
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as {[k: string]: unknown}) : null;
  } catch {
    return null;
  }
}

function fromFields(fields: {[k: string]: unknown}, consoleMessage: string | null, consoleTime: number | null): LogRecord {
  const msg = typeof fields.msg === 'string' ? fields.msg : typeof fields.message === 'string' ? fields.message : (consoleMessage ?? '');
  const errors: string[] = [];
  for (const k of ERROR_FIELDS) {
    const v = fields[k];
    if (typeof v === 'string' && v !== '' && !(k === 'errorVerbose' && errors.length > 0)) errors.push(v);
  }
  // Other string fields may carry the error under a plugin's own key ("reason", "status", …).
  const others: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string' && !NOT_TARGET_FIELDS.has(k) && !ERROR_FIELDS.includes(k) && k !== 'dataSource') others.push(v);
  }
  let timeMs = consoleTime;
  if (timeMs === null) {
    if (typeof fields.ts === 'number') timeMs = Number.isFinite(fields.ts) ? Math.round(fields.ts * 1000) : null;
    else if (typeof fields.ts === 'string' && /^\d+(?:\.\d+)?$/.test(fields.ts)) timeMs = Math.round(Number(fields.ts) * 1000);
    else if (typeof fields.timestamp === 'string') timeMs = parseTime(fields.timestamp);
    else if (typeof fields.time === 'string') timeMs = parseTime(fields.time);
  }
  const k8s = fields.kubernetes;
  const pod =
    k8s !== null && typeof k8s === 'object' && typeof (k8s as {pod_name?: unknown}).pod_name === 'string' ? (k8s as {pod_name: string}).pod_name : null;
  const message = errors.length > 0 ? `${msg}${msg !== '' ? ': ' : ''}${errors[0]}` : msg;
  return {
    timeMs,
    message,
    texts: [...errors, msg, ...others],
    dataSource: typeof fields.dataSource === 'string' ? fields.dataSource : null,
    pod: pod !== null && /^[a-z0-9][a-z0-9.-]{0,252}$/.test(pod) ? pod : null,
  };
}

/** logr plain text: the message, then ` key=value` / ` key="quoted \"value\""` pairs. */
function splitKeyValues(rest: string): {message: string; fields: {[k: string]: unknown}} {
  const fields: {[k: string]: unknown} = {};
  // The message ends where the first " key=" begins (the leading space lets a key at offset 0 match).
  const firstKey = /\s[A-Za-z_][\w.]*=/.exec(` ${rest}`);
  const cut = firstKey ? firstKey.index : rest.length;
  const message = rest.slice(0, cut).trim();
  const tail = rest.slice(cut);
  const pair = /([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (let m = pair.exec(tail); m !== null; m = pair.exec(tail)) {
    const v = m[2];
    if (v.startsWith('"')) {
      try {
        fields[m[1]] = JSON.parse(v);
      } catch {
        fields[m[1]] = v.slice(1, -1);
      }
    } else fields[m[1]] = v;
  }
  return {message, fields};
}

// ---- Target --------------------------------------------------------------------------------------------

function target(rec: LogRecord, pod: string | null, timeMs: number | null): AppLogEvent | null {
  const all = rec.texts.join('\n');
  if (FORBIDDEN.test(all)) return null;
  let url: string | null = null;
  let host: string | null = null;
  let ip: string | null = null;
  let port: number | null = null;
  let urlPort: number | null = null;

  for (const text of rec.texts) {
    const m = HTTP_QUOTED.exec(text) ?? HTTP_BARE.exec(text) ?? (FAILURE_WORDS.test(text) ? URL_FIELD.exec(text) : null);
    if (!m) continue;
    const t = urlTarget(m[1]);
    if (t === null) continue;
    url = m[1].length > 2048 ? m[1].slice(0, 2048) : m[1];
    host = t.host;
    ip = t.ip;
    urlPort = t.port;
    break;
  }
  for (const text of rec.texts) {
    const m = DIAL.exec(text) ?? READ_WRITE.exec(text);
    if (!m) continue;
    const p = toPort(m[2]);
    // Port 53 is the resolver (127.0.0.11 in Docker, kube-dns in a cluster), never the integration.
    if (p === 53) continue;
    const addr = normalizeIp(m[1]);
    if (addr !== null) {
      ip = addr;
      port = p;
    } else if (host === null) {
      host = hostName(m[1]);
      port = p;
    }
    break;
  }
  // Database ping failures name the database only in the masked DSN.
  if (host === null && url === null && rec.dataSource !== null && FAILURE_WORDS.test(all)) {
    const t = urlTarget(rec.dataSource);
    if (t !== null && t.host !== null) {
      host = t.host;
      if (ip === null) port = t.port;
    }
  }
  if (host === null && url === null) {
    for (const text of rec.texts) {
      const m = LOOKUP.exec(text);
      if (m) {
        host = hostName(m[1]);
        break;
      }
    }
  }
  if (ip !== null && addressScope(ip) === 'loopback') ip = null;
  if (host === 'localhost') host = null;
  if (host === null && ip === null) return null;
  return {
    timeMs,
    pod,
    host,
    ip,
    port: port ?? urlPort,
    url,
    message: clean(rec.message),
  };
}

function clean(s: string): string {
  const t = s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ').trim();
  return t.length > MAX_MESSAGE ? `${t.slice(0, MAX_MESSAGE)}…` : t;
}

// ---- Times ---------------------------------------------------------------------------------------------

const DATE_TIME = /^(\d{4})[-/](\d\d)[-/](\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?\s*(Z|UTC|GMT|[+-]\d\d:?\d\d)?$/i;

/**
 * "2024-10-04 08:21:16.133 Z", "2024-10-04 08:21:16.133 +03:00", RFC 3339 with up to nanoseconds.
 * A time without a zone is read as UTC: containers log in UTC unless TZ is set.
 */
export function parseTime(s: string): number | null {
  const m = DATE_TIME.exec(s.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, se, frac, zone] = m;
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +se > 60) return null;
  const ms = frac !== undefined ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se), ms);
  if (zone !== undefined && /^[+-]/.test(zone)) {
    const z = zone.replace(':', '');
    const offset = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * 60000;
    t -= z.startsWith('-') ? -offset : offset;
  }
  return Number.isFinite(t) ? t : null;
}

// log4go wrote the local zone's abbreviation. Only unambiguous ones are read; others leave the time unknown.
const ZONE_MINUTES: Readonly<{[abbr: string]: number}> = {
  UTC: 0,
  GMT: 0,
  Z: 0,
  WET: 0,
  BST: 60,
  CET: 60,
  CEST: 120,
  EET: 120,
  EEST: 180,
  MSK: 180,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
  AKST: -540,
  AKDT: -480,
  HST: -600,
  JST: 540,
  KST: 540,
  AEST: 600,
  AEDT: 660,
  NZST: 720,
  NZDT: 780,
};

function parseLog4goTime(dateTime: string, zone: string): number | null {
  let offset: number | undefined;
  if (/^[+-]\d{4}$/.test(zone)) offset = (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  else offset = ZONE_MINUTES[zone.toUpperCase()];
  if (offset === undefined) return null;
  const utc = parseTime(dateTime);
  return utc === null ? null : utc - offset * 60000;
}
