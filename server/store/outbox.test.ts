import {join} from 'node:path';
import {StoreInputError} from './errors';
import {openSqliteStore, type SqliteStore} from './sqlite';
import {exited, forkTs, removeDir, tempDir} from './testing/support';
import {STORE_KINDS, TestStoreHome} from './testing/stores';
import type {Store} from './types';

const WORKER = join(__dirname, 'testing', 'worker.ts');

// The outbox's semantics, against both implementations.
describe.each(STORE_KINDS)('%s store', (kind) => {
  const home = new TestStoreHome(kind);
  let dir: string;
  let now: number;
  let store: Store;

  beforeAll(() => home.setUp(), 30_000);
  afterAll(() => home.tearDown(), 30_000);
  beforeEach(async () => {
    dir = tempDir();
    await home.reset(dir);
    now = Date.parse('2024-05-01T12:00:00Z');
    store = await home.open({clock: () => now});
  });
  afterEach(async () => {
    await store.close();
    removeDir(dir);
  });

  const at = (ms: number) => new Date(ms);

  describe('enqueue', () => {
    it('merges into the pending item with the same dedupe key instead of adding one', async () => {
      const a = await store.enqueue({kind: 'digest-update', payload: {total: 1}, dedupeKey: 'digest:2024-05-01'});
      now += 1_000;
      const b = await store.enqueue({kind: 'digest-update', payload: {total: 1_000_000}, dedupeKey: 'digest:2024-05-01'});
      expect(a).toEqual({id: a.id, merged: false});
      expect(b).toEqual({id: a.id, merged: true});
      expect(await store.outboxDepth()).toBe(1);
      expect(await store.getOutboxItem(a.id)).toMatchObject({payload: {total: 1_000_000}, updatedAt: '2024-05-01T12:00:01.000Z', attempts: 0});
    });

    it('keeps the kind and due time of the pending item it merges into', async () => {
      const a = await store.enqueue({kind: 'alert-new', payload: {v: 1}, dedupeKey: 'finding:x', availableAt: at(now + 30_000)});
      await store.enqueue({kind: 'alert-update', payload: {v: 2}, dedupeKey: 'finding:x', availableAt: at(now + 90_000)});
      expect(await store.getOutboxItem(a.id)).toMatchObject({kind: 'alert-new', payload: {v: 2}, nextAttemptAt: '2024-05-01T12:00:30.000Z'});
    });

    it('never merges into an item a worker is delivering', async () => {
      const a = await store.enqueue({kind: 'digest-update', payload: {total: 1}, dedupeKey: 'd'});
      const [claimed] = await store.claimDue(at(now), 10);
      const b = await store.enqueue({kind: 'digest-update', payload: {total: 2}, dedupeKey: 'd'});
      expect(b.merged).toBe(false);
      expect(b.id).not.toBe(a.id);
      expect(claimed.payload).toEqual({total: 1});
      expect(await store.outboxDepth()).toBe(2);
    });

    it('keeps items without a dedupe key apart', async () => {
      await store.enqueue({kind: 'notice', payload: 'x'});
      await store.enqueue({kind: 'notice', payload: 'x'});
      expect(await store.outboxDepth()).toBe(2);
    });

    it('refuses payloads that are not JSON or too large, and malformed kinds', async () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(store.enqueue({kind: 'notice', payload: cyclic})).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.enqueue({kind: 'notice', payload: 10n})).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.enqueue({kind: 'notice', payload: undefined})).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.enqueue({kind: 'notice', payload: 'x'.repeat(300 * 1024)})).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.enqueue({kind: "notice'); DROP TABLE outbox; --" as 'notice', payload: 1})).rejects.toBeInstanceOf(StoreInputError);
      expect(await store.outboxDepth()).toBe(0);
    });
  });

  describe('claim and delivery', () => {
    it('claims due items in order, counts the attempt, and never hands out a delivered item again', async () => {
      const first = await store.enqueue({kind: 'alert-new', payload: 1});
      const later = await store.enqueue({kind: 'alert-new', payload: 2, availableAt: at(now + 60_000)});
      const claimed = await store.claimDue(at(now), 10);
      expect(claimed.map((c) => [c.id, c.attempts, c.state])).toEqual([[first.id, 1, 'claimed']]);
      expect(await store.claimDue(at(now), 10)).toEqual([]);
      expect(await store.markDelivered(first.id, 'post-1')).toBe(true);
      expect(await store.markDelivered(first.id, 'post-1')).toBe(false);
      expect(await store.getOutboxItem(first.id)).toMatchObject({state: 'delivered', result: 'post-1', deliveredAt: '2024-05-01T12:00:00.000Z'});
      const afterLease = await store.claimDue(at(now + 3_600_000), 10);
      expect(afterLease.map((c) => c.id)).toEqual([later.id]);
      expect(await store.outboxDepth()).toBe(1);
    });

    it('retries a failed item at the time given and not before', async () => {
      const {id} = await store.enqueue({kind: 'alert-new', payload: 1});
      const [c] = await store.claimDue(at(now), 1);
      expect(await store.markFailed(id, 'HTTP 503 from Mattermost', at(now + 2_000), c.claimToken)).toBe(true);
      expect(await store.getOutboxItem(id)).toMatchObject({state: 'pending', lastError: 'HTTP 503 from Mattermost', nextAttemptAt: '2024-05-01T12:00:02.000Z'});
      expect(await store.claimDue(at(now + 1_999), 1)).toEqual([]);
      const [again] = await store.claimDue(at(now + 2_000), 1);
      expect(again).toMatchObject({id, attempts: 2});
    });

    it('gives up on a permanent failure', async () => {
      const {id} = await store.enqueue({kind: 'alert-new', payload: 1});
      await store.claimDue(at(now), 1);
      expect(await store.markFailed(id, 'HTTP 400: channel archived', null)).toBe(true);
      expect(await store.getOutboxItem(id)).toMatchObject({state: 'dead'});
      expect(await store.claimDue(at(now + 86_400_000), 10)).toEqual([]);
      expect(await store.outboxDepth()).toBe(0);
    });

    it('ignores a failure report for an item that is not claimed, or from an older claim', async () => {
      const {id} = await store.enqueue({kind: 'alert-new', payload: 1});
      expect(await store.markFailed(id, 'x', at(now))).toBe(false);
      const [old] = await store.claimDue(at(now), 1, {leaseMs: 1_000});
      // The lease ran out, so another worker took the item over.
      const [current] = await store.claimDue(at(now + 1_000), 1);
      expect(current.id).toBe(id);
      expect(current.claimToken).not.toBe(old.claimToken);
      expect(await store.markFailed(id, 'late', at(now), old.claimToken)).toBe(false);
      expect(await store.getOutboxItem(id)).toMatchObject({state: 'claimed', attempts: 2});
      expect(await store.markFailed(id, 'now', at(now), current.claimToken)).toBe(true);
    });

    it('gives up an expired claim to the newer item with the same key', async () => {
      const a = await store.enqueue({kind: 'digest-update', payload: 1, dedupeKey: 'd'});
      await store.claimDue(at(now), 1, {leaseMs: 1_000});
      const b = await store.enqueue({kind: 'digest-update', payload: 2, dedupeKey: 'd'});
      const next = await store.claimDue(at(now + 5_000), 10);
      expect(next.map((c) => [c.id, c.payload])).toEqual([[b.id, 2]]);
      expect(await store.getOutboxItem(a.id)).toMatchObject({state: 'superseded'});
    });

    it('lets a failed item yield to a newer one with the same key instead of posting old content first', async () => {
      const a = await store.enqueue({kind: 'digest-update', payload: 1, dedupeKey: 'd'});
      const [c] = await store.claimDue(at(now), 1);
      await store.enqueue({kind: 'digest-update', payload: 2, dedupeKey: 'd'});
      expect(await store.markFailed(a.id, 'timeout', at(now + 1_000), c.claimToken)).toBe(true);
      expect(await store.getOutboxItem(a.id)).toMatchObject({state: 'superseded', lastError: 'timeout'});
      expect(await store.outboxDepth()).toBe(1);
    });

    // 2,000 round trips prove the merge as well as 10,000 did, and stay well inside the timeout when
    // PostgreSQL shares a loaded CI machine with the other suites.
    it('turns a burst into one digest item updated in place', async () => {
      for (let i = 1; i <= 2_000; i++) await store.enqueue({kind: 'digest-update', payload: {blocked: i}, dedupeKey: 'digest:2024-05-01'});
      expect(await store.outboxDepth()).toBe(1);
      const [item] = await store.claimDue(at(now), 10);
      expect(item.payload).toEqual({blocked: 2_000});
    }, 60_000);

    it('prunes finished items past their retention, never pending ones', async () => {
      const done = await store.enqueue({kind: 'notice', payload: 1});
      const waiting = await store.enqueue({kind: 'notice', payload: 2, availableAt: at(now + 86_400_000 * 30)});
      await store.claimDue(at(now), 1);
      await store.markDelivered(done.id, 'p');
      expect(await store.prune(at(now + 86_400_000 * 6))).toMatchObject({outboxItems: 0});
      expect(await store.prune(at(now + 86_400_000 * 8))).toMatchObject({outboxItems: 1});
      expect(await store.getOutboxItem(done.id)).toBeNull();
      expect(await store.getOutboxItem(waiting.id)).not.toBeNull();
    });

    it('never reuses the id of a pruned item', async () => {
      const a = await store.enqueue({kind: 'notice', payload: 1});
      await store.claimDue(at(now), 1);
      await store.markDelivered(a.id);
      await store.prune(at(now + 86_400_000 * 30));
      const b = await store.enqueue({kind: 'notice', payload: 2});
      expect(b.id).toBeGreaterThan(a.id);
    });
  });
});

// SQLite's claims between processes (PostgreSQL's, between connections, are in postgres.test.ts).
describe('sqlite store', () => {
  let dir: string;
  let path: string;
  let now: number;
  let store: SqliteStore;

  beforeEach(() => {
    dir = tempDir();
    path = join(dir, 'store.db');
    now = Date.parse('2024-05-01T12:00:00Z');
    store = openSqliteStore(path, {clock: () => now});
  });
  afterEach(async () => {
    await store.close();
    removeDir(dir);
  });

  describe('claims from several processes at once', () => {
    it('hands each item to exactly one worker', async () => {
      const total = 600;
      for (let i = 0; i < total; i++) await store.enqueue({kind: 'notice', payload: {i}});
      await store.close();

      const workers = [0, 1, 2, 3].map((i) => forkTs(dir, WORKER, ['claim', path, `w${i}`]));
      try {
        const results = workers.map(
          (w) =>
            new Promise<number[]>((resolve, reject) => {
              w.on('message', (m: {ids?: number[]}) => m.ids && resolve(m.ids));
              w.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
            }),
        );
        await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.on('message', (m: {ready?: boolean}) => m.ready && resolve()))));
        for (const w of workers) w.send('go');
        const ids = await Promise.all(results);
        const all = ids.flat();
        expect(all).toHaveLength(total);
        expect(new Set(all).size).toBe(total);
        // Every worker got a share, so the claims really did compete.
        expect(ids.filter((list) => list.length > 0).length).toBeGreaterThan(1);
      } finally {
        for (const w of workers) w.kill('SIGKILL');
        await Promise.all(workers.map(exited));
      }

      store = openSqliteStore(path, {clock: () => now});
      expect(await store.outboxDepth()).toBe(0);
      const delivered = await Promise.all(Array.from({length: total}, (_, i) => store.getOutboxItem(i + 1)));
      expect(delivered.every((d) => d?.state === 'delivered' && d.attempts === 1)).toBe(true);
    }, 60_000);
  });
});
