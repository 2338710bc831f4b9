// An alert post says what its destinations are called now: when Mattermost's configuration names one of
// them later (an address becomes the S3 bucket, a host gains its feature), the post itself is edited, once
// per change. Calls Mattermost refused itself, read from its log, are kept and announced once per address. The store is the real SQLite store; Mattermost is stood in for by a recording channel (its
// posts API is exercised against the real server by test/bridge/bridge.integration.test.ts).
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import pino from 'pino';
import type {Post} from '@mattermost/types/posts';
import {readAlertData} from '../../common/alert';
import {buildFindings, reattribute, type DestinationStats} from '../engine/findings';
import {buildInventory} from '../engine/inventory';
import type {AttributionContext} from '../engine/types';
import {openSqliteStore, type SqliteStore} from '../store';
import {AlertWorker, type AlertChannel} from './alerts';
import {REFUSALS_PROPS_KEY} from '../present/refusals';
import type {SourceBatch} from '../sources/types';
import {AttributionState, DIGEST_DEDUPE_KEY, Ingest} from './ingest';
import {MAX_STORED_REFUSALS, REFUSALS_META, refusalReports} from './refusals';
import {refusalsSentence} from './status';

const BUCKET = 'bucket.s3.example.com';
const S3_CONFIG = {FileSettings: {DriverName: 'amazons3', AmazonS3Bucket: 'bucket', AmazonS3Endpoint: BUCKET, AmazonS3SSL: true}};
const AT = '2026-11-28T08:00:00.000Z';

function stats(over: Partial<DestinationStats>): DestinationStats {
  return {
    key: '203.0.113.1:443',
    verdict: 'blocked',
    host: null,
    hostSource: null,
    ip: '203.0.113.1',
    port: 443,
    protocol: 'TLS',
    count: 2,
    firstSeen: AT,
    lastSeen: AT,
    pods: ['mattermost-0'],
    samples: ['a line'],
    firstTimesMs: [Date.parse(AT)],
    lastTimesMs: [],
    reason: 'BlackHoleCluster',
    ...over,
  };
}

/** Mattermost's posts API as the worker uses it, recording every create and patch. */
class RecordingChannel implements AlertChannel {
  channelId = 'channel1';
  readonly posts = new Map<string, Post>();
  readonly patches: string[] = [];
  private n = 0;

  async createPost(p: {message: string; props: Record<string, unknown>; type: string; rootId?: string}): Promise<Post> {
    const id = `post${++this.n}`;
    const post = {id, message: p.message, props: p.props, type: p.type, root_id: p.rootId ?? '', create_at: Date.parse(AT) + this.n, update_at: 0} as Post;
    this.posts.set(id, post);
    return post;
  }

  async postsSince(sinceMs: number): Promise<Post[]> {
    return [...this.posts.values()].filter((p) => p.create_at >= sinceMs);
  }

  async getPost(postId: string): Promise<Post> {
    const p = this.posts.get(postId);
    if (p === undefined) throw new Error(`no post ${postId}`);
    return structuredClone(p);
  }

  async patchPost(postId: string, patch: {message: string; props: Record<string, unknown>}): Promise<Post> {
    const p = this.posts.get(postId)!;
    this.patches.push(postId);
    const next = {...p, message: patch.message, props: patch.props};
    this.posts.set(postId, next);
    return next;
  }
}

/** A real store in a fresh folder, the recording channel, and the worker between them. */
function setUp(): {dir: string; store: SqliteStore; channel: RecordingChannel; worker: AlertWorker} {
  const dir = mkdtempSync(join(tmpdir(), 'egress-alerts-'));
  const store = openSqliteStore(join(dir, 'store.db'));
  const channel = new RecordingChannel();
  const worker = new AlertWorker(
    store,
    () => channel,
    () => ({format: 'bigbang', showYaml: true, context: {}, actionUrl: 'http://bridge/actions', hmacKey: Buffer.alloc(32, 7), siteUrl: undefined}),
    pino({level: 'silent'}),
    {sent: () => undefined, failed: () => undefined},
  );
  return {dir, store, channel, worker};
}

describe('alert posts follow a finding that is named again', () => {
  let dir: string;
  let store: SqliteStore;
  let channel: RecordingChannel;
  let worker: AlertWorker;

  const ctx = (config: object, dns: Record<string, string[]> = {}): AttributionContext => ({
    inventory: buildInventory(config).endpoints,
    dnsIndex: new Map(Object.entries(dns)),
    appEvents: [],
  });

  beforeEach(async () => {
    ({dir, store, channel, worker} = setUp());
    const findings = buildFindings(
      [stats({}), stats({key: `files.example.com:443`, host: 'files.example.com', hostSource: 'sni', ip: '198.51.100.2', count: 1})],
      ctx({}),
    );
    await store.applyBatch({sourceId: 's', from: null, position: '1', observations: findings});
    await store.enqueue({kind: 'alert-new', payload: {}, dedupeKey: DIGEST_DEDUPE_KEY});
    await worker.tick();
    expect(channel.posts.size).toBe(1);
  });
  afterEach(async () => {
    await worker.stop();
    await store.close();
    rmSync(dir, {recursive: true, force: true});
  });

  const alertPost = (): Post => [...channel.posts.values()][0];

  it('edits the post once: the card and the text name the bucket and its feature, and its buttons carry the new key', async () => {
    const before = alertPost();
    expect(before.message).toContain('203.0.113.1');
    expect(before.message).not.toContain(BUCKET);

    const result = await store.reattributeOpen((f) => reattribute(f, ctx(S3_CONFIG, {'203.0.113.1': [BUCKET]})));
    expect(result.moved.map((m) => m.to)).toEqual([`${BUCKET}:443`]);
    await worker.scheduleEdits(result);
    await worker.tick();

    expect(channel.patches).toEqual([before.id]);
    const after = alertPost();
    expect(after.message).toContain(BUCKET);
    expect(after.message).toContain('File storage');
    const data = readAlertData(after.props)!;
    expect(data.digest_id).toBe(readAlertData(before.props)!.digest_id);
    expect(data.findings.map((f) => f.key).sort()).toEqual([`${BUCKET}:443`, 'files.example.com:443']);
    expect(data.findings.find((f) => f.key === `${BUCKET}:443`)?.features.map((f) => f.configPath)).toEqual(['FileSettings.AmazonS3Endpoint']);
    expect(JSON.stringify(after.props)).toContain(`"key":"${BUCKET}:443"`);
    expect(JSON.stringify(after.props)).not.toContain('"key":"203.0.113.1:443"');
    expect(channel.posts.size).toBe(1);
    // The moved finding is still this post's: later activity goes to its thread.
    expect((await store.getFinding(`${BUCKET}:443`))?.alertPostId).toBe(before.id);

    // Nothing new: no edit.
    await worker.scheduleEdits(await store.reattributeOpen((f) => reattribute(f, ctx(S3_CONFIG, {'203.0.113.1': [BUCKET]}))));
    await worker.tick();
    expect(channel.patches).toHaveLength(1);
  });

  it('edits for a feature alone, and several changes while the edit waits make one edit', async () => {
    const withFeature = {
      PluginSettings: {Enable: true, PluginStates: {x: {Enable: true}}},
      FileSettings: {...S3_CONFIG.FileSettings, AmazonS3Endpoint: 'files.example.com'},
    };
    const first = await store.reattributeOpen((f) => reattribute(f, ctx(withFeature)));
    expect(first.changedKeys).toEqual(['files.example.com:443']);
    await worker.scheduleEdits(first);
    await worker.scheduleEdits(first);
    await worker.tick();
    expect(channel.patches).toHaveLength(1);
    expect(alertPost().message).toContain('File storage');
  });
});

describe('calls Mattermost refused itself, read from an app: source', () => {
  let dir: string;
  let store: SqliteStore;
  let channel: RecordingChannel;
  let worker: AlertWorker;
  let ingest: Ingest;
  let n = 0;

  const refused = (url: string) =>
    `{"timestamp":"2026-11-28 08:00:30.000 Z","level":"error","msg":"Unable to get embed","error":"Get \\"${url}\\": address forbidden, you may need to set AllowedUntrustedInternalConnections to allow an integration access to your internal network"}`;
  const appBatch = (lines: string[]): SourceBatch => {
    const from = n === 0 ? null : `p${n}`;
    n += 1;
    return {
      sourceId: 'app',
      stream: {id: 'app', log: 'app', origin: 'app'},
      data: Buffer.from(lines.join('\n') + '\n'),
      lines: lines.length,
      cut: [],
      unterminated: false,
      from,
      position: `p${n}`,
    };
  };
  const notices = () => [...channel.posts.values()].filter((p) => p.props[REFUSALS_PROPS_KEY] !== undefined);

  beforeEach(() => {
    n = 0;
    ({dir, store, channel, worker} = setUp());
    ingest = new Ingest(
      store,
      new AttributionState(),
      () => 0,
      () => undefined,
    );
  });
  afterEach(async () => {
    await worker.stop();
    await store.close();
    rmSync(dir, {recursive: true, force: true});
  });

  it('are kept with their counts, shown in the status sentence, and announced once per address', async () => {
    await ingest.batch(appBatch([refused('http://10.0.0.40/preview'), refused('http://10.0.0.40/preview'), 'an ordinary line']));
    await worker.tick();
    expect(notices()).toHaveLength(1);
    const [notice] = notices();
    expect(notice.message).toContain('Mattermost refused 1 call to internal addresses itself');
    expect(notice.message).toContain('`ServiceSettings.AllowedUntrustedInternalConnections`');
    expect(notice.message).toContain('`http://10.0.0.40/preview` (2 times): add `10.0.0.40`');
    const reports = refusalReports(await store.getMeta(REFUSALS_META));
    expect(reports).toEqual([expect.objectContaining({url: 'http://10.0.0.40/preview', host: '10.0.0.40', count: 2, lastAt: '2026-11-28T08:00:30.000Z'})]);
    expect(refusalsSentence(reports)).toMatch(/^Mattermost refused a call itself \(10\.0\.0\.40\): .*ServiceSettings\.AllowedUntrustedInternalConnections/);

    // The same address again: counted, not announced again.
    await ingest.batch(appBatch([refused('http://10.0.0.40/preview')]));
    await worker.tick();
    expect(notices()).toHaveLength(1);
    expect(refusalReports(await store.getMeta(REFUSALS_META))[0].count).toBe(3);

    // A new address: one more notice, about it alone.
    await ingest.batch(appBatch([refused('http://192.168.1.9:8080/hook')]));
    await worker.tick();
    expect(notices()).toHaveLength(2);
    expect(notices()[1].message).toContain('192.168.1.9');
    expect(notices()[1].message).not.toContain('10.0.0.40');
  });

  it('keep at most a bounded number of addresses, whatever the log holds', async () => {
    const lines = Array.from({length: MAX_STORED_REFUSALS + 30}, (_, i) => refused(`http://10.1.${Math.floor(i / 250)}.${i % 250}/x`));
    await ingest.batch(appBatch(lines));
    expect(refusalReports(await store.getMeta(REFUSALS_META))).toHaveLength(MAX_STORED_REFUSALS);
    await worker.tick();
    expect(notices()).toHaveLength(1);
  });
});
