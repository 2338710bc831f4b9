// An alert post says what its destinations are called now: when Mattermost's configuration names one of
// them later (an address becomes the S3 bucket, a host gains its feature), the post itself is edited, once
// per change. The store is the real SQLite store; Mattermost is stood in for by a recording channel (its
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
import {DIGEST_DEDUPE_KEY} from './ingest';

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
    dir = mkdtempSync(join(tmpdir(), 'egress-alerts-'));
    store = openSqliteStore(join(dir, 'store.db'));
    channel = new RecordingChannel();
    worker = new AlertWorker(
      store,
      () => channel,
      () => ({format: 'bigbang', showYaml: true, context: {}, actionUrl: 'http://bridge/actions', hmacKey: Buffer.alloc(32, 7), siteUrl: undefined}),
      pino({level: 'silent'}),
      {sent: () => undefined, failed: () => undefined},
    );
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
