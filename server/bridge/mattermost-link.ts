// The bridge's standing connection to Mattermost: checks the token and says what is missing, sets up the
// bot, the admin channel and /egress, keeps the integration inventory fresh, and knows whether each
// direction works. Mattermost may be away at start or later; the link keeps trying and never throws.
import type {Logger} from 'pino';
import type {Post} from '@mattermost/types/posts';
import type {MattermostInboundStatus, MattermostOutboundStatus} from '../../common/api';
import {MattermostClient} from '../mattermost/client';
import {isMattermostError} from '../mattermost/errors';
import {checkConfigChanged, fetchInventory, type IntegrationInventory} from '../mattermost/inventory';
import {createPost, getPost, listPostsSince, patchPost} from '../mattermost/posts';
import {preflight} from '../mattermost/preflight';
import {writeBridgeSettings} from '../mattermost/plugin-settings';
import {setup} from '../mattermost/setup';
import type {Actor, Store} from '../store/types';
import type {AlertChannel} from './alerts';
import {adminActor, isMattermostId} from './caller';

const BOT_TOKEN_META = 'mattermost.bot-token';
const CHECK_INTERVAL_MS = 30_000;
/**
 * Webhooks and slash commands carry no change marker the way the config's hash does: without a full read
 * now and then, an integration added after start-up would never name the feature its blocked traffic breaks.
 */
const INVENTORY_MAX_AGE_MS = 5 * 60_000;
const WAITING =
  "No call from the Egress Advisor plugin yet: upload and enable it in System Console > Plugins. The bridge writes its URL and secret into the plugin's settings once it has connected to Mattermost.";

export interface LinkOptions {
  url: string;
  token: string;
  team: string | null;
  channel: string;
  channelPrivate: boolean;
  /** The bridge's URL as the plugin reaches it; written into the plugin's settings. */
  publicUrl: string;
  /** The secret the plugin signs its calls with; written into the plugin's settings. */
  pluginSecret: string;
  /** How often the link checks Mattermost, and reconnects when it was away. Default 30 s. */
  checkIntervalMs?: number;
  /** The integration inventory is read again at least this often, config change or not. Default 5 min. */
  inventoryMaxAgeMs?: number;
  /**
   * Whether this replica leads (see leader.ts). Only the leader creates the bot and the channel and writes
   * the plugin's settings; a follower checks Mattermost and reads the inventory. Default: always leads.
   */
  leading?: () => boolean;
}

export class MattermostLink {
  outbound: MattermostOutboundStatus;
  inbound: MattermostInboundStatus;
  channel: AlertChannel | null = null;
  inventory: IntegrationInventory | null = null;
  private readonly admin: MattermostClient;
  private timer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;
  /** Problems already logged: each is logged once, and again only after it went away and came back. */
  private logged = new Set<string>();

  constructor(
    private readonly opts: LinkOptions,
    private readonly store: Store,
    private readonly log: Logger,
    private readonly onInventory: (inv: IntegrationInventory) => void,
  ) {
    this.admin = new MattermostClient({url: opts.url, token: opts.token});
    this.outbound = {state: 'unknown', url: opts.url, checkedAt: null, serverVersion: null, identity: null, error: null, problems: []};
    this.inbound = {state: 'waiting', bridgeUrl: opts.publicUrl, reason: WAITING, lastCallAt: null};
  }

  /**
   * What keeps the link from working and needs a person (a rejected token, a missing permission, no team),
   * as opposed to Mattermost being away for a while; null when there is none.
   */
  get problem(): string | null {
    if (this.outbound.state !== 'down') return null;
    const errors = this.outbound.problems.filter((p) => p.severity === 'error');
    return errors.length > 0 ? errors.map((p) => p.message).join(' ') : null;
  }

  /** Why callers cannot be looked up now (see adminCaller), or null while Mattermost answers. */
  get lookupProblem(): string | null {
    if (this.outbound.state === 'up') return null;
    return this.problem ?? this.outbound.error ?? 'Mattermost has not answered the bridge yet.';
  }

  get up(): boolean {
    return this.outbound.state === 'up' && (this.channel !== null || !this.leads);
  }

  /** The admin identity's client while Mattermost answers, for calls beyond the link's own (connection tests). */
  get adminClient(): MattermostClient | null {
    return this.outbound.state === 'up' ? this.admin : null;
  }

  private get leads(): boolean {
    return this.opts.leading?.() ?? true;
  }

  /** This replica stopped leading: the channel is the new leader's to post in. */
  demote(): void {
    this.channel = null;
  }

  start(): void {
    void this.connect();
    this.timer = setInterval(() => void this.check(), this.opts.checkIntervalMs ?? CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A signed call from the plugin arrived. */
  markCalled(): void {
    this.inbound = {
      ...this.inbound,
      state: 'connected',
      reason: 'The plugin carries every call in, signed with the secret the bridge wrote into its settings.',
      lastCallAt: new Date().toISOString(),
    };
  }

  /** One attempt at the whole set-up; on failure the periodic check tries again. */
  connect(): Promise<void> {
    if (this.connecting === null) {
      this.connecting = this.doConnect().finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const checkedAt = new Date().toISOString();
    try {
      const report = await preflight(this.admin, {teams: this.opts.team ? [this.opts.team] : undefined});
      this.outbound = {
        state: report.ok ? 'up' : 'down',
        url: this.opts.url,
        checkedAt,
        serverVersion: report.serverVersion || null,
        identity: report.identity ? {userId: report.identity.id, username: report.identity.username, isBot: report.identity.isBot} : null,
        error: report.ok
          ? null
          : report.problems
              .filter((p) => p.severity === 'error')
              .map((p) => `${p.message} ${p.fix}`)
              .join(' ') || null,
        problems: report.problems.map((p) => ({code: p.code, severity: p.severity, message: `${p.message} ${p.fix}`})),
      };
      const now = new Set(report.problems.map((p) => `${p.code}|${p.message}`));
      for (const p of report.problems) if (!this.logged.has(`${p.code}|${p.message}`)) this.log.warn({code: p.code, fix: p.fix}, p.message);
      this.logged = now;
      if (!report.ok) return;
      const team = this.opts.team ?? (await this.admin.call('getMyTeams', (api) => api.getMyTeams()))[0]?.name;
      if (!team) {
        const message = 'The bridge identity belongs to no team: set EGRESS_ADVISOR_TEAM or add it to a team.';
        this.outbound = {
          ...this.outbound,
          state: 'down',
          error: message,
          problems: [...this.outbound.problems, {code: 'team-missing', severity: 'error', message}],
        };
        if (!this.logged.has(`team-missing|${message}`)) this.log.warn({code: 'team-missing'}, message);
        this.logged.add(`team-missing|${message}`);
        return;
      }
      if (!this.leads) {
        this.channel = null;
        await this.refreshInventory(true);
        this.log.info({team}, 'connected to Mattermost as a follower (the leader sets it up and posts)');
        return;
      }
      const storedToken = (await this.store.getMeta(BOT_TOKEN_META)) ?? undefined;
      const result = await setup(this.admin, {
        botToken: storedToken,
        channel: {team, name: this.opts.channel, private: this.opts.channelPrivate},
      });
      if (result.botToken.token !== storedToken) await this.store.setMeta(BOT_TOKEN_META, result.botToken.token);
      await writeBridgeSettings(this.admin, this.opts.publicUrl, this.opts.pluginSecret);
      const bot = result.botClient;
      const channelId = result.channel.channel.id;
      this.channel = {
        channelId,
        createPost: (p) => createPost(bot, {channelId, message: p.message, props: p.props, type: p.type, rootId: p.rootId}),
        postsSince: (since: number): Promise<Post[]> => listPostsSince(bot, channelId, since),
        getPost: (postId) => getPost(bot, postId),
        patchPost: (postId, patch) => patchPost(bot, postId, patch),
      };
      await this.refreshInventory(true);
      this.log.info(
        {team, channel: this.opts.channel, bridgeUrl: this.opts.publicUrl},
        "connected to Mattermost; the plugin's settings hold this bridge's URL and secret",
      );
    } catch (err) {
      this.fail(err, checkedAt);
    }
  }

  private fail(err: unknown, checkedAt: string): void {
    const message = err instanceof Error ? this.admin.scrub(err.message) : String(err);
    const was = this.outbound.state;
    this.outbound = {...this.outbound, state: 'down', checkedAt, error: message};
    if (was !== 'down') this.log.warn({err: message}, 'Mattermost is not reachable; alerts wait in the outbox');
  }

  private async refreshInventory(force: boolean): Promise<void> {
    const known = this.inventory;
    if (!force && known !== null && Date.now() - known.fetchedAt < (this.opts.inventoryMaxAgeMs ?? INVENTORY_MAX_AGE_MS)) {
      const change = await checkConfigChanged(this.admin, known.configHash);
      if (!change.changed) return;
    }
    this.inventory = await fetchInventory(this.admin);
    this.onInventory(this.inventory);
  }

  private async check(): Promise<void> {
    if ((this.channel === null && this.leads) || this.outbound.state !== 'up') {
      await this.connect();
      return;
    }
    const checkedAt = new Date().toISOString();
    try {
      await this.admin.call('ping', (api) => api.ping(false));
      this.outbound = {...this.outbound, checkedAt};
      await this.refreshInventory(false);
    } catch (err) {
      this.fail(err, checkedAt);
    }
  }

  /**
   * The caller as Mattermost knows them, when a system admin; null for anyone else, for an id not of
   * Mattermost's form, or when the lookup fails (see caller.ts). Looked up on every call, never kept: the
   * plugin has just checked manage_system, and an answer kept here would let a demoted admin act for a while
   * after the plugin refuses them; commands and clicks come at a person's pace, so the lookup costs little.
   */
  async adminCaller(userId: string): Promise<Actor | null> {
    if (!isMattermostId(userId)) return null;
    try {
      return adminActor(userId, await this.admin.call('getUser', (api) => api.getUser(userId)));
    } catch (err) {
      if (!isMattermostError(err)) throw err;
      return null;
    }
  }
}
