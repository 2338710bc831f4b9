// Every view of one scenario against every other: the hardened Big Bang sample cluster (S3 switched on, SMTP
// allowed by the values file on an old port, a named host on 587, the instance metadata address, an
// in-cluster Elasticsearch) rendered by the CLI (text and JSON), /egress show and snippet, the alert, the
// channel notice and the API's plan. Each destination must get the same verdict, the same route names and
// the same plan everywhere, and no view may point at YAML that does not follow.
import {readFileSync} from 'node:fs';
import {PassThrough} from 'node:stream';
import type {IntegrationItem} from '../../common/api';
import type {Finding, Plan} from '../../common/types';
import {main} from '../../server/cli/main';
import type {ScanReport} from '../../server/cli/scan';
import {findingsForSuggestion} from '../../server/engine/integrations';
import {suggest} from '../../server/engine/suggest';
import {copyPlan} from '../../server/http/findings';
import {renderAlert, renderAtRiskNotice} from '../../server/present/alert';
import {proseWithCode} from '../../server/present/markdown';
import {renderCommandReply} from '../../server/present/replies';
import {VERDICT_WORD} from '../../server/present/text';
import {SAMPLE_ARGS, sample} from './sample';

const VALUES = readFileSync(sample('values.yaml'), 'utf8');
const ARGS = SAMPLE_ARGS;

async function cli(args: string[]): Promise<string> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await main(['node', 'egress-advisor', ...args], {stdout, stderr: new PassThrough()});
  expect(code).toBe(0);
  return out;
}

/** The Markdown views must never say that YAML follows: plans speak of "the suggested YAML" by its names. */
const YAML_BELOW = /YAML below|below (is|does)/i;

let report: ScanReport;
let text: string;
let findings: Finding[];
const planOf = (key: string): Plan => {
  const p = report.suggestion.plans.find((x) => x.key === key);
  if (p === undefined) throw new Error(`no plan for ${key}`);
  return p;
};

beforeAll(async () => {
  report = JSON.parse(await cli([...ARGS, '--output', 'json'])) as ScanReport;
  text = await cli(ARGS);
  findings = report.findings;
});

test('the scenario holds what it is meant to', () => {
  const actions = Object.fromEntries(findings.map((f) => [f.key, planOf(f.key).action]));
  expect(actions).toMatchObject({
    '169.254.169.254:80': 'other-fix',
    'bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com:443': 'add',
    'email-smtp.us-gov-west-1.amazonaws.com:587': 'add',
    'gitlab.example.mil:443': 'allowed',
    'api.github.com:443': 'other-fix',
  });
  expect(report.integrations?.items.map((i) => i.state)).toContain('in-cluster');
});

test('one destination alone (/egress show, the API, an alert) gets the plan and names it gets among all (snippet all, the CLI)', () => {
  for (const f of findings) {
    const alone = suggest(findings, {format: 'bigbang', values: VALUES, only: [f.key]});
    const plan = planOf(f.key);
    expect(alone.plans).toEqual([plan]);
    // The API copies it field by field: nothing lost, nothing added.
    expect(copyPlan(alone.plans[0])).toEqual(plan);
    for (const name of plan.entries) {
      expect(report.suggestion.yaml).toContain(`${name}:`);
      expect(alone.yaml).toContain(`${name}:`);
    }
  }
  // Two destinations never share a route unless one entry allows both (the address of a named host).
  const adds = findings.map((f) => planOf(f.key)).filter((p) => p.action === 'add');
  const owners = new Map<string, string[]>();
  for (const p of adds) for (const n of p.entries) owners.set(n, [...(owners.get(n) ?? []), p.key]);
  // (An entry of the patch may also cover a configured integration that no finding shows, by its own key.)
  const findingKeys = new Set(findings.map((f) => f.key));
  for (const [name, keys] of owners) {
    const entry = report.suggestion.entries.find((e) => e.name === name);
    expect(entry?.covers.filter((k) => findingKeys.has(k)).sort()).toEqual(keys.slice().sort());
  }
});

test('the CLI text, /egress show and /egress snippet say each plan as it is', () => {
  for (const f of findings) {
    const plan = planOf(f.key);
    expect(text).toContain(`  to do:    ${plan.text.replace(/`([^`\n]+)`/g, '$1')}`);

    const show = renderCommandReply({kind: 'show', finding: f, plan});
    expect(show).toContain(proseWithCode(plan.text));
    expect(show.toLowerCase()).toContain(`**${VERDICT_WORD[f.verdict]}`.toLowerCase());
    expect(show).not.toMatch(YAML_BELOW);
    // The sample's rejected host name (203.0.113.66) carries Markdown: it mentions and links nothing.
    expect(show).not.toMatch(/@(?!\u200B)|\]\(/);

    const alone = suggest(findings, {format: 'bigbang', values: VALUES, only: [f.key]});
    const snippet = renderCommandReply({
      kind: 'snippet',
      snippet: {target: f.destination.host ?? f.key, format: 'bigbang', yaml: alone.yaml, skipped: alone.skipped, notes: alone.notes, plans: alone.plans},
    });
    for (const name of plan.entries) expect(snippet).toContain(`${name}:`);
    if (plan.action === 'add') expect(snippet).toContain('```yaml');
    else expect(snippet).not.toContain('```yaml');
    expect(snippet).not.toMatch(YAML_BELOW);
  }
});

test('the alert names the same entries for each destination, with or without its YAML', () => {
  const s = suggest(findings, {format: 'bigbang', values: VALUES, only: findings.map((f) => f.key)});
  expect(s.plans).toEqual(findings.map((f) => planOf(f.key)));
  for (const yaml of [s.yaml, '']) {
    const alert = renderAlert({
      findings,
      plans: s.plans,
      suggestionYaml: yaml,
      format: 'bigbang',
      actionUrl: 'http://bridge:8080/actions',
      hmacKey: Buffer.alloc(32, 7),
      now: new Date('2026-11-28T10:00:00Z'),
      digestId: 'd',
    });
    const lines = alert.message.split('\n').filter((l) => /^\d+\. /.test(l));
    expect(lines).toHaveLength(findings.length);
    findings.forEach((f, i) => {
      const plan = planOf(f.key);
      expect(lines[i]).toContain(` ${VERDICT_WORD[f.verdict]}`);
      for (const name of plan.entries) expect(lines[i]).toContain(`\`${name}\``);
      if (plan.action === 'allowed') expect(lines[i]).toContain('already allowed by');
    });
    expect(alert.message).not.toMatch(YAML_BELOW);
    expect(alert.props.egress_advisor.findings.map((f) => [f.key, f.verdict])).toEqual(findings.map((f) => [f.key, f.verdict]));
  }
});

test('the channel notice gives each integration the plan of its destination, the instance metadata advice included', () => {
  const items = (report.integrations?.items ?? []).filter((i: IntegrationItem) => i.enabled && (i.state === 'blocked' || i.state === 'will-be-blocked'));
  const s = suggest(findingsForSuggestion(items, findings, 'REGISTRY_ONLY'), {format: 'bigbang', values: VALUES});
  const notice = renderAtRiskNotice({items, mode: 'REGISTRY_ONLY', suggestionYaml: s.yaml, format: 'bigbang', plans: s.plans, noticeId: 'n'});
  for (const item of items.filter((i) => i.findings.length > 0)) {
    const plan = planOf(item.findings[0].key);
    const line = notice.message.split('\n').find((l) => l.includes(`\`${item.host}:${item.port}\``));
    expect(line).toBeDefined();
    if (plan.action === 'add') for (const name of plan.entries) expect(line).toContain(`\`${name}\``);
    else expect(line).toContain(proseWithCode(plan.text));
  }
  const imds = notice.message.split('\n').find((l) => l.includes('`169.254.169.254:80`'));
  expect(imds).toMatch(/own credentials/);
  expect(notice.message).not.toMatch(YAML_BELOW);
});

test('/egress status counts every integration state the CLI and the API report', () => {
  const items = report.integrations?.items ?? [];
  const counts: Partial<Record<IntegrationItem['state'], number>> = {};
  for (const i of items) if (i.enabled) counts[i.state] = (counts[i.state] ?? 0) + 1;
  const status = renderCommandReply({
    kind: 'status',
    status: {
      now: new Date('2026-11-28T10:00:00Z'),
      sources: [],
      mattermost: {ok: true, detail: 'connected'},
      hardening: {state: 'registry-only'},
      counts: {open: findings.length, ignored: 0, resolved: 0, openByVerdict: {}},
      integrations: counts,
    },
  });
  const line = status.split('\n').find((l) => l.startsWith('- Configured integrations: '));
  const said = Object.fromEntries(
    [...(line ?? '').matchAll(/(\d+) (blocked now|will be blocked|not known|allowed|in the cluster)/g)].map((m) => [m[2], Number(m[1])]),
  );
  const WORDS: Record<string, string> = {
    blocked: 'blocked now',
    'will-be-blocked': 'will be blocked',
    unknown: 'not known',
    allowed: 'allowed',
    'in-cluster': 'in the cluster',
  };
  // Every state, zeros included, adding up to the enabled integrations.
  expect(said).toEqual(Object.fromEntries(Object.entries(WORDS).map(([k, w]) => [w, counts[k as IntegrationItem['state']] ?? 0])));
  expect(Object.values(said).reduce((a, b) => a + b, 0)).toBe(items.filter((i) => i.enabled).length);
});
