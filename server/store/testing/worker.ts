// A child process for the store's tests. "write": commits batches for ever, each moving the resume point
// by exactly the lines it adds, until it is killed ("pg-write": the same on PostgreSQL, the path being a
// postgres:// URL). "claim": takes outbox items until none are left.
import {openPostgresStore} from '../postgres';
import {openSqliteStore} from '../sqlite';
import type {Observation, ObservationBatch} from '../types';

const KEYS = ['203.0.113.1:443', '203.0.113.2:443', 's3.example.test:443', '[2001:db8::1]:25', '198.51.100.7:9200', 'x.example.test:80', 'y.example.test:8443'];

function send(message: unknown): Promise<void> {
  return new Promise((resolve) => process.send?.(message, () => resolve()));
}

/** The next batch after `from`: many observations, so most of the time is spent inside a transaction. */
function nextBatch(sourceId: string, from: string | null, batch: number): ObservationBatch {
  const start = Number(from ?? '0');
  const observations: Observation[] = [];
  for (let i = 0; i < 300; i++) {
    const key = KEYS[(batch + i) % KEYS.length];
    const t = new Date(Date.parse('2024-05-01T00:00:00Z') + (batch * 300 + i) * 1_000).toISOString();
    observations.push({
      key,
      destination: {host: null, ip: null, port: 443},
      verdict: 'blocked',
      protocol: 'TCP',
      count: 1 + (i % 3),
      firstSeen: t,
      lastSeen: t,
      pods: [`mattermost-${i % 4}`],
      samples: [`line ${batch}/${i}`],
    });
  }
  const lines = observations.reduce((n, o) => n + o.count, 0);
  const position = String(start + lines);
  return {sourceId, from, position, observations, notify: () => [{kind: 'digest-update', payload: {position}, dedupeKey: 'digest'}]};
}

async function write(path: string, sourceId: string): Promise<void> {
  // The test compares history with counts; pruning old log times by the real clock would break that.
  const store = openSqliteStore(path, {autoPruneMs: 0});
  for (let batch = 0; ; batch++) {
    const b = nextBatch(sourceId, store.getResumePointSync(sourceId)?.position ?? null, batch);
    store.applyBatchSync(b);
    process.send?.({committed: Number(b.position)});
    // IPC messages leave only when the event loop turns.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function pgWrite(url: string, sourceId: string): Promise<void> {
  const store = await openPostgresStore(url, {autoPruneMs: 0});
  for (let batch = 0; ; batch++) {
    const b = nextBatch(sourceId, (await store.getResumePoint(sourceId))?.position ?? null, batch);
    await store.applyBatch(b);
    process.send?.({committed: Number(b.position)});
  }
}

async function claim(path: string, name: string): Promise<void> {
  const store = openSqliteStore(path, {busyTimeoutMs: 30_000});
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const ids: number[] = [];
  for (;;) {
    const items = await store.claimDue(new Date(), 3, {leaseMs: 600_000});
    if (items.length === 0) break;
    // Delivery takes a network round trip; without one, the first worker would drain the outbox alone.
    await new Promise((resolve) => setTimeout(resolve, 1));
    for (const item of items) {
      ids.push(item.id);
      await store.markDelivered(item.id, name);
    }
  }
  await store.close();
  await send({ids});
  process.exit(0);
}

function fail(e: unknown): never {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
}

const [mode, path, arg] = process.argv.slice(2);
if (mode === 'write') write(path, arg).catch(fail);
else if (mode === 'pg-write') pgWrite(path, arg).catch(fail);
else if (mode === 'claim') {
  claim(path, arg).catch(fail);
  process.send?.({ready: true});
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
