// How a batch's lines for one destination fold into what the store already knows about it. Pure, so every
// store implementation merges the same way and the rules can be tested without a database.
import type {Confidence, Finding, PortProtocol} from '../../common/types';
import type {StoreLimits} from './types';

const CONFIDENCE_RANK: Record<Confidence, number> = {unknown: 0, ambiguous: 1, likely: 2, certain: 3};
const PROTOCOL_RANK: Record<PortProtocol, number> = {TCP: 0, TLS: 1, HTTP: 2};

function minTime(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a < b ? a : b;
}

function maxTime(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

function union<T>(a: readonly T[], b: readonly T[], max: number, id: (t: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const t of [...a, ...b]) {
    if (out.length >= max) break;
    const k = id(t);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(t);
  }
  return out;
}

/**
 * `delta` covers only the new lines. Counts add up; the newer side (by log time, or by arrival when lines
 * carry no time) states the current verdict and advice, as the engine's own fold does.
 */
export function mergeFinding(prev: Finding | null, delta: Finding, L: StoreLimits): Finding {
  if (prev === null) {
    return {...delta, pods: delta.pods.slice(0, L.pods), samples: delta.samples.slice(0, L.samples), features: delta.features.slice(0, L.features)};
  }
  const deltaIsNewer = delta.lastSeen === null || prev.lastSeen === null || delta.lastSeen >= prev.lastSeen;
  const newer = deltaIsNewer ? delta : prev;
  const older = deltaIsNewer ? prev : delta;
  // Samples of another verdict describe a situation that is over; an administrator needs the current one.
  const verdictChanged = deltaIsNewer && delta.verdict !== prev.verdict && delta.count > 0;
  const staleLines = !deltaIsNewer && delta.verdict !== prev.verdict;
  const keepAttribution = CONFIDENCE_RANK[prev.attribution.confidence] > CONFIDENCE_RANK[delta.attribution.confidence];
  const merged: Finding = {
    key: prev.key,
    destination: {
      host: newer.destination.host ?? older.destination.host,
      ip: prev.destination.ip ?? delta.destination.ip,
      port: prev.destination.port,
    },
    verdict: newer.verdict,
    protocol: PROTOCOL_RANK[delta.protocol] > PROTOCOL_RANK[prev.protocol] ? delta.protocol : prev.protocol,
    count: Math.min(Number.MAX_SAFE_INTEGER, prev.count + delta.count),
    firstSeen: minTime(prev.firstSeen, delta.firstSeen),
    lastSeen: maxTime(prev.lastSeen, delta.lastSeen),
    pods: union(prev.pods, delta.pods, L.pods, (p) => p),
    samples: verdictChanged
      ? delta.samples.slice(0, L.samples)
      : staleLines
        ? prev.samples.slice(0, L.samples)
        : [...prev.samples, ...delta.samples].slice(0, L.samples),
    attribution: keepAttribution ? prev.attribution : delta.attribution,
    features: union(prev.features, delta.features, L.features, (f) => `${f.id}|${f.configPath}`),
  };
  const rejected = newer.rejectedHost ?? older.rejectedHost;
  if (rejected !== undefined) merged.rejectedHost = rejected;
  return merged;
}

/**
 * A finding named again (reattributeOpen): its new name, attribution and features, merged into the
 * finding that already holds its new key if there is one. The moved finding's lines are added as a batch's
 * would be, so every line is counted once.
 */
export function renamedFinding(
  source: Finding,
  next: Pick<Finding, 'key' | 'attribution' | 'features'> & {host: string | null},
  target: Finding | null,
  L: StoreLimits,
): Finding {
  const named: Finding = {
    ...source,
    key: next.key,
    destination: {...source.destination, host: next.host},
    attribution: next.attribution,
    features: next.features.slice(0, L.features),
  };
  return mergeFinding(target, named, L);
}
