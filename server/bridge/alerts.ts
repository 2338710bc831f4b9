// Delivers the notification outbox to the admin channel. New destinations wait out the digest window and
// go out as one post; later activity becomes a reply in that post's thread, at most once per interval. When
// Mattermost is away, items wait with back-off and go out once when it returns: a post is only created after
// checking the channel for one carrying the same digest id, so a crash between "posted" and "marked
// delivered" cannot post twice.
import type {Logger} from 'pino';
import type {Post} from '@mattermost/types/posts';
import type {ConnectionTestResult} from '../../common/connection-tests';
import type {SuggestionFormat} from '../../common/types';
import type {IntegrationItem} from '../../common/api';
import {ALERT_POST_TYPE, AT_RISK_PROPS_KEY, THREAD_UPDATE_PROPS_KEY, readAlertData, type AlertIgnored} from '../../common/alert';
import {findingsForSuggestion} from '../engine/integrations';
import {isMattermostError} from '../mattermost/errors';
import {
  MAX_ALERT_LINES,
  MAX_ALERT_YAML_DESTINATIONS,
  renderAlert,
  renderAtRiskNotice,
  renderStatusChange,
  renderThreadUpdate,
  type RenderedAlert,
  type ThreadUpdateEntry,
} from '../present/alert';
import {renderTest} from '../present/replies';
import {suggest, type SuggestContext} from '../engine/suggest';
import {buttonFindings} from '../present/props';
import {backoffDelayMs} from '../store/backoff';
import type {ClaimedItem, OutboxInput, ReattributeResult, Store, StoredFinding} from '../store/types';
import {compareFindings} from '../engine/findings';
import {allFindings} from './pages';
import {REFUSALS_DEDUPE_KEY, REFUSALS_META, REFUSALS_TOLD_META, untold} from './refusals';
import {REFUSALS_PROPS_KEY, renderRefusalsNotice} from '../present/refusals';
import {suggestAmongOpen, type Configured} from './suggestions';

/** Default for AlertWorkerOptions.updateIntervalMs (EGRESS_ADVISOR_UPDATE_SECONDS). */
export const UPDATE_INTERVAL_MS = 10 * 60 * 1000;

/** The few Mattermost calls the worker needs, bound to the bot's identity and the admin channel. */
export interface AlertChannel {
  channelId: string;
  createPost(post: {message: string; props: Record<string, unknown>; type: string; rootId?: string}): Promise<Post>;
  postsSince(sinceMs: number): Promise<Post[]>;
  getPost(postId: string): Promise<Post>;
  /** Replaces the message and all props of one of the bot's posts. */
  patchPost(postId: string, patch: {message: string; props: Record<string, unknown>}): Promise<Post>;
}

export interface AlertSettings {
  format: SuggestionFormat;
  /** The plugin's ShowAlertYaml: false leaves the YAML out of posts (the button and /egress snippet give it). */
  showYaml: boolean;
  context: SuggestContext;
  /** The configured integrations held against the open findings: the alert's YAML is its part of the one patch. */
  configured?: Configured;
  actionUrl: string;
  hmacKey: Buffer;
  siteUrl: string | undefined;
}

export interface AlertCounters {
  sent(kind: 'alert' | 'update'): void;
  failed(): void;
}

export interface AlertWorkerOptions {
  /** A thread reply goes out at most once per this interval per alert post. Default UPDATE_INTERVAL_MS. */
  updateIntervalMs?: number;
  /** Configured integrations that will be blocked and no traffic has shown yet, read when the notice goes out. */
  atRisk?: () => Promise<AtRisk>;
}

export interface AtRisk {
  items: IntegrationItem[];
  mode: 'REGISTRY_ONLY' | 'ALLOW_ANY' | 'unknown';
}

/** The one outbox item of the at-risk notice: a new one while it waits replaces it. */
export const AT_RISK_DEDUPE_KEY = 'will-be-blocked';

/** The one outbox item of the store-full notice, and the meta flag that it went out (it goes out once). */
export const STORE_FULL_DEDUPE_KEY = 'store-full';
const STORE_FULL_META = 'store.full-announced';

/** Remembers that an integration was warned about, so each is announced once. */
export function warnedKey(i: Pick<IntegrationItem, 'feature' | 'host' | 'port'>): string {
  return `warned:${i.feature.id}|${i.host}:${i.port ?? ''}`;
}

interface UpdatePayload {
  postId: string;
}

/** The alert post itself is rewritten (a destination it lists was named again), not answered in its thread. */
/** Who ignored which of these findings, as an alert card says it. */
function ignoredOf(findings: readonly StoredFinding[]): Record<string, AlertIgnored> {
  const out: Record<string, AlertIgnored> = {};
  for (const f of findings)
    if (f.status === 'ignored' && f.ignored !== null) out[f.key] = {by: f.ignored.by.username, reason: f.ignored.reason, at: f.ignored.at};
  return out;
}

/**
 * The post a delivery made before a crash left it unrecorded, recognised by the id its props carry (looked
 * for since shortly before the item was enqueued), so that it is adopted instead of posted again.
 */
async function postedBefore(channel: AlertChannel, item: ClaimedItem, propsKey: string, idField: string, id: string): Promise<Post | undefined> {
  return (await channel.postsSince(Date.parse(item.createdAt) - 60_000)).find(
    (p) => (p.props?.[propsKey] as Record<string, unknown> | undefined)?.[idField] === id,
  );
}

interface EditPayload extends UpdatePayload {
  edit: true;
}

function isEdit(item: ClaimedItem): boolean {
  return item.kind === 'alert-update' && (item.payload as Partial<EditPayload> | null)?.edit === true;
}

/** Hops followed from a key to where its finding moved; a finding is named once, so one hop is the rule. */
const MAX_MOVES = 5;

interface StatusChangePayload extends UpdatePayload {
  key: string;
  change: 'ignore' | 'unignore';
}

interface TestReplyPayload extends UpdatePayload {
  result: ConnectionTestResult;
}

/** Props of a connection test's thread reply: its outbox item, so that a crash between posting and marking it delivered cannot post it twice. */
export const TEST_REPLY_PROPS_KEY = 'egress_advisor_test_reply';

/** A connection test's result (after a fix) as a reply in an alert's thread; the same result for the same thread is queued once. */
export function testReply(postId: string, result: ConnectionTestResult): OutboxInput {
  return {kind: 'test-reply', payload: {postId, result} satisfies TestReplyPayload, dedupeKey: `test:${result.id}:${postId}`};
}

/** Enqueued with a resolution: a reply in the alert's thread naming what now lets the destination out. */
export function resolvedUpdate(postId: string): OutboxInput {
  return {kind: 'finding-status', payload: {postId} satisfies UpdatePayload, dedupeKey: `resolved:${postId}`};
}

export class AlertWorker {
  private timer: NodeJS.Timeout | null = null;
  private readonly wakes = new Set<NodeJS.Timeout>();
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly updateIntervalMs: number;
  private readonly atRisk: (() => Promise<AtRisk>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly channel: () => AlertChannel | null,
    private readonly settings: () => AlertSettings,
    private readonly log: Logger,
    private readonly counters: AlertCounters,
    opts: AlertWorkerOptions = {},
  ) {
    this.updateIntervalMs = opts.updateIntervalMs ?? UPDATE_INTERVAL_MS;
    this.atRisk = opts.atRisk;
  }

  /** Also after stop(): a replica that leads again resumes delivery. */
  start(intervalMs = 1000): void {
    this.stopped = false;
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.wakes) clearTimeout(t);
    this.wakes.clear();
    await this.running;
  }

  /**
   * One pass over what is due; concurrent calls share the pass in flight. Never rejects: callers fire it
   * from timers, and a store error (or a store closed by stop()) must not become an unhandled rejection,
   * which ends a Node process. What was not delivered stays in the outbox for the next pass.
   */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running === null) {
      this.running = this.deliverDue()
        .catch((err: unknown) => {
          this.counters.failed();
          this.log.warn({err: err instanceof Error ? err.message : String(err)}, 'alert delivery pass failed; will try again');
        })
        .finally(() => {
          this.running = null;
        });
    }
    return this.running;
  }

  /** An item enqueued for `at` goes out then, rather than at the next poll. */
  wakeAt(at: Date): void {
    if (this.stopped) return;
    const timer = setTimeout(
      () => {
        this.wakes.delete(timer);
        void this.tick();
      },
      Math.max(0, at.getTime() - Date.now()) + 5,
    );
    timer.unref();
    this.wakes.add(timer);
  }

  /** The store dropped or removed destinations for room: the admin channel is told, once. */
  async storeFull(): Promise<void> {
    if ((await this.store.getMeta(STORE_FULL_META)) !== null) return;
    await this.store.enqueue({kind: 'notice', payload: {type: STORE_FULL_DEDUPE_KEY}, dedupeKey: STORE_FULL_DEDUPE_KEY});
    this.wakeAt(new Date());
  }

  /**
   * For the store's ignore/unignore (same transaction as the change): a reply in the thread of the alert that
   * announced the destination, saying who did what. A later change of the same destination while this one
   * waits replaces it: the thread says where it ended up.
   */
  statusChanged(f: StoredFinding, change: 'ignore' | 'unignore'): OutboxInput[] {
    if (f.alertPostId === null) return [];
    const payload: StatusChangePayload = {postId: f.alertPostId, key: f.key, change};
    return [
      {kind: 'finding-status', payload, dedupeKey: `status:${f.alertPostId}:${f.key}`},
      // The alert is drawn again, so that its card (and the message a phone shows) says the destination is ignored.
      {kind: 'alert-update', payload: {postId: f.alertPostId, edit: true} satisfies EditPayload, dedupeKey: `edit:${f.alertPostId}`},
    ];
  }

  /** After a change in a destination that was already announced: a thread reply, not before the interval. */
  async scheduleUpdates(keys: readonly string[]): Promise<void> {
    const posts = new Set<string>();
    for (const key of keys) {
      const f = await this.store.getFinding(key);
      if (f?.alertPostId && f.status === 'open') posts.add(f.alertPostId);
    }
    for (const postId of posts) {
      await this.store.enqueue({
        kind: 'alert-update',
        payload: {postId} satisfies UpdatePayload,
        dedupeKey: `update:${postId}`,
        availableAt: new Date(Date.now() + this.updateIntervalMs),
      });
    }
  }

  /**
   * After open findings were named again (Mattermost's configuration changed): each alert post that lists
   * one of them is rewritten once, so its card and text show the new name and features. Posts whose
   * findings did not change are left alone; several changes while an edit waits make one edit.
   */
  async scheduleEdits(result: ReattributeResult): Promise<void> {
    const posts = new Set<string>();
    for (const m of result.moved) if (m.alertPostId !== null) posts.add(m.alertPostId);
    for (const key of result.changedKeys) {
      const f = await this.store.getFinding(key);
      if (f?.alertPostId) posts.add(f.alertPostId);
    }
    for (const postId of posts) {
      await this.store.enqueue({kind: 'alert-update', payload: {postId, edit: true} satisfies EditPayload, dedupeKey: `edit:${postId}`});
    }
    if (posts.size > 0) this.wakeAt(new Date());
  }

  private async deliverDue(): Promise<void> {
    const channel = this.channel();
    if (channel === null) return;
    const items = await this.store.claimDue(new Date(), 10, {leaseMs: 60_000});
    for (const item of items) {
      try {
        const postId = await this.deliver(channel, item);
        await this.store.markDelivered(item.id, postId);
      } catch (err) {
        this.counters.failed();
        const permanent = isMattermostError(err) && !err.retryable;
        const delay = backoffDelayMs(item.attempts, Math.random());
        const message = err instanceof Error ? err.message : String(err);
        // An edit Mattermost refuses for good (ServiceSettings.PostEditTimeLimit, a deleted post) is given up:
        // the page, /egress and the thread still say the new name.
        if (permanent && isEdit(item)) {
          this.log.warn({outboxId: item.id, err: message}, 'alert post not edited; Mattermost refused the edit');
          await this.store.markFailed(item.id, message, null, item.claimToken);
          continue;
        }
        this.log.warn({outboxId: item.id, kind: item.kind, attempts: item.attempts, permanent, err: message}, 'alert not delivered; will retry');
        await this.store.markFailed(item.id, message, new Date(Date.now() + (permanent ? Math.max(delay, 60_000) : delay)), item.claimToken);
      }
    }
  }

  /** Delivers one outbox item by its kind; the id of the post it made or edited, or null for none. */
  private async deliver(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    switch (item.kind) {
      case 'alert-update':
        return isEdit(item) ? this.deliverEdit(channel, item) : this.deliverUpdate(channel, item);
      case 'finding-status':
        return 'change' in (item.payload as object) ? this.deliverStatusChange(channel, item) : this.deliverResolved(channel, item);
      case 'test-reply':
        return this.deliverTestReply(channel, item);
      case 'notice': {
        const type = (item.payload as {type?: unknown} | null)?.type;
        if (type === STORE_FULL_DEDUPE_KEY) return this.deliverStoreFull(channel, item);
        if (type === REFUSALS_DEDUPE_KEY) return this.deliverRefusals(channel, item);
        return this.deliverAtRisk(channel, item);
      }
      default:
        return this.deliverDigest(channel, item);
    }
  }

  private async unannounced(): Promise<StoredFinding[]> {
    // All of them: a digest that took only the first page would leave the rest unannounced until the next new destination.
    return (await allFindings(this.store, {status: 'open'})).filter((f) => f.alertPostId === null && f.verdict !== 'external-ok' && f.verdict !== 'internal');
  }

  /**
   * What each Ignore button is drawn knowing: the id of its finding's latest ignore or un-ignore. A click made
   * after a newer decision is refused, so an older decision never overrides a newer one.
   */
  private async decisionsOf(findings: readonly StoredFinding[]): Promise<Map<string, number>> {
    const decisions = new Map<string, number>();
    for (const f of buttonFindings(findings)) {
      decisions.set(f.key, (await this.store.listDecisions(f.key)).filter((d) => d.action === 'ignore' || d.action === 'unignore').at(-1)?.id ?? 0);
    }
    return decisions;
  }

  private async deliverDigest(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    const digestId = `digest-${item.id}`;
    const findings = await this.unannounced();
    if (findings.length === 0) return null;
    // Was this digest posted before a crash? Then adopt that post instead of posting again.
    const since = Date.parse(item.createdAt) - 60_000;
    const existing = (await channel.postsSince(since)).find((p) => readAlertData(p.props)?.digest_id === digestId);
    let postId: string;
    let announced: string[];
    if (existing) {
      postId = existing.id;
      announced = readAlertData(existing.props)?.findings.map((f) => f.key) ?? [];
    } else {
      const rendered = await this.renderFor(findings, digestId, new Date());
      const post = await channel.createPost({message: rendered.message, props: rendered.props as unknown as Record<string, unknown>, type: ALERT_POST_TYPE});
      postId = post.id;
      announced = findings.map((f) => f.key);
      this.counters.sent('alert');
      this.log.info({postId, destinations: findings.length}, 'alert posted');
    }
    for (const key of announced) {
      await this.store.setAlertPostId(key, postId);
      const f = await this.store.getFinding(key);
      if (f) await this.store.recordAnnounced(key, f.count, f.pods);
    }
    return postId;
  }

  /**
   * An alert post for these findings, first or drawn again: among every open destination (and these), as
   * `/egress snippet all` sees them, so that its YAML is its part of that. A long alert lists only its first
   * lines and carries no YAML, so only those are planned. Ignored ones are said to be ignored.
   */
  private async renderFor(findings: StoredFinding[], digestId: string, now: Date): Promise<RenderedAlert> {
    const s = this.settings();
    const planned = findings.length <= MAX_ALERT_YAML_DESTINATIONS ? findings : findings.slice(0, MAX_ALERT_LINES);
    const suggestion = await suggestAmongOpen(this.store, planned, s.format, s.context, s.configured);
    return renderAlert({
      findings,
      plans: suggestion.plans,
      suggestionYaml: s.showYaml ? suggestion.yaml : '',
      format: s.format,
      actionUrl: s.actionUrl,
      hmacKey: s.hmacKey,
      now,
      siteUrl: s.siteUrl,
      digestId,
      ignored: ignoredOf(findings),
      decisions: await this.decisionsOf(findings),
    });
  }

  /** The alert rendered again from what its findings say now; null when that is what it says already. */
  private async deliverEdit(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    const {postId} = item.payload as EditPayload;
    const post = await channel.getPost(postId);
    const data = readAlertData(post.props);
    if (data === null) return null;
    const keys: string[] = [];
    for (const listed of data.findings.map((f) => f.key)) {
      let key = listed;
      for (let hop = 0; hop < MAX_MOVES && (await this.store.getFinding(key)) === null; hop++) {
        const to = await this.store.movedTo(key);
        if (to === null) break;
        key = to;
      }
      if (!keys.includes(key)) keys.push(key);
    }
    // Findings the props left out (a long alert) are still this post's: the store knows them by its id.
    for (const f of await allFindings(this.store, {})) if (f.alertPostId === postId && !keys.includes(f.key)) keys.push(f.key);
    const findings: StoredFinding[] = [];
    for (const key of keys) {
      const f = await this.store.getFinding(key);
      if (f !== null) findings.push(f);
    }
    if (findings.length === 0) return null;
    findings.sort(compareFindings);
    // Buttons keep the expiry they were posted with.
    const rendered = await this.renderFor(findings, data.digest_id, new Date(post.create_at));
    const props = {...post.props, ...(rendered.props as unknown as Record<string, unknown>)};
    if (rendered.message === post.message && JSON.stringify(props) === JSON.stringify(post.props)) return null;
    await channel.patchPost(postId, {message: rendered.message, props});
    this.counters.sent('update');
    this.log.info({postId, destinations: findings.length}, 'alert post edited: a destination it lists was named again, ignored or un-ignored');
    return postId;
  }

  private async deliverUpdate(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    const {postId} = item.payload as UpdatePayload;
    const entries: ThreadUpdateEntry[] = [];
    for (const f of (await allFindings(this.store, {status: 'open'})).filter((x) => x.alertPostId === postId)) {
      const before = await this.store.getAlertState(f.key);
      const count = before?.announcedCount ?? 0;
      const pods = before?.announcedPods ?? [];
      if (f.count > count || f.pods.some((p) => !pods.includes(p))) entries.push({finding: f, previousCount: count, previousPods: pods});
    }
    return this.reply(channel, item, postId, entries, `update-${item.id}`, (e) => this.store.recordAnnounced(e.finding.key, e.finding.count, e.finding.pods));
  }

  private async deliverResolved(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    const {postId} = item.payload as UpdatePayload;
    const entries: ThreadUpdateEntry[] = [];
    for (const f of (await allFindings(this.store, {status: 'resolved'})).filter((x) => x.alertPostId === postId)) {
      if ((await this.store.getAlertState(f.key))?.resolvedAnnouncedAt === f.resolvedAt) continue;
      const decision = (await this.store.listDecisions(f.key)).filter((d) => d.action === 'resolve').at(-1);
      entries.push({finding: f, previousCount: f.count, previousPods: f.pods, resolution: decision?.reason || 'resolved'});
    }
    return this.reply(channel, item, postId, entries, `resolved-${item.id}`, async (e) => {
      const f = e.finding as StoredFinding;
      if (f.resolvedAt !== null) await this.store.recordResolutionAnnounced(f.key, f.resolvedAt);
    });
  }

  private async deliverStatusChange(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    const p = item.payload as StatusChangePayload;
    const f = await this.store.getFinding(p.key);
    if (f === null) return null;
    const digestId = `status-${item.id}`;
    const existing = await postedBefore(channel, item, THREAD_UPDATE_PROPS_KEY, 'digest_id', digestId);
    if (existing) return existing.id;
    // Who and why, from the decision the change recorded.
    const decision = (await this.store.listDecisions(p.key)).filter((d) => d.action === p.change).at(-1);
    const rendered = renderStatusChange({
      digestId,
      finding: f,
      change: p.change,
      by: decision?.by?.username ?? 'an administrator',
      reason: decision?.reason ?? '',
    });
    const reply = await channel.createPost({
      message: rendered.message,
      props: rendered.props as unknown as Record<string, unknown>,
      type: '',
      rootId: p.postId,
    });
    this.counters.sent('update');
    return reply.id;
  }

  private async deliverTestReply(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    const p = item.payload as TestReplyPayload;
    const replyId = `test-${item.id}`;
    const existing = await postedBefore(channel, item, TEST_REPLY_PROPS_KEY, 'reply_id', replyId);
    if (existing) return existing.id;
    const reply = await channel.createPost({
      message: renderTest({ran: true, result: p.result}),
      props: {[TEST_REPLY_PROPS_KEY]: {reply_id: replyId, test_id: p.result.id}},
      type: '',
      rootId: p.postId,
    });
    this.counters.sent('update');
    return reply.id;
  }

  /** Read when it goes out, so it says what is at risk then, not when it was enqueued. */
  private async deliverAtRisk(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    if (this.atRisk === undefined) return null;
    const {items, mode} = await this.atRisk();
    const fresh: IntegrationItem[] = [];
    for (const i of items) if ((await this.store.getMeta(warnedKey(i))) === null) fresh.push(i);
    if (fresh.length === 0) return null;
    const noticeId = `notice-${item.id}`;
    const existing = await postedBefore(channel, item, AT_RISK_PROPS_KEY, 'notice_id', noticeId);
    let postId = existing?.id;
    if (postId === undefined) {
      const s = this.settings();
      const suggestion = suggest(findingsForSuggestion(fresh, [], mode), {format: s.format, ...s.context});
      const rendered = renderAtRiskNotice({
        items: fresh,
        mode,
        suggestionYaml: s.showYaml ? suggestion.yaml : '',
        format: s.format,
        plans: suggestion.plans,
        siteUrl: s.siteUrl,
        noticeId,
      });
      postId = (await channel.createPost({message: rendered.message, props: rendered.props, type: ''})).id;
      this.counters.sent('alert');
      this.log.info({postId, integrations: fresh.length}, 'notice posted: configured integrations that will be blocked');
    }
    for (const i of fresh) await this.store.setMeta(warnedKey(i), postId);
    return postId;
  }

  /** The refused calls the channel was not told about yet, in one post; each URL is said once. */
  private async deliverRefusals(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    const {fresh, told} = untold(await this.store.getMeta(REFUSALS_META), await this.store.getMeta(REFUSALS_TOLD_META));
    if (fresh.length === 0) return null;
    const noticeId = `refusals-${item.id}`;
    const existing = await postedBefore(channel, item, REFUSALS_PROPS_KEY, 'notice_id', noticeId);
    let postId = existing?.id;
    if (postId === undefined) {
      const rendered = renderRefusalsNotice(
        fresh.map((r) => ({url: r.url, host: r.host, count: r.count, lastAt: null, advice: r.advice})),
        noticeId,
      );
      postId = (await channel.createPost({message: rendered.message, props: rendered.props, type: ''})).id;
      this.counters.sent('alert');
      this.log.info({postId, refusals: fresh.length}, 'notice posted: calls Mattermost refused itself');
    }
    await this.store.setMeta(REFUSALS_TOLD_META, JSON.stringify(told));
    return postId;
  }

  private async deliverStoreFull(channel: AlertChannel, item: ClaimedItem): Promise<string | null> {
    if ((await this.store.getMeta(STORE_FULL_META)) !== null) return null;
    const noticeId = `store-full-${item.id}`;
    const existing = await postedBefore(channel, item, 'egress_advisor_notice', 'notice_id', noticeId);
    let postId = existing?.id;
    if (postId === undefined) {
      const o = await this.store.getOverflow();
      const message =
        `#### Egress Advisor's store is full\n` +
        `It holds its maximum of ${o.maxFindings} findings, so new destinations that are only an IP address, and that no configured integration explains, are counted but not kept: ` +
        `so far ${o.destinations} destinations (${o.lines} lines) not kept and ${o.evicted} such findings removed to make room. ` +
        'Host names and destinations a configured integration explains are always kept. ' +
        'Many distinct addresses usually mean something makes Mattermost call arbitrary addresses (link previews, for instance); the counts are in `/egress status` and in the metric `egress_advisor_store_overflow`. This is said once.';
      postId = (await channel.createPost({message, props: {egress_advisor_notice: {notice_id: noticeId, kind: STORE_FULL_DEDUPE_KEY}}, type: ''})).id;
      this.counters.sent('alert');
      this.log.warn({postId, ...o}, 'the store is full: told the admin channel');
    }
    await this.store.setMeta(STORE_FULL_META, postId);
    return postId;
  }

  /** One reply in the alert's thread; a reply a crash left unacknowledged is recognised, not posted again. */
  private async reply(
    channel: AlertChannel,
    item: ClaimedItem,
    postId: string,
    entries: ThreadUpdateEntry[],
    digestId: string,
    told: (e: ThreadUpdateEntry) => Promise<void>,
  ): Promise<string | null> {
    if (entries.length === 0) return null;
    const existing = await postedBefore(channel, item, THREAD_UPDATE_PROPS_KEY, 'digest_id', digestId);
    if (existing) return existing.id;
    const rendered = renderThreadUpdate({digestId, entries});
    const reply = await channel.createPost({message: rendered.message, props: rendered.props as unknown as Record<string, unknown>, type: '', rootId: postId});
    for (const e of entries) await told(e);
    this.counters.sent('update');
    return reply.id;
  }
}
