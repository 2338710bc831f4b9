// The suggestion stage: findings (and optionally the administrator's current values) in, the ServiceEntries
// still missing out, in the requested format, every one of them checked against Istio's rules.
import {printable} from '../hostname';
import type {SuggestionSection} from '../../../common/types';
import type {Finding, ServiceEntryModel, SuggestionFormat, SuggestionResult} from '../types';
import {buildServiceEntries, partitionValid, type Skipped} from './model';
import {isDns1123Label} from './names';
import {readBack} from './readback';
import {renderSuggestion} from './render';
import {checkServiceEntrySpec} from './validate';
import {allowedByValues, DEFAULT_ROUTES} from './values';
import {plansFor} from './plan';
import type {AllowedHost} from './allowed';

export {checkHost, hostMatches, printable} from '../hostname';
export {isIpAddress} from '../address';
export type {AllowedHost} from './allowed';
export {buildServiceEntries, partitionValid, INSTANCE_METADATA_HOST} from './model';
export type {BuildOptions, BuildResult, Skipped} from './model';
export {readBack} from './readback';
export {GENERATED_LABEL, renderSuggestion} from './render';
export {SERVICE_ENTRY_SPEC_SCHEMA, schemaErrors} from './schema';
export {checkServiceEntrySpec, toServiceEntrySpec, validateServiceEntry, validateServiceEntrySpec} from './validate';
export type {ServiceEntrySpec, ValidationReport} from './validate';
export {allowedByValues, DEFAULT_ROUTES} from './values';
export {plansFor} from './plan';
export type {ValuesReport} from './values';

export interface SuggestOptions {
  format: SuggestionFormat;
  /** The administrator's current values file (umbrella, package, or ServiceEntry manifests). */
  values?: string;
  /** metadata.namespace of `serviceentry` manifests. */
  namespace?: string;
  /** Emit the instance metadata entry instead of advice against it (see BuildOptions). */
  allowInstanceMetadata?: boolean;
  /** Hosts allowed outside the values file, e.g. ServiceEntries the mesh already has. */
  allowed?: readonly AllowedHost[];
  /** Names taken outside the values file (existing ServiceEntries): new entries avoid them. */
  reservedNames?: readonly string[];
  /**
   * Keys of the findings to render: the entries (and skipped hosts) of these only, as they are among all the
   * findings given. An alert passes every open finding and its own keys, so that its YAML is exactly its
   * part of `/egress snippet all`.
   */
  only?: readonly string[];
  /**
   * Groups the entries under headings, in this order: an entry goes to the first section holding one of the
   * finding keys it covers (entries of no section come last, without a heading).
   */
  sections?: readonly SectionSpec[];
}

export interface SectionSpec {
  id: SuggestionSection['id'];
  title: string;
  keys: readonly string[];
}

/** What, besides the findings, decides what is already allowed: the values file and the mesh. */
export type SuggestContext = Pick<SuggestOptions, 'values' | 'allowed' | 'reservedNames'>;

export interface SuggestResult extends SuggestionResult {
  /** What a person should know about the input: values that could not be read, a namespace that was ignored. */
  notes: string[];
  /** The sections the YAML is headed by, with their entries; only those that hold any (empty without `sections`). */
  sections: SuggestionSection[];
}

export function suggest(findings: readonly Finding[], opts: SuggestOptions): SuggestResult {
  const notes: string[] = [];
  const headerNotes: string[] = [];

  // Without a values file the traffic is the only evidence: a blocked host is blocked, even one the chart's
  // default route would allow (that route may be switched off). With one, the values say what is allowed.
  const report = opts.values !== undefined ? allowedByValues(opts.values) : {allowed: [], routeNames: [], errors: [], warnings: []};
  if (report.errors.length > 0) {
    const note = `The values file could not be read completely (${report.errors.join('; ')}); hosts it may already allow are listed anyway.`;
    notes.push(note);
    headerNotes.push(note);
  }
  notes.push(...report.warnings);

  let namespace = opts.namespace;
  if (namespace !== undefined && !isDns1123Label(namespace)) {
    notes.push(`The namespace ${printable(namespace, 63)} is not a valid Kubernetes namespace name and was left out.`);
    namespace = undefined;
  }

  const reservedNames = [...report.routeNames, ...(opts.reservedNames ?? []), ...Object.keys(DEFAULT_ROUTES).flatMap((n) => [n, `${n}-external`])];
  const built = buildServiceEntries(findings, {
    allowed: [...report.allowed, ...(opts.allowed ?? [])],
    reservedNames,
    allowInstanceMetadata: opts.allowInstanceMetadata === true,
  });
  const wanted = opts.only === undefined ? null : new Set(opts.only);
  const concerns = (keys: readonly string[] | undefined): boolean => wanted === null || (keys ?? []).some((k) => wanted.has(k));
  const shown = wanted === null ? findings : findings.filter((f) => wanted.has(f.key));
  const valid = partitionValid(
    built.entries.filter((e) => concerns(e.covers)),
    namespace,
  );
  const sectionOf = sectionIndex(opts.sections ?? []);
  const sections = opts.sections ?? [];
  const ordered = stableSortBy(valid.entries, (e) => sectionOf(e) ?? sections.length);
  const rendered = renderSuggestion(ordered, opts.format, {
    ...(namespace !== undefined ? {namespace} : {}),
    notes: headerNotes,
    ...(sections.length > 0 ? {sectionOf: (e: ServiceEntryModel) => sections[sectionOf(e) ?? -1]?.title} : {}),
  });
  const skipped: Skipped[] = [...built.skipped.filter((k) => concerns(k.keys)), ...valid.skipped, ...rendered.skipped];

  // The YAML is read back as the chart would read it; output that does not hold up is never shown.
  const problems = outputProblems(rendered.yaml, opts.format, rendered.entries, namespace);
  if (problems.length > 0) {
    for (const entry of rendered.entries) {
      for (const host of entry.hosts) {
        skipped.push({host, reason: `the rendered suggestion did not validate: ${problems.join('; ')}`, keys: entry.covers});
      }
    }
    return {format: opts.format, yaml: '', entries: [], skipped, notes, plans: plansFor(shown, [], skipped), sections: []};
  }
  const grouped = sections
    .map((sec, i) => ({id: sec.id, title: sec.title, entries: rendered.entries.filter((e) => sectionOf(e) === i).map((e) => e.name)}))
    .filter((sec) => sec.entries.length > 0);
  return {
    format: opts.format,
    yaml: rendered.yaml,
    entries: rendered.entries,
    skipped,
    notes,
    plans: plansFor(shown, rendered.entries, skipped),
    sections: grouped,
  };
}

/** The index of the first section that holds a key the entry covers; undefined for none. */
function sectionIndex(sections: readonly SectionSpec[]): (entry: ServiceEntryModel) => number | undefined {
  const first = new Map<string, number>();
  sections.forEach((sec, i) => {
    for (const k of sec.keys) if (!first.has(k)) first.set(k, i);
  });
  return (entry) => {
    let best: number | undefined;
    for (const k of entry.covers) {
      const i = first.get(k);
      if (i !== undefined && (best === undefined || i < best)) best = i;
    }
    return best;
  };
}

function stableSortBy<T>(items: readonly T[], rank: (item: T) => number): T[] {
  return items
    .map((item, i) => ({item, i, r: rank(item)}))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.item);
}

function outputProblems(yaml: string, format: SuggestionFormat, entries: readonly {name: string; hosts: string[]}[], namespace: string | undefined): string[] {
  if (yaml === '') {
    return entries.length === 0 ? [] : ['no YAML was produced'];
  }
  const back = readBack(yaml, format);
  const problems = [...back.errors];
  if (back.entries.length !== entries.length) {
    problems.push(`the YAML holds ${back.entries.length} entries instead of ${entries.length}`);
  }
  back.entries.forEach((e, i) => {
    problems.push(...checkServiceEntrySpec(e.spec, namespace === undefined ? {} : {namespace}));
    const expected = entries[i]?.hosts ?? [];
    if (JSON.stringify(e.spec.hosts) !== JSON.stringify(expected)) {
      problems.push(`entry ${i + 1} does not hold the hosts it was built with`);
    }
  });
  return [...new Set(problems)];
}
