import type {DestinationStats} from '../engine/findings';
import {FindingNotFoundError, ResumeConflictError, StaleDecisionError, StoreInputError} from './errors';
import {observationFromStats} from './observations';
import {obs, removeDir, tempDir} from './testing/support';
import {STORE_KINDS, TestStoreHome, type CommonStoreOptions} from './testing/stores';
import type {Finding} from '../../common/types';
import type {Reattribution} from '../engine/findings';
import type {Actor, FindingSort, Store} from './types';

// Every test runs against both implementations: the same interface must mean the same behaviour.
describe.each(STORE_KINDS)('%s store', (kind) => {
  const home = new TestStoreHome(kind);
  let dir: string;
  let now: number;
  let store: Store;

  function open(opts: CommonStoreOptions = {}): Promise<Store> {
    return home.open({clock: () => now, ...opts});
  }

  beforeAll(() => home.setUp(), 30_000);
  afterAll(() => home.tearDown(), 30_000);
  beforeEach(async () => {
    dir = tempDir();
    await home.reset(dir);
    now = Date.parse('2024-05-01T12:00:00Z');
    store = await open();
  });
  afterEach(async () => {
    await store.close();
    removeDir(dir);
  });

  const alice: Actor = {userId: 'u1', username: 'alice'};
  const bob: Actor = {userId: 'u2', username: 'bob'};

  describe('applyBatch', () => {
    it('reports new and changed keys and merges counts, times, pods and samples', async () => {
      const first = await store.applyBatch({
        sourceId: 'file:/var/log/proxy.log',
        from: null,
        position: 'file:1:2:100',
        observations: [obs('203.0.113.1:443', 3), obs('s3.example.test:443', 1, {destination: {host: 's3.example.test', ip: '203.0.113.5', port: 443}})],
      });
      expect(first.applied).toBe(true);
      expect(first.newKeys.sort()).toEqual(['203.0.113.1:443', 's3.example.test:443']);
      expect(first.changedKeys).toEqual([]);
      expect(first.resumePoint).toMatchObject({sourceId: 'file:/var/log/proxy.log', position: 'file:1:2:100', seq: 1});

      now += 60_000;
      const second = await store.applyBatch({
        sourceId: 'file:/var/log/proxy.log',
        from: 'file:1:2:100',
        position: 'file:1:2:250',
        observations: [
          obs('203.0.113.1:443', 4, {firstSeen: '2024-05-01T09:59:00.000Z', lastSeen: '2024-05-01T10:30:00.000Z', pods: ['mattermost-1'], samples: ['second']}),
        ],
      });
      expect(second.newKeys).toEqual([]);
      expect(second.changedKeys).toEqual(['203.0.113.1:443']);
      expect(second.resumePoint.seq).toBe(2);

      const f = await store.getFinding('203.0.113.1:443');
      expect(f).toMatchObject({
        count: 7,
        firstSeen: '2024-05-01T09:59:00.000Z',
        lastSeen: '2024-05-01T10:30:00.000Z',
        pods: ['mattermost-0', 'mattermost-1'],
        samples: ['sample of 203.0.113.1:443', 'second'],
        status: 'open',
        createdAt: '2024-05-01T12:00:00.000Z',
        updatedAt: '2024-05-01T12:01:00.000Z',
        revision: 2,
        alertPostId: null,
        ignored: null,
      });
      expect(await store.getHistory('203.0.113.1:443')).toEqual([{hour: '2024-05-01T10:00:00.000Z', count: 7}]);
    });

    it('folds a key that appears twice in one batch into one new finding', async () => {
      const r = await store.applyBatch({sourceId: 's', from: null, position: '5', observations: [obs('203.0.113.1:443', 2), obs('203.0.113.1:443', 3)]});
      expect(r.newKeys).toEqual(['203.0.113.1:443']);
      expect(r.changedKeys).toEqual([]);
      expect((await store.getFinding('203.0.113.1:443'))?.count).toBe(5);
    });

    it('recognises a replay of a committed batch and changes nothing', async () => {
      const batch = {sourceId: 's', from: null, position: 'p1', observations: [obs('203.0.113.1:443', 3)]};
      await store.applyBatch(batch);
      const again = await store.applyBatch(batch);
      expect(again).toMatchObject({applied: false, newKeys: [], changedKeys: [], outboxIds: []});
      expect(again.resumePoint).toMatchObject({position: 'p1', seq: 1});
      expect((await store.getFinding('203.0.113.1:443'))?.count).toBe(3);
    });

    it('refuses a batch read from a resume point that has moved since', async () => {
      await store.applyBatch({sourceId: 's', from: null, position: 'p1', observations: [obs('203.0.113.1:443', 3)]});
      await store.applyBatch({sourceId: 's', from: 'p1', position: 'p2', observations: [obs('203.0.113.1:443', 1)]});
      const stale = store.applyBatch({sourceId: 's', from: 'p1', position: 'p2b', observations: [obs('203.0.113.1:443', 9)]});
      await expect(stale).rejects.toBeInstanceOf(ResumeConflictError);
      await expect(stale).rejects.toMatchObject({expected: 'p1', actual: 'p2'});
      expect((await store.getFinding('203.0.113.1:443'))?.count).toBe(4);
    });

    it('applies unconditionally without `from`, for sources that cannot be re-read', async () => {
      await store.applyBatch({sourceId: 'stdin', position: 'line 10', observations: [obs('203.0.113.1:443', 10)]});
      await store.applyBatch({sourceId: 'stdin', position: 'line 10', observations: [obs('203.0.113.1:443', 0)]});
      expect((await store.getResumePoint('stdin'))?.seq).toBe(2);
    });

    it('refuses a batch with lines that does not move its resume point', async () => {
      await expect(store.applyBatch({sourceId: 's', from: 'p', position: 'p', observations: [obs('a:1', 1)]})).rejects.toBeInstanceOf(StoreInputError);
      const idle = await store.applyBatch({sourceId: 's', from: null, position: 'p', observations: []});
      expect(idle.applied).toBe(true);
    });

    it('keeps sources apart', async () => {
      await store.applyBatch({sourceId: 'pod/a', from: null, position: 'a1', observations: [obs('203.0.113.1:443', 1)]});
      await store.applyBatch({sourceId: 'pod/b', from: null, position: 'b1', observations: [obs('203.0.113.1:443', 2)]});
      expect((await store.listResumePoints()).map((r) => [r.sourceId, r.position])).toEqual([
        ['pod/a', 'a1'],
        ['pod/b', 'b1'],
      ]);
      expect((await store.getFinding('203.0.113.1:443'))?.count).toBe(3);
    });

    it('enqueues notifications in the same transaction, computed from what the batch changed', async () => {
      const r = await store.applyBatch({
        sourceId: 's',
        from: null,
        position: '1',
        observations: [obs('203.0.113.1:443', 1)],
        notify: (c) => c.newKeys.map((key) => ({kind: 'alert-new' as const, payload: {key}, dedupeKey: `finding:${key}`})),
      });
      expect(r.outboxIds).toHaveLength(1);
      expect(await store.getOutboxItem(r.outboxIds[0])).toMatchObject({kind: 'alert-new', payload: {key: '203.0.113.1:443'}, state: 'pending'});
    });

    it('takes the verdict of the newest lines and starts the samples afresh when it changes', async () => {
      await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('s3.example.test:443', 1)]});
      await store.applyBatch({
        sourceId: 's',
        from: '1',
        position: '2',
        observations: [obs('s3.example.test:443', 1, {verdict: 'external-failed', lastSeen: '2024-05-01T11:00:00.000Z', samples: ['now failing']})],
      });
      expect(await store.getFinding('s3.example.test:443')).toMatchObject({verdict: 'external-failed', samples: ['now failing'], count: 2});
      // Lines older than what is stored (a slow pod's stream) add counts but do not turn the verdict back.
      await store.applyBatch({
        sourceId: 's',
        from: '2',
        position: '3',
        observations: [obs('s3.example.test:443', 1, {verdict: 'blocked', firstSeen: '2024-05-01T09:00:00.000Z', lastSeen: '2024-05-01T09:00:00.000Z'})],
      });
      expect(await store.getFinding('s3.example.test:443')).toMatchObject({verdict: 'external-failed', count: 3, firstSeen: '2024-05-01T09:00:00.000Z'});
    });

    it('bounds pods and samples however many batches bring new ones', async () => {
      let from: string | null = null;
      for (let i = 0; i < 30; i++) {
        const position = String(i + 1);
        await store.applyBatch({sourceId: 's', from, position, observations: [obs('203.0.113.1:443', 1, {pods: [`pod-${i}`], samples: [`s${i}`, `t${i}`]})]});
        from = position;
      }
      const f = await store.getFinding('203.0.113.1:443');
      expect(f?.pods).toHaveLength(20);
      expect(f?.samples).toEqual(['s0', 't0', 's1', 't1', 's2']);
      expect(f?.count).toBe(30);
    });

    it('reopens a resolved finding when its traffic comes back, and says so', async () => {
      await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('203.0.113.1:443', 1)]});
      await store.markResolved('203.0.113.1:443', new Date(now), 'ServiceEntry added');
      expect((await store.getFinding('203.0.113.1:443'))?.status).toBe('resolved');
      now += 3_600_000;
      const r = await store.applyBatch({sourceId: 's', from: '1', position: '2', observations: [obs('203.0.113.1:443', 1)]});
      expect(r.reopenedKeys).toEqual(['203.0.113.1:443']);
      expect(r.changedKeys).toEqual(['203.0.113.1:443']);
      expect(await store.getFinding('203.0.113.1:443')).toMatchObject({status: 'open', resolvedAt: null});
      expect((await store.listDecisions('203.0.113.1:443')).map((d) => [d.action, d.by, d.reason])).toEqual([
        ['resolve', null, 'ServiceEntry added'],
        ['reopen', null, 'traffic seen again'],
      ]);
    });

    it('keeps an ignored finding ignored while counting its traffic', async () => {
      await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('203.0.113.1:443', 1)]});
      await store.ignore('203.0.113.1:443', alice, 'metadata probe, expected');
      const r = await store.applyBatch({sourceId: 's', from: '1', position: '2', observations: [obs('203.0.113.1:443', 5)]});
      expect(r.reopenedKeys).toEqual([]);
      expect(await store.getFinding('203.0.113.1:443')).toMatchObject({status: 'ignored', count: 6});
    });

    it('stops storing new destinations at the limit and counts their lines instead', async () => {
      await store.close();
      store = await open({limits: {maxFindings: 3}});
      const r = await store.applyBatch({
        sourceId: 's',
        from: null,
        position: '1',
        observations: ['a:1', 'b:1', 'c:1', 'd:1', 'e:1', 'a:1'].map((k) => obs(k, 2)),
      });
      expect(r.newKeys).toEqual(['a:1', 'b:1', 'c:1']);
      expect(r.overflowLines).toBe(4);
      expect((await store.listFindings()).total).toBe(3);
      expect((await store.getFinding('a:1'))?.count).toBe(4);
      expect(await store.getMeta('store.overflow-lines')).toBe('4');
    });

    it('at the limit, makes room for a named or explained destination by dropping junk first, and counts what it drops', async () => {
      await store.close();
      store = await open({limits: {maxFindings: 3}});
      const s3 = (key: string, n: number) => obs(key, n, {destination: {host: 's3.amazonaws.com', ip: null, port: 443}});
      const explained = (key: string, n: number) =>
        obs(key, n, {features: [{id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'}]});
      // Three IP-only destinations fill the store; the oldest of them has been alerted.
      await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('198.51.100.1:443', 1)]});
      await store.setAlertPostId('198.51.100.1:443', 'post1');
      now += 1_000;
      await store.applyBatch({sourceId: 's', from: '1', position: '2', observations: [obs('198.51.100.2:443', 1)]});
      now += 1_000;
      await store.applyBatch({sourceId: 's', from: '2', position: '3', observations: [obs('198.51.100.3:443', 1)]});
      // More junk: not kept, counted.
      const junk = await store.applyBatch({sourceId: 's', from: '3', position: '4', observations: [obs('198.51.100.4:443', 5), obs('198.51.100.5:443', 2)]});
      expect(junk).toMatchObject({newKeys: [], overflowLines: 7, overflowDestinations: 2, evictedKeys: []});
      // A named host: the oldest never-alerted junk makes room.
      now += 1_000;
      const named = await store.applyBatch({sourceId: 's', from: '4', position: '5', observations: [s3('s3.amazonaws.com:443', 1)]});
      expect(named).toMatchObject({newKeys: ['s3.amazonaws.com:443'], evictedKeys: ['198.51.100.2:443']});
      // An IP-only destination a configured integration explains: the next never-alerted junk goes.
      const integration = await store.applyBatch({sourceId: 's', from: '5', position: '6', observations: [explained('203.0.113.9:443', 1)]});
      expect(integration).toMatchObject({newKeys: ['203.0.113.9:443'], evictedKeys: ['198.51.100.3:443']});
      // Only alerted junk is left: it goes before a destination worth keeping is dropped.
      const second = await store.applyBatch({sourceId: 's', from: '6', position: '7', observations: [s3('s3.us-east-1.amazonaws.com:443', 1)]});
      expect(second.evictedKeys).toEqual(['198.51.100.1:443']);
      // No junk at all: a destination worth keeping is still kept, beyond the limit.
      const beyond = await store.applyBatch({sourceId: 's', from: '7', position: '8', observations: [s3('s3.eu-west-1.amazonaws.com:443', 1)]});
      expect(beyond).toMatchObject({newKeys: ['s3.eu-west-1.amazonaws.com:443'], evictedKeys: []});
      expect((await store.listFindings()).items.map((f) => f.key).sort()).toEqual([
        '203.0.113.9:443',
        's3.amazonaws.com:443',
        's3.eu-west-1.amazonaws.com:443',
        's3.us-east-1.amazonaws.com:443',
      ]);
      expect(await store.getHistory('198.51.100.2:443')).toEqual([]);
      expect(await store.getOverflow()).toEqual({maxFindings: 3, findings: 4, lines: 7, destinations: 2, evicted: 3});
    });

    it('accepts the folder statistics of the engine', async () => {
      const stats: DestinationStats = {
        key: '52.1.2.3:443',
        verdict: 'blocked',
        host: null,
        hostSource: null,
        ip: '52.1.2.3',
        port: 443,
        protocol: 'TLS',
        count: 12,
        firstSeen: '2024-05-01T10:00:00.000Z',
        lastSeen: '2024-05-01T10:05:00.000Z',
        pods: ['mattermost-0'],
        samples: ['[2024-05-01T10:00:00.000Z] "- - -" 0 UH ...'],
        firstTimesMs: [],
        lastTimesMs: [],
        reason: 'BlackHoleCluster',
      };
      await store.applyBatch({sourceId: 's', from: null, position: '12', observations: [observationFromStats(stats)]});
      expect(await store.getFinding('52.1.2.3:443')).toMatchObject({
        count: 12,
        destination: {host: null, ip: '52.1.2.3', port: 443},
        attribution: {host: null, method: 'none', confidence: 'unknown'},
      });
    });
  });

  describe('history', () => {
    it('counts lines per hour of their log time and prunes beyond the retention', async () => {
      await store.close();
      store = await open({retention: {historyDays: 2}, autoPruneMs: 0});
      const at = (t: string) => ({firstSeen: t, lastSeen: t});
      await store.applyBatch({
        sourceId: 's',
        from: null,
        position: '1',
        observations: [
          obs('a:1', 1, at('2024-04-25T08:10:00.000Z')),
          obs('a:1', 2, at('2024-05-01T08:10:00.000Z')),
          obs('a:1', 3, at('2024-05-01T08:50:00.000Z')),
          obs('a:1', 4, at('2024-05-01T09:00:00.000Z')),
          // A time from the future is counted now, where pruning can reach it.
          obs('a:1', 5, at('2030-01-01T00:00:00.000Z')),
          obs('a:1', 6, {firstSeen: null, lastSeen: null}),
        ],
      });
      expect(await store.getHistory('a:1')).toEqual([
        {hour: '2024-04-25T08:00:00.000Z', count: 1},
        {hour: '2024-05-01T08:00:00.000Z', count: 5},
        {hour: '2024-05-01T09:00:00.000Z', count: 4},
        {hour: '2024-05-01T12:00:00.000Z', count: 11},
      ]);
      expect(await store.getHistory('a:1', new Date('2024-05-01T09:00:00Z'))).toHaveLength(2);
      expect(await store.prune(new Date(now))).toMatchObject({historyRows: 1});
      expect((await store.getHistory('a:1')).map((h) => h.hour)).not.toContain('2024-04-25T08:00:00.000Z');
      expect((await store.getFinding('a:1'))?.count).toBe(21);
    });

    it('prunes by itself from applyBatch, at most once per interval', async () => {
      await store.close();
      store = await open({retention: {historyDays: 1}, autoPruneMs: 3_600_000});
      const old = {firstSeen: '2024-04-01T00:00:00.000Z', lastSeen: '2024-04-01T00:00:00.000Z'};
      const recent = {firstSeen: '2024-05-01T11:30:00.000Z', lastSeen: '2024-05-01T11:30:00.000Z'};
      await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('a:1', 1, recent)]});
      // Within the hour after the first batch's pruning, nothing is pruned again.
      await store.applyBatch({sourceId: 's', from: '1', position: '2', observations: [obs('a:1', 1, old)]});
      expect((await store.getHistory('a:1')).map((h) => h.hour)).toEqual(['2024-04-01T00:00:00.000Z', '2024-05-01T11:00:00.000Z']);
      now += 3_600_000;
      await store.applyBatch({sourceId: 's', from: '2', position: '3', observations: [obs('a:1', 1, recent)]});
      expect(await store.getHistory('a:1')).toEqual([{hour: '2024-05-01T11:00:00.000Z', count: 2}]);
    });
  });

  describe('listFindings', () => {
    beforeEach(async () => {
      await store.applyBatch({
        sourceId: 's',
        from: null,
        position: '1',
        observations: [
          obs('a.example.test:443', 5, {lastSeen: '2024-05-01T10:00:03.000Z'}),
          obs('b.example.test:443', 50, {verdict: 'passthrough', lastSeen: '2024-05-01T10:00:09.000Z'}),
          obs('c.example.test:443', 7, {verdict: 'external-failed', lastSeen: '2024-05-01T10:00:01.000Z'}),
          obs('d.example.test:443', 9, {lastSeen: null, firstSeen: null}),
        ],
      });
      await store.ignore('d.example.test:443', alice, 'known');
    });

    it('sorts by urgency by default, like the command line', async () => {
      const page = await store.listFindings();
      expect(page.items.map((f) => f.key)).toEqual(['d.example.test:443', 'a.example.test:443', 'c.example.test:443', 'b.example.test:443']);
      expect(page.total).toBe(4);
    });

    it('filters by status and verdict, and pages without overlap', async () => {
      expect((await store.listFindings({status: 'open'})).total).toBe(3);
      expect((await store.listFindings({status: ['ignored']})).items.map((f) => f.key)).toEqual(['d.example.test:443']);
      expect((await store.listFindings({verdict: ['blocked', 'passthrough'], status: 'open'})).total).toBe(2);
      const p1 = await store.listFindings({sort: 'count', limit: 2});
      const p2 = await store.listFindings({sort: 'count', limit: 2, offset: 2});
      expect([...p1.items, ...p2.items].map((f) => f.count)).toEqual([50, 9, 7, 5]);
      expect(p1.total).toBe(4);
    });

    it('puts findings without log times last, whatever the order', async () => {
      expect((await store.listFindings({sort: 'lastSeen'})).items.map((f) => f.key)).toEqual([
        'b.example.test:443',
        'a.example.test:443',
        'c.example.test:443',
        'd.example.test:443',
      ]);
      expect((await store.listFindings({sort: 'lastSeen', order: 'asc'})).items.map((f) => f.key).at(-1)).toBe('d.example.test:443');
    });

    it('refuses unknown sort keys and filters instead of passing them on', async () => {
      await expect(store.listFindings({sort: 'count; DROP TABLE findings' as FindingSort})).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.listFindings({sort: 'constructor' as FindingSort})).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.listFindings({status: "open' OR 1=1 --" as 'open'})).rejects.toBeInstanceOf(StoreInputError);
      expect((await store.listFindings({limit: 10_000})).items).toHaveLength(4);
    });

    it('counts findings by status and open ones by verdict', async () => {
      expect(await store.countFindings()).toEqual({
        byStatus: {open: 3, ignored: 1, resolved: 0},
        openByVerdict: {blocked: 1, passthrough: 1, 'external-failed': 1},
      });
    });
  });

  describe('ignore and unignore', () => {
    beforeEach(async () => {
      await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('203.0.113.1:443', 1)]});
    });

    it('records who decided, why and when, and keeps every decision', async () => {
      const ignored = await store.ignore('203.0.113.1:443', alice, 'cloud metadata probe');
      expect(ignored).toMatchObject({status: 'ignored', ignored: {by: alice, reason: 'cloud metadata probe', at: '2024-05-01T12:00:00.000Z'}});
      now += 1_000;
      const again = await store.unignore('203.0.113.1:443', bob, 'probe is gone, want to know');
      expect(again).toMatchObject({status: 'open', ignored: null, statusChangedAt: '2024-05-01T12:00:01.000Z'});
      now += 1_000;
      await store.ignore('203.0.113.1:443', alice, 'second thoughts');
      expect((await store.listDecisions('203.0.113.1:443')).map((d) => [d.action, d.by?.username, d.reason, d.at])).toEqual([
        ['ignore', 'alice', 'cloud metadata probe', '2024-05-01T12:00:00.000Z'],
        ['unignore', 'bob', 'probe is gone, want to know', '2024-05-01T12:00:01.000Z'],
        ['ignore', 'alice', 'second thoughts', '2024-05-01T12:00:02.000Z'],
      ]);
    });

    it('records nothing when unignoring a finding that is not ignored', async () => {
      const f = await store.unignore('203.0.113.1:443', bob);
      expect(f.status).toBe('open');
      expect(await store.listDecisions('203.0.113.1:443')).toEqual([]);
    });

    it('leaves the administrator decision in place when the bridge resolves', async () => {
      await store.ignore('203.0.113.1:443', alice, 'known');
      const f = await store.markResolved('203.0.113.1:443', new Date(now));
      expect(f.status).toBe('ignored');
      expect((await store.listDecisions('203.0.113.1:443')).map((d) => d.action)).toEqual(['ignore']);
    });

    it('answers unknown keys and bad input with errors the API can map', async () => {
      await expect(store.ignore('nope:1', alice, 'x')).rejects.toBeInstanceOf(FindingNotFoundError);
      await expect(store.setAlertPostId('nope:1', 'post')).rejects.toBeInstanceOf(FindingNotFoundError);
      await expect(store.ignore('203.0.113.1:443', alice, 'x'.repeat(1_001))).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.ignore('203.0.113.1:443', {userId: '', username: 'x'}, 'x')).rejects.toBeInstanceOf(StoreInputError);
      expect((await store.getFinding('203.0.113.1:443'))?.status).toBe('open');
    });

    it('refuses an ignore made on an older view than the latest decision: an older decision never overrides a newer one', async () => {
      const key = '203.0.113.1:443';
      // The alert was drawn when nothing was decided (0); alice ignores from it, then bob un-ignores.
      await store.ignore(key, alice, 'from the alert', {decidedUpTo: 0});
      now += 1_000;
      await store.unignore(key, bob, 'wanted after all');
      const seen = (await store.listDecisions(key)).at(-1)!.id;
      // The same button again (a replay, or a second click): refused, and the error says who decided what, when.
      now += 1_000;
      const replay = store.ignore(key, alice, 'from the alert', {decidedUpTo: 0});
      await expect(replay).rejects.toBeInstanceOf(StaleDecisionError);
      await expect(store.ignore(key, alice, 'from the alert', {decidedUpTo: 0})).rejects.toMatchObject({
        key,
        latest: 'unignore',
        by: 'bob',
        at: '2024-05-01T12:00:01.000Z',
      });
      expect((await store.getFinding(key))?.status).toBe('open');
      expect((await store.listDecisions(key)).map((d) => d.action)).toEqual(['ignore', 'unignore']);
      // A view that knows the latest decision may decide; so may a caller that states no view (the command).
      expect((await store.ignore(key, alice, 'now', {decidedUpTo: seen})).status).toBe('ignored');
      expect((await store.unignore(key, bob)).status).toBe('open');
      expect((await store.ignore(key, alice, 'by command')).status).toBe('ignored');
      // The bridge's own resolve and reopen are not decisions a person's view competes with.
      const last = (await store.listDecisions(key)).at(-1)!.id;
      await store.unignore(key, bob, '', {decidedUpTo: last});
      await store.markResolved(key, new Date(now));
      await store.applyBatch({sourceId: 's', from: '1', position: '2', observations: [obs(key, 1)]});
      const unignored = (await store.listDecisions(key)).filter((d) => d.action === 'unignore').at(-1)!.id;
      expect((await store.ignore(key, alice, 'after reopen', {decidedUpTo: unignored})).status).toBe('ignored');
      await expect(store.ignore(key, alice, 'x', {decidedUpTo: -1})).rejects.toBeInstanceOf(StoreInputError);
    });

    it('enqueues the post update with the decision, atomically', async () => {
      await expect(
        store.ignore('203.0.113.1:443', alice, 'x', {
          notify: () => {
            throw new Error('render failed');
          },
        }),
      ).rejects.toThrow('render failed');
      expect((await store.getFinding('203.0.113.1:443'))?.status).toBe('open');
      expect(await store.listDecisions('203.0.113.1:443')).toEqual([]);
      await store.ignore('203.0.113.1:443', alice, 'x', {
        notify: (f) => [{kind: 'alert-update', payload: {key: f.key, status: f.status}, dedupeKey: `alert:${f.key}`}],
      });
      expect(await store.outboxDepth()).toBe(1);
    });
  });

  describe('reattributeOpen', () => {
    const storage = {id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Bucket'};
    const same = (f: Finding): Reattribution => ({key: f.key, host: f.destination.host, attribution: f.attribution, features: f.features});
    const BUCKET = 'bucket.s3.example.com';
    /** What the engine gives an address the configuration now names as the bucket. */
    const nameBucket = (f: Finding): Reattribution =>
      f.destination.ip === '203.0.113.1' && f.destination.host === null
        ? {
            key: `${BUCKET}:443`,
            host: BUCKET,
            attribution: {method: 'dns', confidence: 'likely', host: BUCKET, candidates: [BUCKET], note: 'an address of the bucket'},
            features: [storage],
          }
        : same(f);

    it('updates only the open findings whose attribution or features change, and says which', async () => {
      await store.applyBatch({
        sourceId: 's',
        from: null,
        position: '1',
        observations: [obs('203.0.113.1:443', 1), obs('203.0.113.2:443', 1), obs('203.0.113.3:443', 1)],
      });
      await store.ignore('203.0.113.3:443', alice, 'known');
      const before = await store.getFinding('203.0.113.1:443');
      now += 1_000;
      const seen: string[] = [];
      const changed = await store.reattributeOpen((f) => {
        seen.push(f.key);
        return f.key === '203.0.113.1:443' ? {...same(f), attribution: {...f.attribution, note: 'named again'}, features: [storage]} : same(f);
      });
      expect(changed).toEqual({changedKeys: ['203.0.113.1:443'], moved: []});
      expect(seen.sort()).toEqual(['203.0.113.1:443', '203.0.113.2:443']);
      const after = await store.getFinding('203.0.113.1:443');
      expect(after).toMatchObject({features: [storage], attribution: {note: 'named again'}, count: 1, status: 'open', updatedAt: '2024-05-01T12:00:01.000Z'});
      expect(after!.revision).toBe(before!.revision + 1);
      expect((await store.getFinding('203.0.113.3:443'))!.features).toEqual([]);
      // Nothing new to say: nothing written.
      expect(await store.reattributeOpen(same)).toEqual({changedKeys: [], moved: []});
      expect((await store.getFinding('203.0.113.1:443'))!.revision).toBe(after!.revision);
    });

    it('writes nothing when deriving fails half way', async () => {
      await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('203.0.113.1:443', 1), obs('203.0.113.2:443', 1)]});
      await expect(
        store.reattributeOpen((f) => {
          if (f.key === '203.0.113.2:443') throw new Error('boom');
          return {...same(f), features: [storage]};
        }),
      ).rejects.toThrow('boom');
      expect((await store.getFinding('203.0.113.1:443'))!.features).toEqual([]);
    });

    it('moves an address it can now name to the named key, with its history, decisions, alert post and thread state', async () => {
      await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('203.0.113.1:443', 3)]});
      await store.ignore('203.0.113.1:443', alice, 'looking');
      await store.unignore('203.0.113.1:443', alice);
      await store.setAlertPostId('203.0.113.1:443', 'post1');
      await store.recordAnnounced('203.0.113.1:443', 3, ['mattermost-0']);
      const before = await store.getFinding('203.0.113.1:443');
      now += 1_000;
      const result = await store.reattributeOpen(nameBucket);
      expect(result).toEqual({changedKeys: [`${BUCKET}:443`], moved: [{from: '203.0.113.1:443', to: `${BUCKET}:443`, merged: false, alertPostId: 'post1'}]});
      expect(await store.getFinding('203.0.113.1:443')).toBeNull();
      const after = await store.getFinding(`${BUCKET}:443`);
      expect(after).toMatchObject({
        key: `${BUCKET}:443`,
        destination: {host: BUCKET, ip: '203.0.113.1', port: 443},
        count: 3,
        status: 'open',
        alertPostId: 'post1',
        features: [storage],
        attribution: {method: 'dns', host: BUCKET},
        createdAt: before!.createdAt,
      });
      expect(await store.getHistory(`${BUCKET}:443`)).toEqual([{hour: '2024-05-01T10:00:00.000Z', count: 3}]);
      expect(await store.getHistory('203.0.113.1:443')).toEqual([]);
      expect((await store.listDecisions(`${BUCKET}:443`)).map((d) => d.action)).toEqual(['ignore', 'unignore']);
      expect(await store.getAlertState(`${BUCKET}:443`)).toMatchObject({announcedCount: 3});
      expect(await store.movedTo('203.0.113.1:443')).toBe(`${BUCKET}:443`);
      expect(await store.movedTo(`${BUCKET}:443`)).toBeNull();
      // Named now: a second pass finds nothing to do.
      expect(await store.reattributeOpen(nameBucket)).toEqual({changedKeys: [], moved: []});
    });

    it('merges into the finding that holds the named key: each line counted once, its decision stands', async () => {
      const named = {
        destination: {host: BUCKET, ip: '203.0.113.9', port: 443},
        lastSeen: '2024-05-01T11:00:05.000Z',
        firstSeen: '2024-05-01T11:00:00.000Z',
        pods: ['mattermost-1'],
      };
      await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs('203.0.113.1:443', 3), obs(`${BUCKET}:443`, 5, named)]});
      await store.ignore(`${BUCKET}:443`, bob, 'a test bucket');
      await store.setAlertPostId('203.0.113.1:443', 'post1');
      const result = await store.reattributeOpen(nameBucket);
      expect(result.moved).toEqual([{from: '203.0.113.1:443', to: `${BUCKET}:443`, merged: true, alertPostId: 'post1'}]);
      expect(await store.getFinding('203.0.113.1:443')).toBeNull();
      const after = await store.getFinding(`${BUCKET}:443`);
      expect(after).toMatchObject({
        count: 8,
        status: 'ignored',
        ignored: {by: bob, reason: 'a test bucket'},
        firstSeen: '2024-05-01T10:00:00.000Z',
        lastSeen: '2024-05-01T11:00:05.000Z',
        alertPostId: 'post1',
      });
      expect(after!.pods.sort()).toEqual(['mattermost-0', 'mattermost-1']);
      expect(await store.getHistory(`${BUCKET}:443`)).toEqual([
        {hour: '2024-05-01T10:00:00.000Z', count: 3},
        {hour: '2024-05-01T11:00:00.000Z', count: 5},
      ]);
      expect((await store.countFindings()).byStatus).toEqual({open: 0, ignored: 1, resolved: 0});
    });

    it('reopens a resolved finding that an open one merges into, and says why', async () => {
      await store.applyBatch({
        sourceId: 's',
        from: null,
        position: '1',
        observations: [obs('203.0.113.1:443', 2), obs(`${BUCKET}:443`, 1, {destination: {host: BUCKET, ip: null, port: 443}})],
      });
      await store.markResolved(`${BUCKET}:443`, new Date(now), 'a ServiceEntry covers it');
      now += 1_000;
      await store.reattributeOpen(nameBucket);
      const after = await store.getFinding(`${BUCKET}:443`);
      expect(after).toMatchObject({status: 'open', count: 3, destination: {ip: '203.0.113.1'}});
      const decisions = await store.listDecisions(`${BUCKET}:443`);
      expect(decisions.map((d) => [d.action, d.reason])).toEqual([
        ['resolve', 'a ServiceEntry covers it'],
        ['reopen', 'open traffic to 203.0.113.1:443 turned out to be this destination'],
      ]);
    });
  });

  describe('restart', () => {
    it('keeps findings, decisions, history, resume points, outbox and meta across close and reopen', async () => {
      await store.applyBatch({
        sourceId: 's',
        from: null,
        position: 'file:1:2:300',
        observations: [obs('203.0.113.1:443', 3), obs('203.0.113.2:443', 4)],
        notify: () => [{kind: 'digest-update', payload: {day: '2024-05-01', total: 7}, dedupeKey: 'digest:2024-05-01'}],
      });
      await store.ignore('203.0.113.2:443', alice, 'known');
      await store.setAlertPostId('203.0.113.1:443', 'post123');
      await store.setMeta('digest-post:2024-05-01', 'post999');
      const before = {
        findings: await store.listFindings(),
        decisions: await store.listDecisions('203.0.113.2:443'),
        history: await store.getHistory('203.0.113.1:443'),
        resume: await store.getResumePoint('s'),
        depth: await store.outboxDepth(),
      };
      await store.close();
      await store.close();
      store = await open();
      expect(await store.listFindings()).toEqual(before.findings);
      expect(await store.listDecisions('203.0.113.2:443')).toEqual(before.decisions);
      expect(await store.getHistory('203.0.113.1:443')).toEqual(before.history);
      expect(await store.getResumePoint('s')).toEqual(before.resume);
      expect(await store.outboxDepth()).toBe(before.depth);
      expect(await store.getMeta('digest-post:2024-05-01')).toBe('post999');
      expect((await store.getFinding('203.0.113.1:443'))?.alertPostId).toBe('post123');
      const claimed = await store.claimDue(new Date(now), 10);
      expect(claimed.map((c) => c.payload)).toEqual([{day: '2024-05-01', total: 7}]);
    });
  });

  describe('meta', () => {
    it('sets, replaces and deletes values', async () => {
      expect(await store.getMeta('bot-user-id')).toBeNull();
      await store.setMeta('bot-user-id', 'a');
      await store.setMeta('bot-user-id', 'b');
      expect(await store.getMeta('bot-user-id')).toBe('b');
      await store.deleteMeta('bot-user-id');
      expect(await store.getMeta('bot-user-id')).toBeNull();
    });

    it("follows a batch's lines in its transaction: a replay changes nothing, a failing update writes nothing", async () => {
      const add = {key: 'lines.seen', update: (current: string | null) => String(Number(current ?? '0') + 2)};
      await store.applyBatch({sourceId: 'app', from: null, position: '1', observations: [], meta: [add]});
      await store.applyBatch({sourceId: 'app', from: '1', position: '2', observations: [], meta: [add]});
      expect(await store.getMeta('lines.seen')).toBe('4');
      // The same batch again (a replay after a crash): not counted twice.
      const replay = await store.applyBatch({sourceId: 'app', from: '1', position: '2', observations: [], meta: [add]});
      expect(replay.applied).toBe(false);
      expect(await store.getMeta('lines.seen')).toBe('4');
      const boom = {
        key: 'lines.seen',
        update: () => {
          throw new Error('boom');
        },
      };
      await expect(store.applyBatch({sourceId: 'app', from: '2', position: '3', observations: [obs('203.0.113.1:443', 1)], meta: [boom]})).rejects.toThrow(
        'boom',
      );
      expect(await store.getResumePoint('app')).toMatchObject({position: '2'});
      expect(await store.getFinding('203.0.113.1:443')).toBeNull();
      await expect(
        store.applyBatch({sourceId: 'app', from: '2', position: '3', observations: [], meta: [{key: 'x', update: () => 'y'.repeat(70_000)}]}),
      ).rejects.toThrow(StoreInputError);
    });
  });
});
