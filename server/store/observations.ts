// The folder's per-destination statistics as store observations, for a bridge that stores lines before
// (or without) attributing them; buildFindings() output needs no conversion.
import type {DestinationStats} from '../engine/findings';
import type {Observation} from './types';

export function observationFromStats(s: DestinationStats): Observation {
  return {
    key: s.key,
    destination: {host: s.host, ip: s.ip, port: s.port},
    verdict: s.verdict,
    protocol: s.protocol,
    count: s.count,
    firstSeen: s.firstSeen,
    lastSeen: s.lastSeen,
    pods: s.pods,
    samples: s.samples,
  };
}
