// The bridge's state in one report: the webapp gets it whole, `/egress status` gets a reading of the same
// report, so the two never disagree.
import type {MattermostRefusalReport, StatusReport, StoreOverflowReport} from '../../common/api';
import {UNTRUSTED_SETTING} from '../engine/applog';
import {REFUSALS_META, refusalReports} from './refusals';
import type {Logger} from 'pino';
import type {Verdict} from '../../common/types';
import type {StatusInput} from '../present/replies';
import type {LogSource} from '../sources';
import {readMetaJson} from '../store/meta-json';
import type {Store, StoreOverflow} from '../store/types';
import type {MattermostLink} from './mattermost-link';
import type {MeshLink} from './mesh-link';

const HARDENING_META = 'hardening.evidence';
/** How stale the stored time of the latest evidence may get while the state stays the same. */
const PERSIST_EVERY_MS = 60_000;

type Evidence = {state: 'registry-only' | 'allow-any'; at: string};

/**
 * REGISTRY_ONLY shows as blocked lines, ALLOW_ANY as passthrough lines; the latest evidence wins. It is
 * kept in the store, so that a restart does not forget what the mesh was seen doing.
 */
export class HardeningEvidence {
  private savedAt = 0;

  constructor(
    private last: Evidence | null = null,
    private readonly store: Pick<Store, 'setMeta'> | null = null,
    private readonly log: Logger | null = null,
  ) {}

  static async load(store: Store, log: Logger): Promise<HardeningEvidence> {
    let last: Evidence | null = null;
    const read = readMetaJson(await store.getMeta(HARDENING_META));
    if (read.state === 'unreadable') log.warn('the stored hardening evidence is not valid JSON; starting without it');
    const v = read.state === 'read' ? (read.value as Evidence | null) : null;
    if (v !== null && typeof v === 'object' && (v.state === 'registry-only' || v.state === 'allow-any') && typeof v.at === 'string')
      last = {state: v.state, at: v.at};
    return new HardeningEvidence(last, store, log);
  }

  see(lines: Partial<Record<Verdict, number>>): void {
    const before = this.last?.state;
    if (lines.blocked) this.last = {state: 'registry-only', at: new Date().toISOString()};
    else if (lines.passthrough) this.last = {state: 'allow-any', at: new Date().toISOString()};
    else return;
    if (this.store === null || (before === this.last.state && Date.now() - this.savedAt < PERSIST_EVERY_MS)) return;
    this.savedAt = Date.now();
    this.store
      .setMeta(HARDENING_META, JSON.stringify(this.last))
      .catch((err: Error) => this.log?.warn({err: err.message}, 'cannot store the hardening evidence'));
  }

  get report(): StatusReport['hardening'] {
    if (this.last === null) return {state: 'unknown', evidence: 'no blocked or passthrough line seen yet'};
    return this.last.state === 'registry-only'
      ? {state: 'registry-only', evidence: `BlackHoleCluster or block_all lines, latest read at ${this.last.at}`}
      : {state: 'allow-any', evidence: `PassthroughCluster lines (ALLOW_ANY), latest read at ${this.last.at}: findings are what hardening would block`};
  }
}

export interface StatusDeps {
  version: string;
  store: Store;
  sources: readonly LogSource[];
  link: MattermostLink | null;
  hardening: HardeningEvidence;
  mesh: Pick<MeshLink, 'report' | 'counts'>;
  replica(): StatusReport['replica'];
  ready(): StatusReport['ready'];
}

const NOT_CONFIGURED = 'MATTERMOST_URL is not set';

export async function statusReport(d: StatusDeps): Promise<StatusReport> {
  return {
    generatedAt: new Date().toISOString(),
    bridgeVersion: d.version,
    ready: d.ready(),
    sources: d.sources.map((s) => {
      const st = s.status();
      return {
        id: st.id,
        kind: st.kind,
        state: st.state,
        since: st.since,
        lastLineAt: st.lastLineAt,
        lines: st.lines,
        lastError: st.lastError,
        lastErrorAt: st.lastErrorAt,
        streams: st.streams.map((x) => ({id: x.id, origin: x.origin, state: x.state, lines: x.lines, lastLineAt: x.lastLineAt})),
        notices: st.notices.map((n) => ({at: n.at, code: n.code, message: n.message})),
      };
    }),
    mattermost: d.link
      ? {outbound: d.link.outbound, inbound: d.link.inbound}
      : {
          outbound: {state: 'unknown', url: null, checkedAt: null, serverVersion: null, identity: null, error: NOT_CONFIGURED, problems: []},
          inbound: {state: 'not-configured', bridgeUrl: null, reason: NOT_CONFIGURED, lastCallAt: null},
        },
    hardening: d.hardening.report,
    mesh: d.mesh.report(),
    integrations: await d.mesh.counts(),
    replica: d.replica(),
    counts: await d.store.countFindings(),
    outboxDepth: await d.store.outboxDepth(),
    store: overflowReport(await d.store.getOverflow()),
    mattermostRefusals: refusalReports(await d.store.getMeta(REFUSALS_META)),
  };
}

function overflowReport(o: StoreOverflow): StoreOverflowReport {
  return {findings: o.findings, maxFindings: o.maxFindings, overflowLines: o.lines, overflowDestinations: o.destinations, evictedFindings: o.evicted};
}

/** One sentence on what the findings limit cost, or null when it cost nothing. */
export function overflowSentence(o: StoreOverflowReport): string | null {
  if (o.overflowDestinations === 0 && o.evictedFindings === 0) return null;
  return (
    `the store holds its maximum of ${o.maxFindings} findings: ${o.overflowDestinations} new IP-only destinations (${o.overflowLines} lines) were not kept` +
    ` and ${o.evictedFindings} unexplained IP-only findings were removed to make room. Named hosts and destinations a configured integration explains are always kept.`
  );
}

/** One sentence on the calls Mattermost refused itself: which hosts, and the setting that decides. */
export function refusalsSentence(refusals: readonly MattermostRefusalReport[]): string {
  const hosts = [...new Set(refusals.map((r) => r.host ?? r.url ?? 'an integration'))];
  const shown = hosts.slice(0, 5).join(', ') + (hosts.length > 5 ? ` and ${hosts.length - 5} more` : '');
  return (
    `Mattermost refused ${refusals.length === 1 ? 'a call' : `calls to ${refusals.length} addresses`} itself (${shown}): the address is internal and ` +
    `${UNTRUSTED_SETTING} does not list it. Not the mesh: nothing was dialled. Add the host there if the integration is meant to be internal; the page lists each one.`
  );
}

/** The same report as `/egress status` words it. */
export function statusInput(r: StatusReport, mattermostUp: boolean): StatusInput {
  const out = r.mattermost.outbound;
  const inbound = r.mattermost.inbound;
  return {
    now: new Date(r.generatedAt),
    version: r.bridgeVersion,
    sources: r.sources.map((s) => ({
      name: `${s.kind} ${s.streams[0]?.origin ?? s.id}`,
      state: s.state === 'following' || s.state === 'ended' ? 'running' : s.state === 'error' ? 'error' : s.state === 'stopped' ? 'stopped' : 'starting',
      lastLineAt: s.lastLineAt,
      lines: s.lines,
      error: s.lastError,
    })),
    mattermost:
      inbound.state === 'not-configured'
        ? {ok: false, detail: `not configured (${NOT_CONFIGURED})`}
        : {ok: mattermostUp, detail: out.error ?? `as ${out.identity?.username ?? 'unknown'}`, serverVersion: out.serverVersion ?? undefined},
    hardening: {state: r.hardening.state, detail: r.hardening.evidence},
    plugin: inbound.state === 'not-configured' ? undefined : {connected: inbound.state === 'connected', reason: inbound.reason},
    counts: {open: r.counts.byStatus.open, ignored: r.counts.byStatus.ignored, resolved: r.counts.byStatus.resolved, openByVerdict: r.counts.openByVerdict},
    outboxDepth: r.outboxDepth ?? undefined,
    mesh: r.mesh === null ? undefined : {mode: r.mesh.outboundMode, source: r.mesh.modeSource},
    integrations: {...r.integrations},
    standby: r.replica === 'follower',
    overflow: r.store ? (overflowSentence(r.store) ?? undefined) : undefined,
    refusals: r.mattermostRefusals && r.mattermostRefusals.length > 0 ? refusalsSentence(r.mattermostRefusals) : undefined,
  };
}
