// Builders for the suggestion tests: a complete Finding from only the fields a test cares about.
import type {Finding} from '../types';

export interface FindingSpec {
  host?: string | null;
  ip?: string | null;
  port?: number;
  verdict?: Finding['verdict'];
  protocol?: Finding['protocol'];
  features?: Finding['features'];
  attribution?: Partial<Finding['attribution']>;
  rejectedHost?: Finding['rejectedHost'];
  key?: string;
}

export function finding(spec: FindingSpec): Finding {
  const host = spec.host === undefined ? null : spec.host;
  const ip = spec.ip === undefined ? null : spec.ip;
  const port = spec.port ?? 443;
  const f: Finding = {
    key: spec.key ?? `${host ?? ip ?? 'unknown'}:${port}`,
    destination: {host, ip, port},
    verdict: spec.verdict ?? 'blocked',
    protocol: spec.protocol ?? 'TLS',
    count: 1,
    firstSeen: null,
    lastSeen: null,
    pods: [],
    samples: [],
    attribution: {
      host,
      candidates: [],
      method: host === null ? 'none' : 'sni',
      confidence: host === null ? 'unknown' : 'certain',
      note: '',
      ...spec.attribution,
    },
    features: spec.features ?? [],
  };
  if (spec.rejectedHost !== undefined) {
    f.rejectedHost = spec.rejectedHost;
  }
  return f;
}
