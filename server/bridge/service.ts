// The bridge's wiring: log sources → engine → store, alerts to Mattermost, /egress, and the webapp's API.
// Every part degrades on its own: without Mattermost findings still accumulate and alerts wait in the
// outbox. What only the leading replica does is in leader-roles.ts; what was announced, in the store's
// alert state.
import {randomBytes} from 'node:crypto';
import {EventEmitter} from 'node:events';
import {chmodSync, mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import type {Readable} from 'node:stream';
import type {Logger} from 'pino';
import {Registry} from 'prom-client';
import {PLUGIN_ID, type StatusReport, type SuggestionsResponse} from '../../common/api';
import type {SuggestionFormat, Verdict} from '../../common/types';
import {version} from '../../package.json';
import {isIpAddress} from '../engine/address';
import {buildDnsIndex} from '../engine/attribute';
import {parseHostsFile, tableResolver} from '../engine/hostsfile';
import {reattribute} from '../engine/findings';
import {buildInventory} from '../engine/inventory';
import {systemResolver} from '../engine/resolver';
import {DnsWatch, MAX_REFRESH_MS, systemTimedResolver} from './dns-watch';
import {buildHttpApp, createBridgeMetrics, FINDINGS_CHANGED, type BridgeMetrics} from '../http';
import {ACTION_PATH} from '../http/mattermost';
import {ourSettings} from '../mattermost/plugin-settings';
import {FileSource, KubernetesSource, StdinSource, type LogSource} from '../sources';
import {connect, type KubeClient} from '../sources/kube/library';
import {MeshWatcher} from '../mesh';
import type {SuggestContext} from '../engine/suggest';
import {openSqliteStore} from '../store';
import type {ReattributeResult, Store} from '../store/types';
import {AT_RISK_DEDUPE_KEY, AlertWorker, resolvedUpdate} from './alerts';
import {CommandHandler} from './commands';
import {ConnectionTester} from './connection-tests';
import {COMMAND_WAIT_MS, outboundMode, PAGE_WAIT_MS, Rehearsal} from './rehearsal';
import {safeDatabaseUrl, type BridgeConfig, type SourceSpec} from './config';
import {AttributionState, Ingest} from './ingest';
import {HardeningEvidence, statusInput, statusReport} from './status';
import {PgLeaderElection, SoleLeader, type LeaderElection} from './leader';
import {LeaderRoles} from './leader-roles';
import {MattermostLink} from './mattermost-link';
import {MeshLink} from './mesh-link';
import {PluginSettingsState} from './plugin-settings';
import {SourceRunner} from './source-runner';
import {suggestAmongOpen, suggestionsFor} from './suggestions';

const HMAC_META = 'hmac-key';
/** The secret the plugin signs its calls with (server/http/signature.ts). */
const PLUGIN_SECRET_META = 'plugin-secret';
/**
 * Where the alert buttons send their clicks: the plugin's own route, delivered in-process (Mattermost routes
 * /plugins/<id>/… URLs itself); the plugin forwards them to the bridge signed.
 */
export const PLUGIN_ACTION_URL = `/plugins/${PLUGIN_ID}${ACTION_PATH}`;
/** An outbox item became due at the Date it carries: the alert worker delivers it then, not at its next poll. */
const OUTBOX_DUE = 'outbox-due';
const GAUGE_INTERVAL_MS = 5_000;
/**
 * A batch the store has neither committed nor refused for this long means the process is wedged (a
 * connection that hangs without an error): only then does liveness fail, and the orchestrator restarts it.
 */
export const STUCK_MS = 5 * 60_000;
/** Bigger reads mean fewer store transactions when a source catches up; a live tail reads what is there. */
const SOURCE_CHUNK_BYTES = 1024 * 1024;

export interface Bridge {
  url: string;
  store: Store;
  link: MattermostLink | null;
  sources: LogSource[];
  alerts: AlertWorker;
  /** Whether this replica delivers alerts and sets Mattermost up (always, with the SQLite store). */
  election: LeaderElection;
  /** Mattermost's own connection tests (on demand, after a fix). */
  tests: ConnectionTester;
  /** The report the System Console page and `/egress status` show. */
  status(): Promise<StatusReport>;
  stop(): Promise<void>;
}

function readOptional(path: string | null, what: string, log: Logger): string | undefined {
  if (path === null) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    log.error({path, err: (err as Error).message}, `cannot read ${what}; going on without it`);
    return undefined;
  }
}

/** The PostgreSQL store, shared by replicas, can set a value only if none is there (first writer wins). */
function isSharedStore(store: Store): store is Store & {setMetaIfAbsent(key: string, value: string): Promise<string>} {
  return typeof (store as {setMetaIfAbsent?: unknown}).setMetaIfAbsent === 'function';
}

/** A random 32-byte secret kept in the store; replicas starting together agree on one (first writer wins). */
async function storedSecret(store: Store, meta: string): Promise<Buffer> {
  const stored = await store.getMeta(meta);
  if (stored !== null) return Buffer.from(stored, 'hex');
  const key = randomBytes(32);
  if (isSharedStore(store)) return Buffer.from(await store.setMetaIfAbsent(meta, key.toString('hex')), 'hex');
  await store.setMeta(meta, key.toString('hex'));
  return key;
}

function makeSource(spec: SourceSpec, stdin: Readable | undefined, client: KubeClient | undefined): LogSource {
  if (spec.kind === 'stdin') return new StdinSource(stdin ?? process.stdin, {id: 'stdin', kind: spec.log});
  if (spec.kind === 'kubernetes') return new KubernetesSource({namespace: spec.namespace ?? undefined, selector: spec.selector, client});
  return new FileSource(spec.path!, {kind: spec.log, chunkBytes: SOURCE_CHUNK_BYTES});
}

/** "app=mattermost,tier=web" as labels; set-based selector terms say nothing about a pod's own labels. */
function labelsOf(selector: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const term of selector.split(',')) {
    const m = /^\s*([^=!\s]+)\s*==?\s*([^\s]+)\s*$/.exec(term);
    if (m) labels[m[1]] = m[2];
  }
  return labels;
}

export interface StartOptions {
  stdin?: Readable;
  /** How often the Mattermost link checks the server (default 30 s); tests shorten it. */
  mattermostCheckMs?: number;
  /** The integration inventory is read again at least this often (default 5 min); tests shorten it. */
  inventoryMaxAgeMs?: number;
  /** With EGRESS_ADVISOR_DATABASE_URL: how often followers try to lead and the leader checks its lock (default 2 s). */
  leaderIntervalMs?: number;
  /** A store write that has not settled this long makes /healthz fail (default STUCK_MS); tests shorten it. */
  stuckMs?: number;
}

/** PostgreSQL (shared by replicas, one of which leads) when a URL is given, else SQLite in the data folder. */
async function openStore(config: BridgeConfig, opts: StartOptions, log: Logger): Promise<{store: Store; election: LeaderElection}> {
  if (config.databaseUrl === null) {
    // The store holds the HMAC key and Mattermost tokens: the folder is the bridge user's alone.
    mkdirSync(config.dataDir, {recursive: true, mode: 0o700});
    try {
      chmodSync(config.dataDir, 0o700);
    } catch (err) {
      log.warn({dataDir: config.dataDir, err: (err as Error).message}, 'cannot make the data folder private (mode 0700)');
    }
    return {store: openSqliteStore(join(config.dataDir, 'egress-advisor.db')), election: new SoleLeader()};
  }
  // Loaded only here: a SQLite-only install needs no PostgreSQL driver.
  const {openPostgresStore} = await import('../store/postgres');
  const store = await openPostgresStore(config.databaseUrl);
  log.info({store: safeDatabaseUrl(config.databaseUrl)}, 'shared PostgreSQL store: one replica leads');
  return {store, election: new PgLeaderElection(config.databaseUrl, {intervalMs: opts.leaderIntervalMs, log: log.child({part: 'leader'})})};
}

export async function startBridge(config: BridgeConfig, log: Logger, opts: StartOptions = {}): Promise<Bridge> {
  const {store, election} = await openStore(config, opts, log);
  // Every replica must refuse the other's buttons otherwise, and accept the plugin's calls whichever it reaches.
  const key = await storedSecret(store, HMAC_META);
  const pluginSecret = (await storedSecret(store, PLUGIN_SECRET_META)).toString('base64url');
  const settings = new PluginSettingsState(config.format);
  const values = readOptional(config.valuesFile, 'the values file', log);
  const hosts = readOptional(config.hostsFile, 'the hosts file', log);
  const table = hosts ? parseHostsFile(hosts) : new Map<string, string[]>();
  const resolver = tableResolver(table, systemResolver);
  const attribution = new AttributionState();
  // The configured hosts' addresses over time: a hosts-file entry stands for the cluster's DNS as captured.
  const timed = systemTimedResolver(systemResolver);
  const dnsWatch = new DnsWatch(
    async (host) => {
      const fixed = table.get(host.toLowerCase());
      return fixed !== undefined ? fixed.map((address) => ({address, ttlSeconds: MAX_REFRESH_MS / 1000})) : timed(host);
    },
    log.child({part: 'dns'}),
  );
  attribution.dnsAt = (ip, timesMs) => dnsWatch.history.hostsAt(ip, timesMs);
  const registry = new Registry();
  const metrics: BridgeMetrics = createBridgeMetrics(registry, {defaultMetrics: true});
  const events = new EventEmitter();
  const hardening = await HardeningEvidence.load(store, log.child({part: 'hardening'}));
  const due = (at: Date): void => void events.emit(OUTBOX_DUE, at);

  // One connection per Kubernetes source, for the pods' logs and for what the mesh already allows; every
  // replica reads the mesh (its suggestions and status need it), only the leader the logs.
  const kubeClients = new Map<SourceSpec, KubeClient>();
  for (const spec of config.sources) if (spec.kind === 'kubernetes') kubeClients.set(spec, connect({mode: 'auto'}));
  const meshLink = new MeshLink({
    store,
    watchers: (changed) =>
      [...kubeClients].map(
        ([spec, client]) =>
          new MeshWatcher({
            namespace: spec.namespace ?? undefined,
            client,
            workloadLabels: labelsOf(spec.selector ?? ''),
            rootNamespace: config.mesh.rootNamespace,
            meshConfigMap: config.mesh.configMap,
            clusterWide: config.mesh.clusterWide,
            onChange: changed,
          }),
      ),
    values,
    inventory: () => attribution.inventory,
    leading: () => election.isLeader(),
    announce: resolvedUpdate,
    onResolved: (keys) => {
      events.emit(FINDINGS_CHANGED, {keys});
      tester.afterResolved(keys).catch((err: Error) => log.warn({err: err.message}, 'cannot confirm the fix with a connection test'));
    },
    warn: async () => {
      const at = new Date(Date.now() + config.digestSeconds * 1000);
      await store.enqueue({kind: 'notice', payload: {}, dedupeKey: AT_RISK_DEDUPE_KEY, availableAt: at});
      due(at);
    },
    log: log.child({part: 'mesh'}),
    timing: {propagationMs: config.resolveSeconds * 1000, graceMs: config.resolveSeconds * 1000},
  });
  const suggestContext = (): SuggestContext => meshLink.suggestContext();

  let namedAgain: (result: ReattributeResult) => Promise<void> = async () => undefined;
  const setInventory = async (config: unknown, extras: Parameters<typeof buildInventory>[1]): Promise<void> => {
    const inv = buildInventory(config, extras);
    for (const w of inv.warnings) log.debug({warning: w}, 'Mattermost configuration');
    const changed = JSON.stringify(inv.endpoints) !== JSON.stringify(attribution.inventory);
    attribution.inventory = inv.endpoints;
    // Only host names from Mattermost's configuration are resolved; nothing read from a log is contacted.
    // Names are followed over time; the index keeps the addresses the configuration writes itself.
    attribution.dnsIndex = await buildDnsIndex(
      inv.endpoints.filter((e) => isIpAddress(e.host)),
      resolver,
    );
    await dnsWatch.watch(inv.endpoints);
    if (changed) {
      // Open findings were named with the configuration of their moment: every view must say what it says now.
      const result = await store.reattributeOpen((f) => reattribute(f, attribution.configContext()));
      if (result.changedKeys.length > 0) {
        log.info({findings: result.changedKeys.length, moved: result.moved.length}, 'open findings named again after a configuration change');
        events.emit(FINDINGS_CHANGED, {keys: [...result.changedKeys, ...result.moved.map((m) => m.from)]});
        // The alert posts that list them say the new names too (set once the alert worker exists).
        await namedAgain(result);
      }
    }
    await meshLink.warnIfNew();
  };

  const mattermost =
    config.mattermost?.url && config.mattermost.token
      ? new MattermostLink(
          {
            url: config.mattermost.url,
            token: config.mattermost.token,
            team: config.mattermost.team,
            channel: config.mattermost.channel,
            channelPrivate: config.mattermost.channelPrivate,
            publicUrl: config.publicUrl,
            pluginSecret,
            checkIntervalMs: opts.mattermostCheckMs,
            inventoryMaxAgeMs: opts.inventoryMaxAgeMs,
            leading: () => election.isLeader(),
          },
          store,
          log.child({part: 'mattermost'}),
          (inv) => {
            if (settings.applyStored(ourSettings(inv.config)))
              log.info({format: settings.format(), showAlertYaml: settings.showAlertYaml()}, 'plugin settings read from Mattermost');
            return setInventory(inv.config, {outgoingWebhooks: inv.outgoingWebhooks, commands: inv.commands}).catch((err: Error) =>
              log.warn({err: err.message}, 'cannot use the integration inventory just read'),
            );
          },
        )
      : null;
  if (mattermost === null) {
    const mmConfig = readOptional(config.mattermostConfigFile, 'the Mattermost configuration file', log);
    const hooks = readOptional(config.webhooksFile, 'the outgoing webhooks file', log);
    try {
      await setInventory(mmConfig ? JSON.parse(mmConfig) : {}, {outgoingWebhooks: hooks ? JSON.parse(hooks) : undefined});
    } catch (err) {
      log.error({err: (err as Error).message}, 'the Mattermost configuration file is not valid JSON');
    }
  }

  const alerts = new AlertWorker(
    store,
    // While Mattermost is known to be away nothing is tried, so back-off does not pile up over an outage.
    // Only the leader posts; a replica that just lost the lead stops at once.
    () => (election.isLeader() && mattermost?.up ? mattermost.channel : null),
    () => ({
      format: settings.format(),
      showYaml: settings.showAlertYaml(),
      context: suggestContext(),
      configured: (open) => meshLink.configured(open),
      actionUrl: PLUGIN_ACTION_URL,
      hmacKey: key,
      siteUrl: config.mattermost?.url ?? undefined,
    }),
    log.child({part: 'alerts'}),
    {sent: () => metrics.alertsSentTotal.inc(), failed: () => undefined},
    {updateIntervalMs: config.updateSeconds * 1000, atRisk: () => meshLink.atRisk()},
  );
  events.on(OUTBOX_DUE, (at: Date) => alerts.wakeAt(at));
  namedAgain = (result) => alerts.scheduleEdits(result);

  const logNew = async (keys: readonly string[]): Promise<void> => {
    for (const k of keys) {
      const f = await store.getFinding(k);
      if (f === null) continue;
      const features = f.features.map((x) => x.name).join(', ');
      log.info({key: k, verdict: f.verdict, count: f.count}, `${f.verdict}: ${k} (${f.protocol})${features ? ` breaks ${features}` : ''}`);
    }
  };
  let overflowLogged = false;
  const ingest = new Ingest(
    store,
    attribution,
    () => config.digestSeconds,
    (result, lines) => {
      for (const [verdict, n] of Object.entries(lines)) metrics.linesTotal.inc({verdict}, n);
      hardening.see(lines);
      if (result.overflowDestinations > 0 || result.evictedKeys.length > 0) {
        if (!overflowLogged)
          log.warn(
            {overflowDestinations: result.overflowDestinations, evicted: result.evictedKeys.length},
            'the store holds its maximum of findings: IP-only destinations are counted, not kept',
          );
        overflowLogged = true;
        alerts.storeFull().catch((err: Error) => log.warn({err: err.message}, 'cannot enqueue the store-full notice'));
      }
      const changed = [...result.newKeys, ...result.changedKeys, ...result.reopenedKeys, ...result.evictedKeys];
      if (changed.length === 0) return;
      events.emit(FINDINGS_CHANGED, {keys: changed});
      // Deliver as soon as the digest window closes rather than at the worker's next poll.
      if (result.newKeys.length > 0 || result.reopenedKeys.length > 0) due(new Date(Date.now() + config.digestSeconds * 1000));
      logNew(result.newKeys).catch((err: Error) => log.warn({err: err.message}, 'cannot read a new finding back'));
      alerts.scheduleUpdates(result.changedKeys).catch((err: Error) => log.warn({err: err.message}, 'cannot schedule a thread update'));
    },
  );

  const sink = {
    batch: (b: Parameters<Ingest['batch']>[0]) => ingest.batch(b),
    notice: (n: {code: string; message: string; sourceId: string}) => log.info({source: n.sourceId, code: n.code}, n.message),
  };
  // A file or stdin is this replica's own input; the Kubernetes API's streams are everyone's, so with a
  // shared store only the leader reads them.
  const shared = config.databaseUrl !== null;
  const group = (specs: SourceSpec[]): SourceRunner => {
    const made = new Map<LogSource, SourceSpec>();
    return new SourceRunner(
      {
        make: () => {
          made.clear();
          return specs.map((spec) => {
            const source = makeSource(spec, opts.stdin, kubeClients.get(spec));
            made.set(source, spec);
            return source;
          });
        },
        remake: (old) => {
          const spec = made.get(old);
          if (spec === undefined) throw new Error(`no specification for source ${old.id}`);
          made.delete(old);
          const source = makeSource(spec, opts.stdin, kubeClients.get(spec));
          made.set(source, spec);
          return source;
        },
        isAppLog: (source) => made.get(source)?.log === 'app',
      },
      store,
      sink,
      {onRestart: (source) => metrics.sourceRestartsTotal.inc({source}), log: log.child({part: 'sources'})},
    );
  };
  const own = group(config.sources.filter((spec) => !shared || spec.kind !== 'kubernetes'));
  const leaders = group(config.sources.filter((spec) => shared && spec.kind === 'kubernetes'));
  const sources = (): LogSource[] => [...own.sources, ...leaders.sources];

  const runners = [own, leaders];
  const ready = (): StatusReport['ready'] => {
    const linkProblem = mattermost?.problem ?? null;
    const restarts = new Map(runners.flatMap((r) => r.pendingRestarts()).map((r) => [r.sourceId, r]));
    const reasons = sources()
      .filter((s) => s.status().state === 'error' || restarts.has(s.id))
      .map((s) => {
        const r = restarts.get(s.id);
        const why = r?.lastError ?? s.status().lastError ?? 'error';
        return r ? `source ${s.id}: ${why}; restarts from its committed resume point at ${r.nextAt} (attempt ${r.attempts})` : `source ${s.id}: ${why}`;
      });
    // Readiness is whether this replica can serve the plugin; a broken Mattermost link does not stop that, and
    // the plugin must reach the bridge to show why the link is broken (see StatusReport.ready).
    return {ready: reasons.length === 0, reasons, degraded: linkProblem === null ? [] : [`mattermost: ${linkProblem}`]};
  };
  const stuckMs = opts.stuckMs ?? STUCK_MS;
  const alive = (): {alive: boolean; reasons: string[]} => {
    const oldest = Math.min(...runners.map((r) => r.oldestOutstandingSince() ?? Infinity));
    if (Date.now() - oldest <= stuckMs) return {alive: true, reasons: []};
    return {alive: false, reasons: [`a batch of log lines has waited ${Math.round((Date.now() - oldest) / 1000)} s for the store to settle it`]};
  };
  const report = (): Promise<StatusReport> =>
    statusReport({
      version,
      store,
      sources: sources(),
      link: mattermost,
      hardening,
      mesh: meshLink,
      replica: () => (shared ? (election.isLeader() ? 'leader' : 'follower') : 'sole'),
      ready,
    });

  const tester = new ConnectionTester({
    store,
    client: () => mattermost?.adminClient ?? null,
    config: () => mattermost?.inventory?.config ?? null,
    inventory: () => attribution.inventory,
    attribution,
    metrics,
    log: log.child({part: 'tests'}),
    intervalMs: config.testIntervalSeconds * 1000,
    onResult: (r) => events.emit(FINDINGS_CHANGED, {keys: r.findingKeys}),
    replyQueued: () => alerts.wakeAt(new Date()),
  });
  const rehearsal = new Rehearsal({
    store,
    tests: tester,
    config: () => mattermost?.inventory?.config ?? null,
    mode: () => outboundMode(meshLink.report(), hardening.report),
    items: async () => (await meshLink.integrations()).items,
    yaml: async (findings) => suggestAmongOpen(store, findings, settings.format(), suggestContext(), (open) => meshLink.configured(open)),
    intervalMs: config.testIntervalSeconds * 1000,
    log: log.child({part: 'rehearsal'}),
    onDone: (r) => events.emit(FINDINGS_CHANGED, {keys: r.entries.flatMap((e) => e.lines.map((l) => l.key))}),
  });

  const commands = new CommandHandler({
    store,
    adminCaller: (userId) => (mattermost ? mattermost.adminCaller(userId) : Promise.resolve(null)),
    lookupProblem: () => (mattermost === null ? 'MATTERMOST_URL is not set.' : mattermost.lookupProblem),
    status: async () => ({...statusInput(await report(), mattermost?.up === true), tests: (await tester.report()).flatMap((t) => t.history.slice(0, 1))}),
    format: () => settings.format(),
    suggestContext,
    configured: (open) => meshLink.configured(open),
    hmacKey: () => key,
    connectionTest: (kind, by) => tester.request(kind, 'person', by),
    rehearse: (by) => rehearsal.rehearse(by, COMMAND_WAIT_MS),
    notifyStatusChange: (f, change) => alerts.statusChanged(f, change),
  });

  const app = buildHttpApp({
    store,
    pluginSecret: () => pluginSecret,
    notifyStatusChange: (f, change) => alerts.statusChanged(f, change),
    status: report,
    integrations: () => meshLink.integrations(),
    connectionTests: {
      report: () => tester.report(),
      run: (kind, by) => tester.request(kind, 'person', by),
      forFinding: (f) => tester.forFinding(f),
      rehearsal: () => rehearsal.latest(),
      rehearse: (by) => rehearsal.rehearse(by, PAGE_WAIT_MS),
    },
    suggest: (keys, format: SuggestionFormat): Promise<SuggestionsResponse> =>
      suggestionsFor(store, keys, format, suggestContext(), (open) => meshLink.configured(open)),
    suggestionFormat: () => settings.format(),
    onSignedCall: () => mattermost?.markCalled(),
    onSlashCommand: (req) => commands.slash(req),
    onAction: (req) => commands.action(req),
    onPluginSettings: (raw) => {
      if (settings.apply(raw)) log.info({format: settings.format(), showAlertYaml: settings.showAlertYaml()}, 'plugin settings changed');
    },
    metrics: registry,
    ready,
    alive,
    events,
    logger: log.child({part: 'http'}),
  });

  await app.listen({host: config.listenHost, port: config.listenPort});
  const address = app.server.address();
  const url = `http://${config.listenHost}:${typeof address === 'object' && address ? address.port : config.listenPort}`;

  await own.start();
  const roles = new LeaderRoles({
    election,
    store,
    leaderSources: leaders,
    meshLink,
    link: mattermost,
    alerts,
    digestTrigger: () => ingest.digestTrigger(),
    leaderGauge: metrics.leader,
    log,
  });
  roles.attach();
  await election.start();
  mattermost?.start();
  for (const m of meshLink.meshes) {
    m.start().catch((err: Error) => log.warn({err: err.message}, "cannot read the mesh's ServiceEntries; suggestions may list hosts it already allows"));
  }

  const gauges = setInterval(() => {
    void (async () => {
      metrics.outboxDepth.set(await store.outboxDepth());
      const overflow = await store.getOverflow();
      metrics.storeOverflow.set({what: 'lines'}, overflow.lines);
      metrics.storeOverflow.set({what: 'destinations'}, overflow.destinations);
      metrics.storeOverflow.set({what: 'evicted'}, overflow.evicted);
      const counts = await store.countFindings();
      metrics.setFindings(Object.entries(counts.openByVerdict).map(([verdict, n]) => ({status: 'open', verdict: verdict as Verdict, count: n ?? 0})));
      metrics.mattermostUp.set(mattermost?.up ? 1 : 0);
      for (const s of sources()) {
        const st = s.status();
        metrics.sourceUp.set({source: s.id}, st.state === 'following' ? 1 : 0);
        if (st.lastLineAt) metrics.sourceLastLineTimestamp.set({source: s.id}, Date.parse(st.lastLineAt) / 1000);
      }
    })().catch((err: Error) => log.warn({err: err.message}, 'cannot update gauges'));
  }, GAUGE_INTERVAL_MS);
  gauges.unref();

  return {
    url,
    store,
    link: mattermost,
    get sources() {
      return sources();
    },
    alerts,
    election,
    tests: tester,
    status: report,
    async stop(): Promise<void> {
      clearInterval(gauges);
      // First, so that a follower takes over while this replica winds down.
      dnsWatch.stop();
      await election.stop();
      roles.detach();
      mattermost?.stop();
      await leaders.stop();
      await own.stop();
      await meshLink.stop();
      for (const m of meshLink.meshes) await m.stop();
      await alerts.stop();
      await app.close();
      await store.close();
    },
  };
}
