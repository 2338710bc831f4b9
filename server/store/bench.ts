// Store throughput for `npm run bench`: how many folded observations per second applyBatch commits, in
// batches as a live source would send them (each with its resume point, each its own transaction).
import {openSqliteStore} from './sqlite';
import type {Observation} from './types';

export interface BenchOptions {
  batchSize?: number;
  /** Distinct destinations the observations spread over. */
  destinations?: number;
}

export interface BenchResult {
  observations: number;
  batches: number;
  seconds: number;
  observationsPerSecond: number;
}

function observation(i: number, destinations: number, t: number): Observation {
  const d = i % destinations;
  const time = new Date(t).toISOString();
  return {
    key: `198.51.100.${d % 250}:${1_000 + Math.floor(d / 250)}`,
    destination: {host: null, ip: `198.51.100.${d % 250}`, port: 1_000 + Math.floor(d / 250)},
    verdict: 'blocked',
    protocol: 'TCP',
    count: 1 + (i % 7),
    firstSeen: time,
    lastSeen: time,
    pods: [`mattermost-${i % 3}`],
    samples: [`[${time}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "198.51.100.${d % 250}:443" BlackHoleCluster - 198.51.100.${d % 250}:443`],
  };
}

/** `path` must name a new or disposable database file. */
export function benchApplyBatch(path: string, n: number, opts: BenchOptions = {}): BenchResult {
  const batchSize = Math.max(1, opts.batchSize ?? 500);
  const destinations = Math.max(1, opts.destinations ?? 1_000);
  const store = openSqliteStore(path);
  try {
    let position: string | null = store.getResumePointSync('bench')?.position ?? null;
    const t0 = Date.parse('2024-05-01T00:00:00Z');
    const started = process.hrtime.bigint();
    let batches = 0;
    for (let done = 0; done < n; done += batchSize) {
      const observations: Observation[] = [];
      for (let i = done; i < Math.min(n, done + batchSize); i++) observations.push(observation(i, destinations, t0 + i * 10));
      const next = `bench:${batches}:${done + observations.length}`;
      store.applyBatchSync({sourceId: 'bench', from: position, position: next, observations});
      position = next;
      batches += 1;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {observations: n, batches, seconds, observationsPerSecond: seconds > 0 ? n / seconds : Infinity};
  } finally {
    store.closeSync();
  }
}
