// Runs Mattermost's own connection tests for the bridge: on demand (`/egress test`, "Test now"), after a
// finding resolves, and as the ALLOW_ANY rehearsal. One test at a time, so that a blocked line inside a
// test's window can only be that test's connection (active attribution, see engine/attribute.ts); every
// test is logged with who asked, kept in the store's history, and counted in /metrics.
import {randomUUID} from 'node:crypto';
import type {Logger} from 'pino';
import type {ApiActor} from '../../common/api';
import type {
  ConnectionTestKind,
  ConnectionTestReport,
  ConnectionTestResponse,
  ConnectionTestResult,
  ConnectionTestTrigger,
} from '../../common/connection-tests';
import {
  CONNECTION_TESTS,
  describeResult,
  findingsForTest,
  isConfigured,
  mayRun,
  reportTests,
  resultsForFinding,
  savedSiteUrl,
  testsForFinding,
  testTarget,
} from '../engine/connection-tests';
import type {InventoryEndpoint} from '../engine/types';
import type {BridgeMetrics} from '../http';
import type {MattermostClient} from '../mattermost/client';
import {runConnectionTest, TEST_TIMEOUT_MS} from '../mattermost/connection-tests';
import type {Store, StoredFinding} from '../store/types';
import type {AttributionState} from './ingest';
import {testReply} from './alerts';
import {allFindings} from './pages';

/** Results read for the page, a finding and the rate limit: the store keeps CONNECTION_TESTS_KEPT per integration. */
const HISTORY_READ = 250;
export const DEFAULT_TEST_INTERVAL_MS = 5 * 60_000;

export interface TesterDeps {
  store: Store;
  /** The admin client while Mattermost answers; null while it is away or not configured. */
  client(): MattermostClient | null;
  /** The saved configuration as GET /api/v4/config returned it; null before it was read. */
  config(): unknown;
  inventory(): readonly InventoryEndpoint[];
  attribution: AttributionState;
  metrics: Pick<BridgeMetrics, 'connectionTestsTotal' | 'connectionTestPassed' | 'connectionTestTimestamp'>;
  log: Logger;
  /** No integration is tested more often than this. */
  intervalMs: number;
  /** Told after every test that ran (the webapp's live update). */
  onResult?(result: ConnectionTestResult): void;
  /**
   * Told when a result was queued as a reply in alert threads (the outbox), so that it is delivered now
   * rather than at the next poll. Delivery is the alert worker's: it waits for Mattermost and posts each once.
   */
  replyQueued?(): void;
}

export class ConnectionTester {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: TesterDeps) {}

  /** Newest first, every integration; each result is a row of its own in the store. */
  history(): Promise<ConnectionTestResult[]> {
    return this.d.store.listConnectionTests({limit: HISTORY_READ});
  }

  async report(): Promise<ConnectionTestReport[]> {
    return reportTests(await this.history(), this.d.config() ?? {}, this.d.intervalMs, Date.now());
  }

  async forFinding(finding: StoredFinding): Promise<ConnectionTestResult[]> {
    return resultsForFinding(await this.history(), finding).slice(0, 20);
  }

  /**
   * After a fix: findings the mesh now allows are resolved, and the tests of their integrations show whether
   * Mattermost really gets through now. The result goes to each alert's thread (and, through the history,
   * to the page). A test held back by the rate limit runs as soon as the interval allows; the email test
   * is never run this way (it would mail someone nobody asked).
   */
  async afterFix(findings: readonly StoredFinding[]): Promise<void> {
    const byKind = new Map<ConnectionTestKind, StoredFinding[]>();
    for (const f of findings) for (const k of testsForFinding(f)) byKind.set(k, [...(byKind.get(k) ?? []), f]);
    await Promise.all([...byKind].map(([kind, fs]) => this.confirm(kind, fs, true)));
  }

  /** The mesh's resolution pass (MeshLink's onResolved) hands over the keys it resolved. */
  async afterResolved(keys: readonly string[]): Promise<void> {
    const found = await Promise.all(keys.map((k) => this.d.store.getFinding(k)));
    await this.afterFix(found.filter((f): f is StoredFinding => f !== null));
  }

  private async confirm(kind: ConnectionTestKind, findings: readonly StoredFinding[], mayWait: boolean): Promise<void> {
    const answer = await this.request(kind, 'after-fix', null);
    if (!answer.ran) {
      const wait = answer.nextAllowedAt === '' ? NaN : Date.parse(answer.nextAllowedAt) - Date.now();
      if (mayWait && Number.isFinite(wait)) {
        const timer = setTimeout(
          () => void this.confirm(kind, findings, false).catch((err: Error) => this.d.log.warn({err: err.message}, 'cannot confirm a fix')),
          Math.max(0, wait) + 50,
        );
        timer.unref();
      }
      return;
    }
    // Through the outbox: the reply waits out a Mattermost outage and goes out once, in each alert's thread.
    const roots = new Set(findings.map((f) => f.alertPostId).filter((id): id is string => id !== null));
    for (const root of roots) await this.d.store.enqueue(testReply(root, answer.result));
    if (roots.size > 0) this.d.replyQueued?.();
  }

  /**
   * Runs a test unless policy forbids it now (rate limit, or the email test without a person). Tests queue
   * behind each other; the rate limit is checked when a test's turn comes.
   */
  request(kind: ConnectionTestKind, trigger: ConnectionTestTrigger, by: ApiActor | null): Promise<ConnectionTestResponse> {
    const turn = this.queue.then(() => this.runNow(kind, trigger, by));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async runNow(kind: ConnectionTestKind, trigger: ConnectionTestTrigger, by: ApiActor | null): Promise<ConnectionTestResponse> {
    const who = by ? `${by.username} (${by.userId})` : `the bridge (${trigger})`;
    const history = await this.history();
    const decision = mayRun(kind, trigger, history, this.d.intervalMs, Date.now());
    if (!decision.run) {
      this.d.log.info({integration: kind, trigger, by: who}, `connection test of ${kind} not run: ${decision.reason}`);
      return {
        ran: false,
        reason: decision.reason,
        nextAllowedAt: decision.nextAllowedAt?.toISOString() ?? '',
        latest: history.find((r) => r.kind === kind) ?? null,
      };
    }
    const spec = CONNECTION_TESTS[kind];
    const config = this.d.config();
    const target = config === null ? null : testTarget(kind, config, this.d.inventory());
    const id = randomUUID();
    const startedAt = new Date();
    this.d.log.info({test: id, integration: kind, trigger, by: who, target}, `connection test of ${spec.label} asked by ${who}`);

    let answer: {outcome: ConnectionTestResult['outcome']; httpStatus: number | null; message: string};
    const client = this.d.client();
    if (client === null || config === null) {
      answer = {outcome: 'not-available', httpStatus: null, message: 'Mattermost is not reachable from the bridge right now, so it could not be asked.'};
    } else if (!isConfigured(kind, config)) {
      answer = {outcome: 'not-configured', httpStatus: null, message: `${spec.label} is not set up and switched on in Mattermost's saved configuration.`};
    } else {
      const probe =
        target !== null && target.port !== null ? {testId: id, label: spec.label, host: target.host, port: target.port, fromMs: startedAt.getTime()} : null;
      if (probe) this.d.attribution.addProbe({...probe, toMs: probe.fromMs + TEST_TIMEOUT_MS});
      const a = await runConnectionTest(client, kind, {siteUrl: savedSiteUrl(config)});
      if (probe) this.d.attribution.addProbe({...probe, toMs: Date.now()});
      answer = a.outcome === 'passed' ? {outcome: 'passed', httpStatus: a.httpStatus, message: 'Mattermost answered OK.'} : a;
    }

    const findings = await allFindings(this.d.store).catch((): StoredFinding[] => []);
    const named = findings
      .filter((f) => f.attribution.method === 'connection-test' && f.attribution.host !== null && f.attribution.note.includes(id))
      .map((f) => f.key);
    const result: ConnectionTestResult = {
      id,
      kind,
      label: spec.label,
      target,
      trigger,
      requestedBy: by,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      outcome: answer.outcome,
      message: answer.message,
      httpStatus: answer.httpStatus,
      findingKeys: [...new Set([...findingsForTest(kind, target, findings), ...named])],
    };
    await this.save(result);
    this.d.metrics.connectionTestsTotal.inc({integration: kind, outcome: result.outcome, trigger});
    if (result.outcome === 'passed' || result.outcome === 'failed') {
      this.d.metrics.connectionTestPassed.set({integration: kind}, result.outcome === 'passed' ? 1 : 0);
      this.d.metrics.connectionTestTimestamp.set({integration: kind}, Date.parse(result.finishedAt) / 1000);
    }
    const level = result.outcome === 'failed' ? 'warn' : 'info';
    this.d.log[level]({test: id, integration: kind, trigger, by: who, outcome: result.outcome, httpStatus: result.httpStatus}, describeResult(result));
    this.d.onResult?.(result);
    return {ran: true, result};
  }

  private save(result: ConnectionTestResult): Promise<void> {
    // A row of its own: a result another replica adds meanwhile cannot be overwritten.
    return this.d.store.addConnectionTest(result);
  }
}
