// What enters the store from traffic is attacker-controlled. Structural mistakes (a count that is not a
// number) are the caller's bugs and throw; oversized or odd content is cut to the limits instead, because a
// batch that could never be stored would stall its source forever.
import {VERDICTS} from '../../common/types';
import type {Attribution, Finding, PortProtocol, Verdict} from '../../common/types';
import {printable} from '../engine/hostname';
import {StoreInputError} from './errors';
import type {Actor, Observation, StoreLimits} from './types';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** UTF-8 cannot encode a lone surrogate; SQLite would store bytes that read back as garbage. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/** Cuts on a code point boundary, so a surrogate pair is never split into two lone halves. */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end -= 1;
  return s.slice(0, end);
}

export function text(s: string, max: number): string {
  return cut(wellFormed(s), max);
}

/** For values a person typed (reasons, meta keys): too long is an answer for them, not something to cut. */
export function requireText(name: string, value: unknown, max: number, allowEmpty = false): string {
  if (typeof value !== 'string') throw new StoreInputError(`${name} must be a string`);
  if (!allowEmpty && value.length === 0) throw new StoreInputError(`${name} must not be empty`);
  if (value.length > max) throw new StoreInputError(`${name} is longer than ${max} characters`);
  return wellFormed(value);
}

export function requireActor(by: Actor): Actor {
  if (by === null || typeof by !== 'object') throw new StoreInputError('the actor must be {userId, username}');
  return {userId: requireText('userId', by.userId, 128), username: requireText('username', by.username, 128)};
}

const PROTOCOLS: ReadonlySet<string> = new Set<PortProtocol>(['HTTP', 'TLS', 'TCP']);
const CONFIDENCES = new Set(['certain', 'likely', 'ambiguous', 'unknown']);
const METHODS = new Set(['sni', 'authority', 'cluster', 'connection-test', 'app-log', 'dns', 'well-known', 'port', 'none']);
const VERDICT_SET: ReadonlySet<string> = new Set<string>(VERDICTS);

function optionalText(s: unknown, max: number): string | null {
  return typeof s === 'string' ? text(s, max) : null;
}

/** Log times are compared as strings (as the engine does); anything that is not a short string is dropped. */
function logTime(s: unknown): string | null {
  return typeof s === 'string' && s.length > 0 && s.length <= 64 ? wellFormed(s) : null;
}

function uniqueTexts(items: unknown, maxItems: number, maxChars: number): string[] {
  if (!Array.isArray(items)) return [];
  const out: string[] = [];
  for (const item of items) {
    if (out.length >= maxItems) break;
    if (typeof item !== 'string') continue;
    const t = text(item, maxChars);
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

function attributionOf(a: Attribution | undefined, host: string | null, L: StoreLimits): Attribution {
  if (a === undefined || a === null || typeof a !== 'object') {
    return {host, candidates: host === null ? [] : [host], method: 'none', confidence: 'unknown', note: ''};
  }
  return {
    host: optionalText(a.host, L.textChars),
    candidates: uniqueTexts(a.candidates, L.candidates, L.textChars),
    method: METHODS.has(a.method) ? a.method : 'none',
    confidence: CONFIDENCES.has(a.confidence) ? a.confidence : 'unknown',
    note: optionalText(a.note, L.textChars) ?? '',
  };
}

/** Validates the shape and bounds the content; the result is a complete Finding covering this batch. */
export function normaliseObservation(o: Observation, L: StoreLimits): Finding {
  if (o === null || typeof o !== 'object') throw new StoreInputError('an observation must be an object');
  if (typeof o.key !== 'string' || o.key.length === 0) throw new StoreInputError('an observation needs a non-empty key');
  if (!Number.isSafeInteger(o.count) || o.count < 0) throw new StoreInputError('an observation count must be a non-negative integer');
  if (!VERDICT_SET.has(o.verdict)) throw new StoreInputError('unknown verdict');
  if (!PROTOCOLS.has(o.protocol)) throw new StoreInputError('unknown protocol');
  const d = o.destination;
  if (d === null || typeof d !== 'object') throw new StoreInputError('an observation needs a destination');
  const port = Number.isInteger(d.port) && d.port >= 0 && d.port <= 65_535 ? d.port : 0;
  const host = optionalText(d.host, L.textChars);
  const finding: Finding = {
    key: text(o.key, L.textChars),
    destination: {host, ip: optionalText(d.ip, L.textChars), port},
    verdict: o.verdict as Verdict,
    protocol: o.protocol,
    count: o.count,
    firstSeen: logTime(o.firstSeen),
    lastSeen: logTime(o.lastSeen),
    pods: uniqueTexts(o.pods, L.pods, L.podChars),
    // printable() is idempotent, so samples the engine already made printable are stored as they are.
    samples: (Array.isArray(o.samples) ? o.samples : [])
      .filter((s): s is string => typeof s === 'string')
      .slice(0, L.samples)
      .map((s) => printable(s, L.sampleChars)),
    attribution: attributionOf(o.attribution, host, L),
    features: (Array.isArray(o.features) ? o.features : [])
      .filter((f) => f !== null && typeof f === 'object')
      .slice(0, L.features)
      .map((f) => ({id: text(String(f.id), L.textChars), name: text(String(f.name), L.textChars), configPath: text(String(f.configPath), L.textChars)})),
  };
  if (o.rejectedHost !== undefined && o.rejectedHost !== null && typeof o.rejectedHost === 'object') {
    finding.rejectedHost = {
      printable: printable(String(o.rejectedHost.printable), L.textChars),
      reason: text(String(o.rejectedHost.reason), L.textChars),
    };
  }
  if (finding.firstSeen !== null && finding.lastSeen !== null && finding.firstSeen > finding.lastSeen) {
    [finding.firstSeen, finding.lastSeen] = [finding.lastSeen, finding.firstSeen];
  }
  return finding;
}
