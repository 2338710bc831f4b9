// What the bridge knows about the mesh, in one place: the watchers' pictures for suggestions and the status
// page, the configured integrations held against them, and the leader's pass that resolves findings a new
// ServiceEntry now covers.
import type {Logger} from 'pino';
import type {IntegrationItem, IntegrationState, IntegrationsResponse, MeshReport} from '../../common/api';
import {assessIntegrations} from '../engine/integrations';
import type {PatchInput} from '../engine/patch';
import {allowedByValues, type SuggestContext} from '../engine/suggest';
import type {AllowedHost} from '../engine/suggest/allowed';
import type {Finding, InventoryEndpoint} from '../engine/types';
import {allowedHostsFromMesh, reservedNamesFromMesh, type MeshAllowances, type MeshWatcher, type OutboundMode} from '../mesh';
import {CoverageClock, resolutions, type PendingResolution, type ResolutionTiming} from '../mesh/resolution';
import type {OutboxInput, Store, StoredFinding} from '../store/types';
import {warnedKey, type AtRisk} from './alerts';
import {allFindings} from './pages';

const RESOLVE_INTERVAL_MS = 30_000;

export interface MeshLinkOptions {
  store: Store;
  /** Makes the watchers of the meshes read, each calling `changed` on every change of its picture. */
  watchers: (changed: () => void) => MeshWatcher[];
  /** The values file's text, when one was given. */
  values: string | undefined;
  inventory: () => readonly InventoryEndpoint[];
  /** Only the leader resolves findings (and so posts about it). */
  leading: () => boolean;
  /** The thread reply that tells the alert's readers; enqueued with the resolution. */
  announce: (postId: string) => OutboxInput;
  onResolved: (keys: string[]) => void;
  /** Enqueues the notice about configured integrations that will be blocked (only called by the leader). */
  warn?: () => Promise<void>;
  log: Logger;
  timing?: ResolutionTiming;
  intervalMs?: number;
}

export class MeshLink {
  private readonly clock = new CoverageClock();
  private readonly valuesAllowed: AllowedHost[] | null;
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;
  /** Between stop() and the next start(): a mesh change then starts no pass (the store may be closing). */
  private stopped = false;
  /** Findings a ServiceEntry covers that are still blocked, from the last pass: said in the log once. */
  private pending = new Map<string, PendingResolution>();
  readonly meshes: readonly MeshWatcher[];

  constructor(private readonly o: MeshLinkOptions) {
    this.valuesAllowed = o.values === undefined ? null : allowedByValues(o.values).allowed;
    this.meshes = o.watchers(() => this.changed());
  }

  get reading(): boolean {
    return this.meshes.length > 0;
  }

  /** The pictures of the meshes that have been read once; the others would say "nothing allowed". */
  private ready(): MeshAllowances[] {
    return this.meshes.map((m) => m.meshAllowances()).filter((a) => a.ready);
  }

  /** Suggestions leave out what the values file allows and what ServiceEntries in the mesh already allow. */
  suggestContext(): SuggestContext {
    const all = this.meshes.map((m) => m.meshAllowances());
    return {values: this.o.values, allowed: all.flatMap((a) => allowedHostsFromMesh(a)), reservedNames: all.flatMap((a) => reservedNamesFromMesh(a))};
  }

  report(): MeshReport | null {
    const first = this.meshes[0]?.meshAllowances();
    if (first === undefined) return null;
    return {
      namespace: first.namespace,
      ready: first.ready,
      outboundMode: first.outboundMode,
      modeSource: first.modeSource,
      allowedHosts: allowedHostsFromMesh(first).length,
      notes: [...first.notes, ...first.ignored.map((i) => `${i.source}: ${i.why}`)],
    };
  }

  async integrations(): Promise<Omit<IntegrationsResponse, 'tests' | 'rehearsal'>> {
    const {items} = await this.assess();
    return {generatedAt: new Date().toISOString(), mesh: this.report(), valuesFile: this.o.values !== undefined, items};
  }

  /** Enabled integrations by state, for the status report. */
  async counts(): Promise<Partial<Record<IntegrationState, number>>> {
    const counts: Partial<Record<IntegrationState, number>> = {};
    for (const it of (await this.assess()).items) if (it.enabled) counts[it.state] = (counts[it.state] ?? 0) + 1;
    return counts;
  }

  private async assess(): Promise<{items: IntegrationItem[]; open: StoredFinding[]; mode: OutboundMode}> {
    const open = await allFindings(this.o.store, {status: 'open'});
    return {...this.configured(open), open};
  }

  /** The configured integrations held against these open findings and what the mesh and values allow: the patch's first part. */
  configured(open: readonly Finding[]): {items: IntegrationItem[]; mode: OutboundMode} & NonNullable<PatchInput['integrations']> {
    const ready = this.ready();
    const mode = ready[0]?.outboundMode ?? 'unknown';
    // A mesh that is read but not yet loaded says nothing: better "unknown" than "everything will be blocked".
    const mesh = ready.length > 0 ? {allowed: ready.flatMap((a) => allowedHostsFromMesh(a)), mode} : null;
    const values = this.reading && mesh === null ? null : this.valuesAllowed;
    return {items: assessIntegrations({inventory: this.o.inventory(), mesh, values, findings: open}), mode};
  }

  /** Call on every change of a mesh picture: a new entry's clock starts then, and it may resolve findings. */
  changed(): void {
    this.clock.observe(
      this.ready().flatMap((a) => allowedHostsFromMesh(a)),
      Date.now(),
    );
    void this.resolvePass();
    void this.warnIfNew();
  }

  /**
   * Switched-on integrations that will be blocked and that no traffic has shown (those become findings and
   * alerts of their own). Empty while nothing says what is allowed: better no warning than a false one.
   */
  async atRisk(): Promise<AtRisk> {
    const {items, mode} = await this.assess();
    return {items: items.filter((i) => i.enabled && i.state === 'will-be-blocked' && i.findings.length === 0), mode};
  }

  /** After a change of the mesh or of Mattermost's configuration: warn once about what newly is at risk. */
  async warnIfNew(): Promise<void> {
    if (this.o.warn === undefined || this.stopped || !this.o.leading()) return;
    try {
      for (const i of (await this.atRisk()).items) {
        if ((await this.o.store.getMeta(warnedKey(i))) === null) return await this.o.warn();
      }
    } catch (err) {
      this.o.log.warn({err: (err as Error).message}, 'cannot check the configured integrations at risk');
    }
  }

  start(): void {
    this.stopped = false;
    if (!this.reading || this.timer !== null) return;
    // Often enough to resolve soon after the grace runs out, which is what an administrator waits for.
    const every = this.o.intervalMs ?? Math.min(RESOLVE_INTERVAL_MS, Math.max(1_000, (this.o.timing?.graceMs ?? RESOLVE_INTERVAL_MS) / 2));
    this.timer = setInterval(() => void this.resolvePass(), every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.pass;
  }

  /** One pass at a time; never rejects (it runs from timers). */
  resolvePass(): Promise<void> {
    if (!this.reading || this.stopped || !this.o.leading()) return Promise.resolve();
    this.pass ??= this.resolveOnce()
      .catch((err: Error) => this.o.log.warn({err: err.message}, 'cannot check which findings the mesh now allows'))
      .finally(() => {
        this.pass = null;
      });
    return this.pass;
  }

  private async resolveOnce(): Promise<void> {
    const ready = this.ready();
    if (ready.length === 0) return;
    const open = await allFindings(this.o.store, {status: 'open'});
    const {resolve, pending} = resolutions(
      open,
      ready.flatMap((a) => allowedHostsFromMesh(a)),
      this.clock,
      Date.now(),
      this.o.timing,
    );
    const resolved: string[] = [];
    for (const r of resolve) {
      const f = await this.o.store.markResolved(r.key, new Date(), r.reason, {notify: (x) => (x.alertPostId !== null ? [this.o.announce(x.alertPostId)] : [])});
      if (f.status === 'resolved') {
        resolved.push(r.key);
        this.o.log.info({key: r.key, allowedBy: r.allowedBy}, `resolved: ${r.key} ${r.reason}`);
      }
    }
    const next = new Map(pending.map((p) => [p.key, p]));
    for (const p of pending) {
      if (p.stillBlocked && this.pending.get(p.key)?.why !== p.why) this.o.log.warn({key: p.key, allowedBy: p.allowedBy}, p.why);
    }
    this.pending = next;
    if (resolved.length > 0) this.o.onResolved(resolved);
  }
}
