// What the HTTP layer needs from the rest of the bridge. Everything is injected so that the layer can be
// tested alone and wired by the bridge's start-up code.
import type {Logger} from 'pino';
import type {Registry} from 'prom-client';

import type {ConnectionTestKind, ConnectionTestReport, ConnectionTestResponse, ConnectionTestResult} from '../../common/connection-tests';
import type {IntegrationsResponse, StatusReport, SuggestionFormat, SuggestionsResponse} from '../../common/api';
import type {OutboxInput, Store, StoredFinding} from '../store/types';

/** The part of the store the HTTP layer reads and writes; the bridge's Store satisfies it. */
export type FindingsStore = Pick<
  Store,
  'listFindings' | 'getFinding' | 'countFindings' | 'getHistory' | 'listDecisions' | 'ignore' | 'unignore'
>;

export interface SessionIdentity {
  userId: string;
  username: string;
  /** Mattermost roles, e.g. ["system_user", "system_admin"]. */
  roles: string[];
}

/**
 * Checks a Mattermost session token. 'invalid': Mattermost said no (expired, revoked, never existed).
 * 'unreachable': no usable answer, so nothing is known about the token.
 */
export type SessionVerifier = (token: string) => Promise<SessionIdentity | 'invalid' | 'unreachable'>;

/** Event name on `HttpDeps.events`. */
export const FINDINGS_CHANGED = 'findings-changed';

/** Payload of FINDINGS_CHANGED; omit keys (or the payload) when it is not known what changed. */
export interface FindingsChangedPayload {
  keys?: readonly string[];
}

/** A node EventEmitter fits. */
export interface FindingsEvents {
  on(event: typeof FINDINGS_CHANGED, listener: (payload?: FindingsChangedPayload) => void): unknown;
  off(event: typeof FINDINGS_CHANGED, listener: (payload?: FindingsChangedPayload) => void): unknown;
  emit(event: typeof FINDINGS_CHANGED, payload?: FindingsChangedPayload): boolean;
}

/** What Mattermost posts to the command URL (mattermost-platform.md 4.2), the token left out once checked. */
export interface SlashCommandRequest {
  command: string;
  /** Everything after the trigger, as typed. */
  text: string;
  userId: string;
  username: string;
  channelId: string;
  channelName: string;
  teamId: string;
  teamDomain: string;
  triggerId: string;
  /** Where deferred replies go (valid 30 min, 5 uses); '' when Mattermost sent none. */
  responseUrl: string;
  userMentions: string[];
  userMentionsIds: string[];
  channelMentions: string[];
  channelMentionsIds: string[];
}

/** The CommandResponse Mattermost reads when the answer is application/json (mattermost-platform.md 4.3). */
export interface CommandResponse {
  response_type?: 'ephemeral' | 'in_channel';
  text?: string;
  username?: string;
  icon_url?: string;
  channel_id?: string;
  type?: string;
  props?: Record<string, unknown>;
  goto_location?: string;
  skip_slack_parsing?: boolean;
  attachments?: unknown[];
  extra_responses?: CommandResponse[];
}

/** A PostActionIntegrationRequest (mattermost-platform.md 4.4). Nothing in it is authenticated but `context`'s HMAC. */
export interface ActionRequest {
  userId: string;
  username: string;
  channelId: string;
  channelName: string;
  teamId: string;
  teamDomain: string;
  postId: string;
  triggerId: string;
  type: string;
  dataSource: string;
  /** As posted; verify with server/present/hmac.ts verifyContext before trusting any of it. */
  context: Record<string, unknown>;
}

/** A PostActionIntegrationResponse. */
export interface ActionResponse {
  /** The post as it should become (Mattermost keeps its id). */
  update?: Record<string, unknown> | null;
  /** An ephemeral reply to the person who clicked. */
  ephemeral_text?: string;
  skip_slack_parsing?: boolean;
}

export interface Readiness {
  ready: boolean;
  reasons: string[];
}

export interface Liveness {
  alive: boolean;
  reasons: string[];
}

export interface HttpOptions {
  /**
   * The path of Mattermost's Site URL on a subpath install (e.g. "/chat"), when the ingress passes it on
   * to the bridge: the webapp API is then served under "/chat/plugins/egress-advisor/api/v1". Default "".
   */
  sitePath?: string;
  /** How long a verified session is trusted without asking Mattermost again. Default 30 s. */
  sessionTtlMs?: number;
  /** Most sessions remembered. Default 1000. */
  sessionCacheSize?: number;
  /** Interval of SSE heartbeat comments (and of the session re-check of open streams). Default 15 s. */
  heartbeatMs?: number;
  /** Most open event streams; more are refused with 503 (the webapp then polls). Default 100. */
  maxEventStreams?: number;
  /** Changes closer together than this reach the streams as one event. Default 250 ms. */
  eventCoalesceMs?: number;
  /** Epoch milliseconds; replaceable so tests can control time. */
  clock?: () => number;
}

export interface HttpDeps {
  store: FindingsStore;
  sessions: SessionVerifier;
  status(): Promise<StatusReport>;
  suggest(keys: string[] | 'all', format: SuggestionFormat): Promise<SuggestionsResponse>;
  /** Configured integrations against what the mesh allows, with the ServiceEntries for what it will block. */
  integrations(format: SuggestionFormat): Promise<IntegrationsResponse>;
  /** Mattermost's own connection tests (server/bridge/connection-tests.ts); the routes answer 404 without them. */
  connectionTests?: {
    report(): Promise<ConnectionTestReport[]>;
    run(kind: ConnectionTestKind, by: {userId: string; username: string}): Promise<ConnectionTestResponse>;
    forFinding(finding: StoredFinding): Promise<ConnectionTestResult[]>;
  };
  onSlashCommand(req: SlashCommandRequest): Promise<CommandResponse>;
  onAction(req: ActionRequest): Promise<ActionResponse>;
  /**
   * The token(s) Mattermost issued for the slash command (one per team it is registered in); null until the
   * command is registered, and commands are refused meanwhile.
   */
  slashToken(): string | readonly string[] | null;
  metrics: Registry;
  ready(): Readiness;
  /** Liveness: false only when restarting the process is the cure. Always alive when left out. */
  alive?(): Liveness;
  events: FindingsEvents;
  logger: Logger;
  /**
   * Outbox items to enqueue in the same transaction as an ignore/unignore made in the System Console
   * (e.g. update the alert post); nothing when left out.
   */
  notifyStatusChange?: (finding: StoredFinding, action: 'ignore' | 'unignore') => OutboxInput[];
  options?: HttpOptions;
}
