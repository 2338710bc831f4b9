// The rehearsal before hardening: under ALLOW_ANY, Mattermost runs its connection tests (never the email
// test: it mails someone) and the PassthroughCluster lines each causes are read from the store, to list per
// integration what REGISTRY_ONLY would break and the ServiceEntry to add (engine/rehearsal.ts decides).
// On demand only (`/egress rehearse`, the page's button), not on a schedule: under ALLOW_ANY the log already
// flags every unregistered destination as it is used, and a rehearsal is the step taken before switching
// hardening on, whose answer stays on the page until the next one. The latest report is kept in the store,
// so that every replica shows the same one and a restart keeps it.
import type {Logger} from 'pino';
import type {ApiActor, IntegrationItem, MeshReport, StatusReport} from '../../common/api';
import {CONNECTION_TEST_KINDS, type RehearsalEntry, type RehearsalReport, type RehearsalResponse} from '../../common/connection-tests';
import type {Finding} from '../../common/types';
import {CONNECTION_TESTS, isConfigured} from '../engine/connection-tests';
import {findingsForSuggestion} from '../engine/integrations';
import {notRunReport, planEntry, sortEntries, summarize, type RehearsalRun} from '../engine/rehearsal';
import {readMetaJson} from '../store/meta-json';
import type {Store} from '../store/types';
import type {ConnectionTester} from './connection-tests';
import {allFindings} from './pages';
import {formatUtc} from '../../common/time';

export const REHEARSAL_META = 'rehearsal';
/** How long after the last test the rehearsal waits for the sidecar's lines to reach the store. */
export const LOG_WAIT_MS = 5_000;

/** A slash command must answer within the plugin's 20 s; the page's call within its 30 s. */
export const COMMAND_WAIT_MS = 15_000;
export const PAGE_WAIT_MS = 25_000;

export interface OutboundModeReading {
  mode: RehearsalReport['mode'];
  source: string;
}

/** The mesh's outbound mode when a mesh is read; without one, what the log last showed (status.ts HardeningEvidence). */
export function outboundMode(mesh: MeshReport | null, hardening: StatusReport['hardening']): OutboundModeReading {
  if (mesh !== null && mesh.ready && mesh.outboundMode !== 'unknown') return {mode: mesh.outboundMode, source: mesh.modeSource};
  if (hardening.state === 'allow-any') return {mode: 'ALLOW_ANY', source: `no mesh is read; the log shows ${hardening.evidence}`};
  if (hardening.state === 'registry-only') return {mode: 'REGISTRY_ONLY', source: `no mesh is read; the log shows ${hardening.evidence}`};
  return {mode: 'unknown', source: mesh === null ? 'no mesh is read, and no blocked or passthrough line has been seen yet' : 'the mesh is not read yet'};
}

export interface RehearsalDeps {
  store: Store;
  tests: Pick<ConnectionTester, 'request'>;
  /** Mattermost's saved configuration; null before it was read. */
  config(): unknown;
  /** What the mesh (or, without a mesh reader, the log) says the outbound mode is. */
  mode(): OutboundModeReading;
  /** The configured integrations, assessed against the mesh. */
  items(): Promise<IntegrationItem[]>;
  /** The ServiceEntry YAML for these findings, in the plugin's format, named as among every open finding; what could not be written, and why. */
  yaml(findings: Finding[]): Promise<{yaml: string; skipped: {host: string; reason: string}[]}>;
  /** No rehearsal starts sooner than this after the previous one (the tests' own interval). */
  intervalMs: number;
  log: Logger;
  logWaitMs?: number;
  /** Told when a rehearsal is done (the page's live update). */
  onDone?(report: RehearsalReport): void;
}

export class Rehearsal {
  private running: Promise<RehearsalResponse> | null = null;

  constructor(private readonly d: RehearsalDeps) {}

  /** The latest rehearsal, or a "not run yet" report: always an answer, never absent. */
  async latest(): Promise<RehearsalReport> {
    const now = this.d.mode();
    const read = readMetaJson(await this.d.store.getMeta(REHEARSAL_META));
    if (read.state === 'unreadable') this.d.log.warn('the stored rehearsal is not valid JSON; showing none');
    const parsed = read.state === 'read' ? (read.value as RehearsalReport | null) : null;
    const stored = parsed !== null && typeof parsed === 'object' && parsed.state === 'done' && Array.isArray(parsed.entries) ? parsed : null;
    if (stored === null) return notRunReport(now.mode, now.source);
    // From its end: a rehearsal takes longer than a short interval, and the next may not follow at once.
    const next = stored.finishedAt === null ? NaN : Date.parse(stored.finishedAt) + this.d.intervalMs;
    return {...stored, nextAllowedAt: next > Date.now() ? new Date(next).toISOString() : null};
  }

  /**
   * Runs a rehearsal (or joins the one running) and answers within waitMs: a slash command must answer in
   * time, so a rehearsal still running then is said to be running, and finishes on its own.
   */
  async rehearse(by: ApiActor | null, waitMs = Infinity): Promise<RehearsalResponse> {
    const refusal = await this.refusal();
    if (refusal !== null) return refusal;
    this.running ??= this.run(by).finally(() => {
      this.running = null;
    });
    const run = this.running;
    if (!Number.isFinite(waitMs)) return run;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((done) => {
      timer = setTimeout(() => done(null), waitMs);
    });
    const answer = await Promise.race([run, late]);
    clearTimeout(timer);
    if (answer !== null) return answer;
    return {
      ran: false,
      reason: 'The rehearsal is still running; its result will be on the System Console page, and `/egress rehearse` shows it once it is done.',
      report: await this.latest(),
    };
  }

  private async refusal(): Promise<RehearsalResponse | null> {
    if (this.running !== null) return null;
    const {mode, source} = this.d.mode();
    const latest = await this.latest();
    if (mode === 'REGISTRY_ONLY') {
      return {
        ran: false,
        reason: `The mesh already enforces REGISTRY_ONLY (${source}): there is nothing to rehearse. \`/egress test <integration>\` shows what it blocks now.`,
        report: latest,
      };
    }
    if (latest.nextAllowedAt !== null) {
      return {
        ran: false,
        reason: `A rehearsal ran less than ${Math.round(this.d.intervalMs / 1000)} s ago (no test runs more than once per interval); the next may start at ${formatUtc(latest.nextAllowedAt)}.`,
        report: latest,
      };
    }
    return null;
  }

  private async run(by: ApiActor | null): Promise<RehearsalResponse> {
    const {mode, source} = this.d.mode();
    const startedAt = new Date().toISOString();
    const who = by ? `${by.username} (${by.userId})` : 'the bridge';
    this.d.log.info({by: who, mode}, `rehearsal of REGISTRY_ONLY asked by ${who}`);
    const config = this.d.config() ?? {};
    const runs = new Map<string, RehearsalRun>();
    for (const kind of CONNECTION_TEST_KINDS) {
      const spec = CONNECTION_TESTS[kind];
      if (!isConfigured(kind, config)) continue;
      if (spec.onlyWhenAsked) {
        runs.set(kind, {
          asked: false,
          reason: `The ${spec.label} test sends a real email, so a rehearsal never runs it: \`/egress test ${kind}\` does, when you ask.`,
        });
        continue;
      }
      // One at a time through the tester's queue, each under its rate limit, each logged with who asked.
      runs.set(kind, {asked: true, answer: await this.d.tests.request(kind, 'rehearsal', by)});
    }
    if ([...runs.values()].some((r) => r.asked && r.answer.ran)) await new Promise((r) => setTimeout(r, this.d.logWaitMs ?? LOG_WAIT_MS));

    const open = await allFindings(this.d.store, {status: 'open'});
    const items = await this.d.items();
    const entries: RehearsalEntry[] = [];
    for (const kind of CONNECTION_TEST_KINDS) {
      const plan = planEntry({kind, configured: isConfigured(kind, config), run: runs.get(kind) ?? {asked: false, reason: ''}, findings: open, items});
      let yaml = '';
      let detail = plan.entry.detail;
      if (plan.yamlFrom !== null) {
        const from =
          'findings' in plan.yamlFrom
            ? open.filter((f) => (plan.yamlFrom as {findings: string[]}).findings.includes(f.key))
            : findingsForSuggestion(plan.yamlFrom.items, open, 'ALLOW_ANY');
        const written = from.length > 0 ? await this.d.yaml(from) : {yaml: '', skipped: []};
        yaml = written.yaml;
        // Say what the YAML is, or why there is none: never point at a ServiceEntry that is not there.
        if (yaml !== '') detail += ' The ServiceEntry below lets it out: add it before switching on REGISTRY_ONLY.';
        else if (written.skipped.length > 0)
          detail += ` No ServiceEntry can be written for it: ${written.skipped.map((x) => `${x.host}: ${x.reason}`).join('; ')}`;
      }
      entries.push({...plan.entry, detail, yaml});
    }
    const finishedAt = new Date().toISOString();
    const report: RehearsalReport = {
      state: 'done',
      mode,
      modeSource: source,
      startedAt,
      finishedAt,
      requestedBy: by,
      entries: sortEntries(entries),
      summary: summarize(entries),
      nextAllowedAt: new Date(Date.parse(finishedAt) + this.d.intervalMs).toISOString(),
    };
    await this.d.store.setMeta(REHEARSAL_META, JSON.stringify(report)).catch((err: Error) => this.d.log.warn({err: err.message}, 'cannot keep the rehearsal'));
    this.d.log.info({by: who, breaks: entries.filter((e) => e.verdict === 'will-break').map((e) => e.kind)}, `rehearsal done: ${report.summary}`);
    this.d.onDone?.(report);
    return {ran: true, report};
  }
}
