// What the HTTP layer needs from the rest of the bridge. Everything is injected so that the layer can be
// tested alone and wired by the bridge's start-up code.
import type {Logger} from 'pino';
import type {Registry} from 'prom-client';

import type {
  ConnectionTestKind,
  ConnectionTestReport,
  ConnectionTestResponse,
  ConnectionTestResult,
  RehearsalReport,
  RehearsalResponse,
} from '../../common/connection-tests';
import type {IntegrationsResponse, StatusReport, SuggestionFormat, SuggestionsResponse} from '../../common/api';
import type {OutboxInput, Store, StoredFinding} from '../store/types';

/** The part of the store the HTTP layer reads and writes; the bridge's Store satisfies it. */
export type FindingsStore = Pick<Store, 'listFindings' | 'getFinding' | 'countFindings' | 'getHistory' | 'listDecisions' | 'ignore' | 'unignore'>;

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

/** /egress as the plugin forwards it: the trigger, what follows it, and who ran it where. */
export interface SlashCommandRequest {
  command: string;
  /** Everything after the trigger, as typed. */
  text: string;
  userId: string;
  username: string;
  channelId: string;
  teamId: string;
}

/** The plugin's settings page, as the plugin pushes it on every change (server/plugin/command.go). */
export interface PluginSettings {
  suggestionFormat: string;
  showAlertYaml: boolean;
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

/** A PostActionIntegrationRequest, with the user from the plugin's signed call; check `context`'s HMAC before trusting it. */
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
  /** Problems that leave the bridge able to serve the plugin (see StatusReport.ready); /readyz stays 200. */
  degraded?: string[];
}

export interface Liveness {
  alive: boolean;
  reasons: string[];
}

export interface HttpOptions {
  /** How far a signed call's time may be from the bridge's clock. Default 30 s (signature.ts). */
  signatureWindowMs?: number;
  /** Interval of SSE heartbeat comments. Default 15 s. */
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
  /** The secret the plugin signs its calls with (made by the bridge, written into the plugin's settings). */
  pluginSecret(): string;
  status(): Promise<StatusReport>;
  /** The one patch ("all"), or some findings' part of it, with plans (server/bridge/suggestions.ts). */
  suggest(keys: string[] | 'all', format: SuggestionFormat): Promise<SuggestionsResponse>;
  /** The plugin's suggestion format, in which a finding's detail gives its plan. */
  suggestionFormat(): SuggestionFormat;
  /** Configured integrations against what the mesh allows (their ServiceEntries are part of `suggest('all')`). */
  integrations(): Promise<Omit<IntegrationsResponse, 'tests' | 'rehearsal'>>;
  /** Mattermost's own connection tests (server/bridge/connection-tests.ts); the routes answer 404 without them. */
  connectionTests?: {
    report(): Promise<ConnectionTestReport[]>;
    run(kind: ConnectionTestKind, by: {userId: string; username: string}): Promise<ConnectionTestResponse>;
    forFinding(finding: StoredFinding): Promise<ConnectionTestResult[]>;
    /** The latest rehearsal of REGISTRY_ONLY (server/bridge/rehearsal.ts), or its "not run yet" report. */
    rehearsal(): Promise<RehearsalReport>;
    rehearse(by: {userId: string; username: string}): Promise<RehearsalResponse>;
  };
  onSlashCommand(req: SlashCommandRequest): Promise<CommandResponse>;
  onAction(req: ActionRequest): Promise<ActionResponse>;
  /** A correctly signed call arrived (the plugin is connected). */
  onSignedCall?: () => void;
  /** The plugin's settings changed; they apply from the next alert or command on. */
  onPluginSettings(settings: PluginSettings): void;
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
