// The scan report for a terminal: what is blocked, what it breaks, and the YAML to paste.
import type {Finding, Plan} from '../../common/types';
import {printable} from '../engine/hostname';
import {humanBytes} from './progress';
import type {IntegrationItem} from '../../common/api';
import type {ScanReport} from './scan';
import {formatUtc} from '../../common/time';

const LABEL: Record<string, string> = {
  blocked: 'BLOCKED',
  'external-failed': 'FAILING',
  passthrough: 'PASSTHROUGH',
};

/** The one time format (common/time.ts); a time that cannot be read is shown as it came, made printable. */
export function readableTime(iso: string | null): string {
  if (iso === null) return 'unknown time';
  return formatUtc(iso) ?? printable(iso);
}

/** Every piece that came from a log is made printable; the punctuation around it is ours. */
function destinationText(f: Finding): string {
  const d = f.destination;
  const ip = d.ip !== null ? printable(d.ip) : null;
  if (d.host !== null) return `${printable(d.host)}:${d.port}${ip !== null ? ` (${ip})` : ''}`;
  if (f.rejectedHost) return `${f.rejectedHost.printable} (${ip ?? 'no address'}:${d.port})`;
  return `${ip ?? 'unknown'}:${d.port}`;
}

/** A plan's text for a terminal: the backticks that mark commands in Markdown views are left out. */
function planLine(plan: Plan | undefined): string {
  return plan === undefined ? 'not known' : plan.text.replace(/`([^`\n]+)`/g, '$1');
}

function findingText(f: Finding, plan: Plan | undefined): string {
  const lines: string[] = [];
  const attempts = `${f.count.toLocaleString('en-US')} attempt${f.count === 1 ? '' : 's'}`;
  lines.push(`${LABEL[f.verdict] ?? f.verdict.toUpperCase()}  ${destinationText(f)}  ${f.protocol}  ${attempts}`);
  lines.push(
    `  seen:     ${readableTime(f.firstSeen)} → ${readableTime(f.lastSeen)}${f.pods.length ? `  pods: ${f.pods.map((p) => printable(p)).join(', ')}` : ''}`,
  );
  if (f.features.length > 0) {
    for (const feat of f.features) lines.push(`  breaks:   ${feat.name} (${feat.configPath})`);
  }
  const a = f.attribution;
  // Well-known addresses already explain themselves in the plan.
  if (a.method !== 'sni' && a.method !== 'authority' && a.method !== 'cluster' && a.method !== 'well-known') {
    const cands = a.candidates.length > 1 ? ` candidates: ${a.candidates.join(', ')};` : '';
    lines.push(`  host:     ${a.host ?? 'not named'} (${a.method}, ${a.confidence});${cands} ${a.note}`);
  }
  lines.push(`  to do:    ${planLine(plan)}`);
  return lines.join('\n');
}

export function renderText(r: ScanReport): string {
  const s = r.summary;
  const out: string[] = [];
  out.push(
    `Scanned ${s.lines.toLocaleString('en-US')} lines (${humanBytes(s.bytes)}) from ${s.inputs.join(', ')} in ${s.seconds.toFixed(2)} s: ` +
      `${s.verdicts.blocked} blocked, ${s.verdicts['external-failed']} failing, ${s.verdicts.passthrough} passthrough connection(s).`,
  );
  if (r.inventory.endpoints > 0) out.push(`Mattermost configuration: ${r.inventory.endpoints} external endpoint(s) known.`);
  for (const w of r.inventory.warnings) out.push(`warning: ${w}`);
  if (s.destinationsOverflow > 0) out.push(`warning: ${s.destinationsOverflow} line(s) to further destinations were counted but not itemised (limit reached).`);
  if (s.truncatedLines > 0) out.push(`note: ${s.truncatedLines} over-long line(s) were cut and could not be read as access-log records.`);
  out.push('');
  if (r.findings.length === 0) {
    out.push('No blocked, failing or passthrough egress found.');
    if (s.lines === 0) out.push('The input was empty: was it the istio-proxy container? kubectl logs <pod> -c istio-proxy');
    else if (Object.keys(s.layouts).length === 0)
      out.push('No line was an Envoy access-log record: is access logging on (meshConfig.accessLogFile: /dev/stdout)?');
    out.push(...refusalsText(r.mattermostRefusals));
    return out.join('\n') + '\n';
  }
  out.push(`${r.findings.length} destination(s):`, '');
  const plans = new Map(r.suggestion.plans.map((p) => [p.key, p]));
  for (const f of r.findings) out.push(findingText(f, plans.get(f.key)), '');
  const sug = r.suggestion;
  if (sug.yaml !== '') {
    const parts = sug.sections.length > 1 ? ` It has ${sug.sections.length} sections: ${sug.sections.map((x) => x.title.toLowerCase()).join('; then ')}.` : '';
    out.push(`Suggested ServiceEntries (${sug.format} format): add this to your values.${parts}`, '', sug.yaml.trimEnd(), '');
  } else {
    out.push('No ServiceEntry to add.');
  }
  const left = sug.plans.filter((p) => p.action !== 'add');
  if (left.length > 0) {
    out.push('Not in the YAML:');
    for (const p of left) out.push(`  - ${printable(p.key)}: ${planLine(p)}`);
  }
  if (r.integrations !== null) out.push('', ...integrationsText(r.integrations));
  out.push(...refusalsText(r.mattermostRefusals));
  return out.join('\n') + '\n';
}

function refusalsText(refusals: ScanReport['mattermostRefusals']): string[] {
  if (refusals.length === 0) return [];
  const out = ['', 'Refused by Mattermost itself (its log\'s "address forbidden"), not by the mesh:'];
  for (const r of refusals) out.push(`  - ${printable(r.advice)}${r.count > 1 ? ` (${r.count} times)` : ''}`);
  return out;
}

const STATE_WORD: Record<IntegrationItem['state'], string> = {
  blocked: 'blocked now',
  'will-be-blocked': 'will be blocked',
  unknown: 'not known',
  allowed: 'allowed',
  'in-cluster': 'in the cluster',
};

/** What the configuration names, before any of it has failed: the part an administrator can fix ahead. */
function integrationsText(i: NonNullable<ScanReport['integrations']>): string[] {
  const enabled = i.items.filter((x) => x.enabled);
  if (enabled.length === 0) return ['Configured integrations: none switched on in the Mattermost configuration.'];
  const out = ['Configured integrations (switched on):'];
  for (const x of enabled) {
    const where = `${printable(x.host)}${x.port === null ? '' : `:${x.port}`}`;
    out.push(`  - ${x.feature.name} (${x.feature.configPath}): ${where} ${STATE_WORD[x.state]}${x.allowedBy !== null ? ` by ${x.allowedBy}` : ''}`);
  }
  if (enabled.some((x) => x.state === 'unknown')) out.push('Give --values (your Big Bang values) to know which of them are allowed.');
  return out;
}
