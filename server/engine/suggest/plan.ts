// One plan per destination: what to do, whether the suggested YAML is part of it (and why not), and what
// already allows it. Every view renders these texts as they are, so no view can say something another
// contradicts.
import type {Finding, Plan, ServiceEntryModel} from '../types';
import type {Skipped} from './model';

/** The plan of each finding, in the order given, from the entries and skipped hosts of one suggest() run. */
export function plansFor(findings: readonly Finding[], entries: readonly ServiceEntryModel[], skipped: readonly Skipped[]): Plan[] {
  const entriesOf = new Map<string, ServiceEntryModel[]>();
  for (const e of entries) for (const k of e.covers) entriesOf.set(k, [...(entriesOf.get(k) ?? []), e]);
  const skippedOf = new Map<string, Skipped[]>();
  for (const s of skipped) for (const k of s.keys ?? []) skippedOf.set(k, [...(skippedOf.get(k) ?? []), s]);
  return findings.map((f) => planOf(f, entriesOf.get(f.key) ?? [], skippedOf.get(f.key) ?? []));
}

function planOf(f: Finding, entries: readonly ServiceEntryModel[], skipped: readonly Skipped[]): Plan {
  const base = {key: f.key, entries: [] as string[], allowedBy: null};
  if (f.verdict === 'external-ok' || f.verdict === 'internal' || f.verdict === 'not-access-log') {
    return {
      ...base,
      action: 'none',
      text: f.verdict === 'external-ok' ? 'Nothing to do: it was reached.' : 'Nothing to do: this traffic stays inside the mesh.',
    };
  }
  const allowedBy = skipped.find((k) => k.allowedBy !== undefined)?.allowedBy ?? null;
  if (entries.length > 0) {
    const names = entries.map((e) => code(e.name));
    const hosts = [...new Set(entries.flatMap((e) => e.hosts))].map(code);
    const port = entries[0].ports.find((p) => p.number === f.destination.port) ?? entries[0].ports[0];
    const when = f.verdict === 'passthrough' ? ', needed before REGISTRY_ONLY is switched on' : '';
    const also = allowedBy !== null ? ` The other hosts at this address are already allowed by ${allowedBy}.` : '';
    return {
      ...base,
      action: 'add',
      entries: entries.map((e) => e.name),
      text: `Add ${names.length === 1 ? 'the entry' : 'the entries'} ${names.join(', ')} of the suggested YAML: ${names.length === 1 ? 'it allows' : 'they allow'} ${hosts.join(', ')} on port ${port.number} (${port.protocol})${when}.${also}`,
    };
  }
  const reasons = skipped.filter((k) => k.allowedBy === undefined).map((k) => k.reason);
  if (allowedBy !== null && reasons.length === 0) {
    const still =
      f.verdict === 'blocked'
        ? ' Connections to it were blocked all the same: check that these values are deployed, and that the entry is exported to the namespace of Mattermost.'
        : '';
    return {...base, action: 'allowed', allowedBy, text: `Already allowed by ${allowedBy}: nothing to add.${still}`};
  }
  const why = reasons.length > 0 ? [...new Set(reasons)].map(sentence).join(' ') : 'Nothing from the log names a host that a ServiceEntry could allow.';
  return {...base, action: 'other-fix', text: `No ServiceEntry is suggested. ${why}`};
}

function code(s: string): string {
  return `\`${s}\``;
}

function sentence(s: string): string {
  const t = s.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
