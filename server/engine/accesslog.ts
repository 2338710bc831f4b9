// Envoy access-log lines as istio-proxy writes them: Istio's default TEXT layouts of every release and the
// JSON encoding. Parsing never throws; anything that is not an access-log record says what it is instead.
import type {AccessRecord, ParsedLine} from './types';
import {splitPrefix} from './prefix';

/** Lines longer than this are not access-log records anyone configured; they are reported, not parsed. */
export const MAX_RECORD_CHARS = 64 * 1024;

type Field = keyof Omit<AccessRecord, 'encoding' | 'layout' | 'pod' | 'container'> | 'request' | 'mixer' | 'skip';

// Field order after "[%START_TIME%] " for each default TEXT layout Istio has shipped (istio-egress.md §1).
// The signature string is q for a quoted token and u for a bare one; together with the count it tells the
// layouts apart without trusting any single field.
const R: Field = 'request';
const TAIL_19: Field[] = ['upstreamLocalAddress', 'downstreamLocalAddress', 'downstreamRemoteAddress'];
const MIDDLE: Field[] = ['bytesReceived', 'bytesSent', 'durationMs', 'skip', 'skip', 'userAgent', 'skip', 'authority', 'upstreamHost', 'upstreamCluster'];

interface Layout {
  name: string;
  signature: string;
  fields: Field[];
}

const LAYOUTS: Layout[] = [
  {
    name: 'istio-1.9+',
    signature: 'quuuuquuuuqqqqquuuuuu',
    fields: [
      R,
      'responseCode',
      'responseFlags',
      'responseCodeDetails',
      'connectionTerminationDetails',
      'upstreamTransportFailureReason',
      ...MIDDLE,
      ...TAIL_19,
      'requestedServerName',
      'routeName',
    ],
  },
  {
    name: 'istio-1.3-1.7',
    signature: 'quuqquuuuqqqqquuuuuu',
    fields: [R, 'responseCode', 'responseFlags', 'mixer', 'upstreamTransportFailureReason', ...MIDDLE, ...TAIL_19, 'requestedServerName', 'routeName'],
  },
  {
    name: 'istio-1.8',
    signature: 'quuquuuuqqqqquuuuuu',
    fields: [R, 'responseCode', 'responseFlags', 'upstreamTransportFailureReason', ...MIDDLE, ...TAIL_19, 'requestedServerName', 'routeName'],
  },
  {
    name: 'istio-1.2',
    signature: 'quuqquuuuqqqqquuuuu',
    fields: [R, 'responseCode', 'responseFlags', 'mixer', 'upstreamTransportFailureReason', ...MIDDLE, ...TAIL_19, 'requestedServerName'],
  },
  {
    name: 'istio-1.1',
    signature: 'quuquuuuqqqqquuuuu',
    fields: [R, 'responseCode', 'responseFlags', 'mixer', ...MIDDLE, ...TAIL_19, 'requestedServerName'],
  },
  {
    name: 'istio-1.1-pre',
    signature: 'quuuuuuqqqqquuuuu',
    fields: [R, 'responseCode', 'responseFlags', ...MIDDLE, ...TAIL_19, 'requestedServerName'],
  },
  {
    name: 'istio-1.0-http',
    signature: 'quuuuuuqqqqquuuu',
    fields: [R, 'responseCode', 'responseFlags', ...MIDDLE, ...TAIL_19],
  },
  {
    name: 'envoy-default',
    signature: 'quuuuuuqqqqq',
    fields: [R, 'responseCode', 'responseFlags', 'bytesReceived', 'bytesSent', 'durationMs', 'skip', 'skip', 'userAgent', 'skip', 'authority', 'upstreamHost'],
  },
  {
    name: 'istio-1.0-tcp',
    signature: 'uuuuquuuu',
    fields: ['responseFlags', 'bytesReceived', 'bytesSent', 'durationMs', 'upstreamHost', 'upstreamCluster', ...TAIL_19],
  },
];

const LAYOUT_BY_SIGNATURE = new Map(LAYOUTS.map((l) => [l.signature, l]));

// The leading bracket is often lost when a line is pasted; the record still starts with its time.
const START_TIME = /^\[?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\] /;
// A TEXT record pasted without its time starts with the quoted request ("GET / HTTP/1.1", "- - -").
const BARE_REQUEST = /^"(?:- - -|[A-Z]+ \S+ [A-Z]+\/[\d.]+|[A-Z]+ \S*)" \d{1,3} /;
// A quoted token starts a field and its closing quote ends one; Envoy escapes nothing, so a quote inside a
// bare field (an SNI an attacker chose) stays part of that field, and a shape broken by a quote inside a
// quoted field is left to the cluster-anchored fallback.
const TOKEN = /"[^"]*"(?=\s|$)|\S+/g;
const CLUSTER_LIKE = /^(?:BlackHoleCluster|PassthroughCluster|InboundPassthroughCluster(?:Ipv[46])?|AllowAnyDynamicDNSCluster|outbound\||inbound\|)/;

export function emptyRecord(encoding: 'text' | 'json', layout: string): AccessRecord {
  return {
    encoding,
    layout,
    pod: null,
    container: null,
    startTime: null,
    method: null,
    path: null,
    httpProtocol: null,
    responseCode: null,
    responseFlags: [],
    responseCodeDetails: null,
    connectionTerminationDetails: null,
    upstreamTransportFailureReason: null,
    bytesReceived: null,
    bytesSent: null,
    durationMs: null,
    userAgent: null,
    authority: null,
    upstreamHost: null,
    upstreamCluster: null,
    upstreamLocalAddress: null,
    downstreamLocalAddress: null,
    downstreamRemoteAddress: null,
    requestedServerName: null,
    routeName: null,
  };
}

/** "-" and empty mean absent in Envoy's text format. */
function value(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const v = raw.length >= 2 && raw.charCodeAt(0) === 34 && raw.charCodeAt(raw.length - 1) === 34 ? raw.slice(1, -1) : raw;
  return v === '-' || v === '' ? null : v;
}

function numberOrNull(v: string | null): number | null {
  if (v === null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

export function clusterName(v: string | null): string | null {
  // 1.23–1.24.1 JSON (and custom formats using %UPSTREAM_CLUSTER%) print the alt-stat name with a trailing ";".
  if (v === null) return null;
  const stripped = v.endsWith(';') ? v.slice(0, -1) : v;
  return stripped === '' || stripped === '-' ? null : stripped;
}

function flags(v: string | null): string[] {
  return v === null ? [] : v.split(',').filter((f) => f !== '' && f !== '-');
}

function applyRequest(rec: AccessRecord, raw: string): void {
  const req = value(raw);
  if (req === null || req === '- - -') return;
  const parts = req.split(' ');
  rec.method = value(parts[0]);
  if (parts.length >= 3) {
    rec.httpProtocol = value(parts[parts.length - 1]);
    rec.path = value(parts.slice(1, -1).join(' '));
  } else {
    // Istio 1.0.3–1.0.9 dropped the space between the path and the protocol.
    const m = /^(.*?)(HTTP\/[0-9.]+)$/.exec(parts[1] ?? '');
    rec.path = m ? value(m[1]) : value(parts[1]);
    rec.httpProtocol = m ? m[2] : null;
  }
}

function assign(rec: AccessRecord, field: Field, raw: string): void {
  switch (field) {
    case 'request':
      applyRequest(rec, raw);
      return;
    case 'mixer':
    case 'skip':
      return;
    case 'responseCode':
      rec.responseCode = numberOrNull(value(raw));
      return;
    case 'responseFlags':
      rec.responseFlags = flags(value(raw));
      return;
    case 'bytesReceived':
    case 'bytesSent':
    case 'durationMs':
      rec[field] = numberOrNull(value(raw));
      return;
    case 'upstreamCluster':
      rec.upstreamCluster = clusterName(value(raw));
      return;
    default:
      (rec as unknown as Record<string, string | null>)[field] = value(raw);
  }
}

/** Custom formats that append or insert fields: anchor on the cluster token, the tail is stable around it. */
function parseAroundCluster(tokens: string[], rec: AccessRecord): boolean {
  const c = tokens.findIndex((t) => CLUSTER_LIKE.test(t));
  if (c < 0) return false;
  rec.layout = 'custom';
  applyRequest(rec, tokens[0].startsWith('"') ? tokens[0] : '"- - -"');
  assign(rec, 'upstreamCluster', tokens[c]);
  if (tokens[c - 1]?.startsWith('"')) assign(rec, 'upstreamHost', tokens[c - 1]);
  if (tokens[c - 2]?.startsWith('"')) assign(rec, 'authority', tokens[c - 2]);
  const tail: Field[] = [...TAIL_19, 'requestedServerName', 'routeName'];
  tail.forEach((f, i) => {
    if (tokens[c + 1 + i] !== undefined) assign(rec, f, tokens[c + 1 + i]);
  });
  const code = tokens[1] !== undefined ? numberOrNull(value(tokens[1])) : null;
  rec.responseCode = code;
  if (tokens[2] !== undefined && /^[A-Z,-]+$/.test(tokens[2])) rec.responseFlags = flags(value(tokens[2]));
  return true;
}

function parseText(body: string, time: string | null): AccessRecord | null {
  const tokens = body.match(TOKEN) ?? [];
  let signature = '';
  for (const t of tokens) signature += t.length >= 2 && t.charCodeAt(0) === 34 && t.charCodeAt(t.length - 1) === 34 ? 'q' : 'u';
  const layout = LAYOUT_BY_SIGNATURE.get(signature);
  const rec = emptyRecord('text', layout?.name ?? 'custom');
  rec.startTime = time;
  if (layout) {
    layout.fields.forEach((f, i) => assign(rec, f, tokens[i]));
    return rec;
  }
  return parseAroundCluster(tokens, rec) ? rec : null;
}

const JSON_KEYS: [string, Field][] = [
  ['start_time', 'startTime'],
  ['method', 'method'],
  ['path', 'path'],
  ['protocol', 'httpProtocol'],
  ['response_code', 'responseCode'],
  ['response_flags', 'responseFlags'],
  ['response_code_details', 'responseCodeDetails'],
  ['connection_termination_details', 'connectionTerminationDetails'],
  ['upstream_transport_failure_reason', 'upstreamTransportFailureReason'],
  ['bytes_received', 'bytesReceived'],
  ['bytes_sent', 'bytesSent'],
  ['duration', 'durationMs'],
  ['user_agent', 'userAgent'],
  ['authority', 'authority'],
  ['upstream_host', 'upstreamHost'],
  ['upstream_cluster', 'upstreamCluster'],
  ['upstream_local_address', 'upstreamLocalAddress'],
  ['downstream_local_address', 'downstreamLocalAddress'],
  ['downstream_remote_address', 'downstreamRemoteAddress'],
  ['requested_server_name', 'requestedServerName'],
  ['route_name', 'routeName'],
];

const FLAT_KEY = new RegExp(`(?:^|[\\s,{;|])"?(${JSON_KEYS.map(([k]) => k).join('|')})"?\\s*[:=]\\s*("[^"]*"|[^\\s,}]*)`, 'g');

/**
 * A JSON record as log shippers flatten it: `key:value` or `key=value` pairs, quotes and braces lost or
 * kept, values without spaces (the addresses, cluster, flags and names the verdict needs have none).
 */
function parseFlattened(body: string): Record<string, unknown> | null {
  if (!body.includes('upstream_cluster') && !body.includes('downstream_local_address')) return null;
  const o: Record<string, unknown> = {};
  FLAT_KEY.lastIndex = 0;
  for (let m = FLAT_KEY.exec(body); m !== null; m = FLAT_KEY.exec(body)) {
    const raw = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
    o[m[1]] = raw === '' || raw === 'null' || raw === '-' ? null : raw;
  }
  return 'upstream_cluster' in o || 'downstream_local_address' in o ? o : null;
}

function parseJson(body: string): AccessRecord | null {
  let obj: unknown;
  try {
    obj = JSON.parse(body);
  } catch {
    obj = parseFlattened(body);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return null;
  const o = obj as Record<string, unknown>;
  // An Envoy record always names its upstream cluster or at least its addresses; other JSON (ztunnel,
  // Mattermost's own logs) does not.
  if (!('upstream_cluster' in o) && !('downstream_local_address' in o)) return null;
  const layout = 'response_code_details' in o ? 'json-1.9+' : 'istio_policy_status' in o ? 'json-1.1-1.7' : 'json';
  const rec = emptyRecord('json', layout);
  for (const [key, field] of JSON_KEYS) {
    const v = o[key];
    if (v === null || v === undefined) continue;
    const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
    if (s !== null) assign(rec, field, field === 'startTime' ? s : s === '' ? '-' : s);
  }
  // The request line arrives split; re-derive nothing, but TCP shows "-" pieces.
  if (rec.method === '-') rec.method = null;
  return rec;
}

// ztunnel (ambient mode): "<time>\t<level>\taccess\tconnection complete\tsrc.addr=… dst.hbone_addr=… direction=…",
// tabs often rendered as spaces, the time sometimes behind a viewer's "<time> | " or removed.
const ZTUNNEL = /^(?:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)\s+)?(?:debug|info|warn|error)\s+access\s+connection (?:complete|opened)\s+(.*)$/;
const ZTUNNEL_PAIR = /([a-z_.]+)=("(?:[^"\\]|\\.)*"|\S*)/g;

function parseZtunnel(body: string): AccessRecord | null {
  const m = ZTUNNEL.exec(body.replace(/^\s*(?:\d{4}-\d\d-\d\dT\S+\s+)?\|\s+/, '').trimStart());
  if (m === null) return null;
  const kv = new Map<string, string>();
  ZTUNNEL_PAIR.lastIndex = 0;
  for (let p = ZTUNNEL_PAIR.exec(m[2]); p !== null; p = ZTUNNEL_PAIR.exec(m[2])) kv.set(p[1], p[2].startsWith('"') ? p[2].slice(1, -1) : p[2]);
  const rec = emptyRecord('text', 'ztunnel');
  rec.startTime = m[1] ?? null;
  const dst = kv.get('dst.hbone_addr') ?? kv.get('dst.addr') ?? null;
  const service = kv.get('dst.service') ?? null;
  const inbound = kv.get('direction') === 'inbound';
  rec.downstreamLocalAddress = dst;
  rec.downstreamRemoteAddress = kv.get('src.addr') ?? null;
  rec.upstreamHost = kv.get('dst.addr') ?? null;
  const port = dst === null ? '' : (/:(\d{1,5})$/.exec(dst)?.[1] ?? '');
  // ztunnel names no cluster: the service it matched stands in for one, so the usual rules apply.
  rec.upstreamCluster = inbound ? `inbound|${port}||` : service !== null ? `outbound|${port}||${service}` : null;
  rec.upstreamTransportFailureReason = kv.get('error') ?? null;
  if (rec.upstreamTransportFailureReason !== null) rec.responseFlags = ['UF'];
  const bytes = (k: string): number | null => numberOrNull(kv.get(k) ?? null);
  rec.bytesSent = bytes('bytes_sent');
  rec.bytesReceived = bytes('bytes_recv');
  return rec;
}

/** Why a line is not an access-log record, in words for the `reason` field. */
function otherReason(body: string): string {
  if (body.trim() === '') return 'empty line';
  if (/^\d{4}-\d\d-\d\dT[^\t]*\t(?:debug|info|warn|warning|error|critical|fatal)\t/i.test(body)) {
    if (/\taccess\tconnection complete/.test(body)) {
      return 'ztunnel (ambient mode) access line: sidecar REGISTRY_ONLY does not apply to ambient traffic';
    }
    return 'istio-proxy/pilot-agent log message, not an access-log record';
  }
  if (/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\]\[/.test(body)) return 'Envoy native log message, not an access-log record';
  if (/^-*FLAG: /.test(body)) return 'pilot-agent flag dump, not an access-log record';
  if (body.startsWith('{')) return 'JSON line that is not an Envoy access-log record';
  return 'not an access-log record in a known Istio format';
}

export function parseAccessLine(input: string): ParsedLine {
  let line = input;
  if (line.length > MAX_RECORD_CHARS) {
    return {kind: 'other', reason: `line too long to be an access-log record (${line.length} characters)`, pod: null, time: null};
  }
  if (line.endsWith('\r')) line = line.slice(0, -1);
  const prefix = splitPrefix(line);
  const body = prefix.rest > 0 ? line.slice(prefix.rest) : line;
  let rec: AccessRecord | null = null;
  const first = body.charCodeAt(0);
  if (first === 91 /* [ */ || (first >= 48 && first <= 57) /* a digit: the time without its bracket */) {
    const m = START_TIME.exec(body);
    if (m) rec = parseText(body.slice(m[0].length), m[1]);
    else if (first !== 91) rec = parseZtunnel(body);
  } else if (first === 34 /* " */) {
    if (BARE_REQUEST.test(body)) rec = parseText(body, null);
  } else if (first === 123 /* { */) {
    rec = parseJson(body);
  } else if (body.length > 0) {
    rec = parseZtunnel(body) ?? parseJson(body);
  }
  if (!rec) return {kind: 'other', reason: otherReason(body), pod: prefix.pod, time: prefix.time};
  rec.pod = prefix.pod;
  rec.container = prefix.container;
  if (rec.startTime === null) rec.startTime = prefix.time;
  return {kind: 'access', record: rec};
}
