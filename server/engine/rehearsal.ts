// The rehearsal before hardening, pure: while the mesh still lets any destination out (ALLOW_ANY), each of
// Mattermost's connection tests leaves a PassthroughCluster line for a destination no ServiceEntry
// registers. Read within the test's window, those lines say which integration REGISTRY_ONLY would break;
// the bridge (server/bridge/rehearsal.ts) runs the tests, reads the store and writes the YAML.
import type {IntegrationItem} from '../../common/api';
import type {ConnectionTestKind, ConnectionTestResponse, ConnectionTestResult, RehearsalEntry, RehearsalLine} from '../../common/connection-tests';
export {notRunReport} from '../../common/connection-tests';
import type {Finding} from '../../common/types';
import {PROBE_SLACK_MS} from './attribute';
import {CONNECTION_TESTS, specCovers} from './connection-tests';
import {isInCluster} from './integrations';

export type RehearsalFinding = Pick<Finding, 'key' | 'verdict' | 'destination' | 'attribution' | 'lastSeen'>;

/** How one integration's test went in the rehearsal: run (its answer), or not asked at all, and why. */
export type RehearsalRun = {asked: true; answer: ConnectionTestResponse} | {asked: false; reason: string};

export interface RehearsalInput {
  kind: ConnectionTestKind;
  configured: boolean;
  run: RehearsalRun;
  /** Open findings (every verdict; only PassthroughCluster ones are read). */
  findings: readonly RehearsalFinding[];
  /** The integration rows this test speaks for, as assessed against the mesh. */
  items: readonly IntegrationItem[];
}

/** An entry, and what its YAML is to be made of: findings by key, or the rows' configured endpoints. */
export interface RehearsalPlan {
  entry: Omit<RehearsalEntry, 'yaml'>;
  yamlFrom: {findings: string[]} | {items: IntegrationItem[]} | null;
}

const where = (f: RehearsalFinding): string => {
  const name = f.destination.host ?? f.destination.ip ?? f.key;
  return `${name.includes(':') ? `[${name}]` : name}:${f.destination.port}`;
};

/**
 * PassthroughCluster lines on the test's port that belong to its window. Named for certain: the test's own
 * host, or an address the window itself named (attribute.ts, by the test's id). Another address on the port,
 * last seen inside the window, is listed but not named: it may be another connection.
 */
export function linesOfTest(test: ConnectionTestResult, findings: readonly RehearsalFinding[]): RehearsalLine[] {
  const target = test.target;
  if (target === null || target.port === null) return [];
  const from = Date.parse(test.startedAt) - PROBE_SLACK_MS;
  const to = Date.parse(test.finishedAt) + PROBE_SLACK_MS;
  const lines: RehearsalLine[] = [];
  for (const f of findings) {
    if (f.verdict !== 'passthrough' || f.destination.port !== target.port) continue;
    const seen = f.lastSeen === null ? NaN : Date.parse(f.lastSeen);
    const byTest = f.attribution.method === 'connection-test' && f.attribution.note.includes(test.id);
    const byHost = (f.destination.host ?? '').toLowerCase() === target.host.toLowerCase() && seen >= from;
    if (byTest || byHost) lines.push({key: f.key, destination: where(f), named: true});
    else if (f.destination.host === null && seen >= from && seen <= to) lines.push({key: f.key, destination: where(f), named: false});
  }
  return lines.sort((a, b) => Number(b.named) - Number(a.named) || a.key.localeCompare(b.key));
}

function notTested(kind: ConnectionTestKind, reason: string, latest: ConnectionTestResult | null): RehearsalPlan {
  const spec = CONNECTION_TESTS[kind];
  return {entry: {kind, label: spec.label, verdict: 'not-tested', detail: reason, test: latest, lines: []}, yamlFrom: null};
}

export function planEntry(input: RehearsalInput): RehearsalPlan {
  const {kind} = input;
  const spec = CONNECTION_TESTS[kind];
  const entry = (verdict: RehearsalEntry['verdict'], detail: string, test: ConnectionTestResult | null, lines: RehearsalLine[] = []) => ({
    kind,
    label: spec.label,
    verdict,
    detail,
    test,
    lines,
  });
  if (!input.configured)
    return {entry: entry('not-configured', `${spec.label} is not set up and switched on in Mattermost's saved configuration.`, null), yamlFrom: null};
  if (!input.run.asked) return notTested(kind, input.run.reason, null);
  const answer = input.run.answer;
  if (!answer.ran) return notTested(kind, `Not tested now: ${answer.reason}`, answer.latest);
  const test = answer.result;
  if (test.outcome === 'not-configured') return {entry: entry('not-configured', test.message, test), yamlFrom: null};
  if (test.outcome === 'not-available') return notTested(kind, `Not tested: ${test.message}`, test);

  const lines = linesOfTest(test, input.findings);
  const named = lines.filter((l) => l.named);
  const others = lines.filter((l) => !l.named);
  const otherText =
    others.length > 0
      ? ` Also on port ${test.target?.port} within the test's window, not named for certain (another connection may have made ${others.length === 1 ? 'it' : 'them'}): ${others
          .slice(0, 5)
          .map((l) => l.destination)
          .join(', ')}.`
      : '';
  if (named.length > 0) {
    return {
      entry: entry(
        'will-break',
        `Its test connection left the mesh through PassthroughCluster (${named.map((l) => l.destination).join(', ')}): no ServiceEntry lets it out, so REGISTRY_ONLY will block it.${test.outcome === 'failed' ? ` The test also fails today: ${test.message}` : ''}`,
        test,
        lines,
      ),
      yamlFrom: {findings: named.map((l) => l.key)},
    };
  }
  if (test.outcome === 'failed') {
    return {
      entry: entry('already-failing', `It fails today, before any hardening, so REGISTRY_ONLY is not what stops it: ${test.message}${otherText}`, test, lines),
      yamlFrom: null,
    };
  }
  const items = input.items.filter((i) => i.enabled && specCovers(kind, i.feature));
  const allowed = items.find((i) => i.state === 'allowed');
  if (allowed)
    return {
      entry: entry('keeps-working', `The test passed, and ${allowed.allowedBy ?? 'a ServiceEntry'} lets it out.${otherText}`, test, lines),
      yamlFrom: null,
    };
  if ((test.target !== null && isInCluster(test.target.host)) || items.some((i) => i.state === 'in-cluster')) {
    return {
      entry: entry('keeps-working', 'The test passed, and the connection stays inside the cluster: REGISTRY_ONLY does not apply to it.', test, lines),
      yamlFrom: null,
    };
  }
  const unregistered = items.filter((i) => i.state === 'will-be-blocked' || i.state === 'blocked');
  if (unregistered.some((i) => i.findings.some((f) => f.verdict === 'passthrough'))) {
    return {
      entry: entry(
        'will-break',
        `The test passed, and earlier PassthroughCluster lines show its traffic leaves the mesh unregistered: REGISTRY_ONLY will block it.${otherText}`,
        test,
        lines,
      ),
      yamlFrom: {items: unregistered},
    };
  }
  return {
    entry: entry(
      'unconfirmed',
      `The test passed, but no PassthroughCluster line of it was read within its window (is the istio-proxy log of Mattermost's pods followed?).${unregistered.length > 0 ? ' No ServiceEntry covers it.' : ''}${otherText}`,
      test,
      lines,
    ),
    yamlFrom: unregistered.length > 0 ? {items: unregistered} : null,
  };
}

const VERDICT_ORDER: RehearsalEntry['verdict'][] = ['will-break', 'already-failing', 'unconfirmed', 'not-tested', 'keeps-working', 'not-configured'];

/** The most urgent first, then in the order the tests are listed everywhere else. */
export function sortEntries(entries: RehearsalEntry[]): RehearsalEntry[] {
  return [...entries].sort((a, b) => VERDICT_ORDER.indexOf(a.verdict) - VERDICT_ORDER.indexOf(b.verdict));
}

/** One line for a person about a finished rehearsal. */
export function summarize(entries: readonly RehearsalEntry[]): string {
  const of = (v: RehearsalEntry['verdict']) => entries.filter((e) => e.verdict === v).map((e) => e.label);
  const breaks = of('will-break');
  const parts = [
    breaks.length > 0
      ? `REGISTRY_ONLY would break ${breaks.join(', ')}: each needs a ServiceEntry before REGISTRY_ONLY is switched on.`
      : 'Nothing the rehearsal could confirm would break under REGISTRY_ONLY.',
  ];
  const failing = of('already-failing');
  if (failing.length > 0) parts.push(`Failing already, before hardening: ${failing.join(', ')}.`);
  const unconfirmed = of('unconfirmed');
  if (unconfirmed.length > 0) parts.push(`Passed, no log line read: ${unconfirmed.join(', ')}.`);
  const untested = of('not-tested');
  if (untested.length > 0) parts.push(`Not tested: ${untested.join(', ')}.`);
  return parts.join(' ');
}
