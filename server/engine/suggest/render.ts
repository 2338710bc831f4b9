// Every suggestion format from the same models. YAML is built as a document tree and printed by the `yaml`
// package: values never pass through string concatenation, so no host name or comment can change the
// document's structure. Output uses the YAML 1.1 schema because Helm and kubectl read YAML with go-yaml,
// which takes unquoted words such as "on" or "no" as booleans.
import {Document, isMap, isScalar, isSeq, type Node, Scalar, YAMLMap, YAMLSeq} from 'yaml';

import type {ServiceEntryModel, SuggestionFormat} from '../types';
import type {Skipped} from './model';
import {commentText} from './text';
import {toServiceEntrySpec} from './validate';

export interface RenderOptions {
  /** metadata.namespace of plain manifests. */
  namespace?: string;
  /** Extra lines for the header comment (e.g. that the values file could not be read). */
  notes?: readonly string[];
  /**
   * The section title of an entry. Entries come grouped by section; the first of each group gets the title as
   * a heading comment, so that one patch says which part is which.
   */
  sectionOf?: (entry: ServiceEntryModel) => string | undefined;
}

export interface Rendered {
  yaml: string;
  /** The entries the YAML contains. */
  entries: ServiceEntryModel[];
  /** Entries this format cannot express. */
  skipped: Skipped[];
}

export const GENERATED_LABEL = 'egress-advisor/generated';

const UMBRELLA_PREFIX = ['addons', 'mattermost', 'values'];

const TO_STRING = {lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false, indentSeq: true} as const;

export function renderSuggestion(entries: readonly ServiceEntryModel[], format: SuggestionFormat, opts: RenderOptions = {}): Rendered {
  const routes = format === 'bigbang' || format === 'package';
  const kept: ServiceEntryModel[] = [];
  const skipped: Skipped[] = [];
  for (const entry of entries) {
    if (routes && ((entry.addresses ?? []).length > 0 || (entry.endpoints ?? []).length > 0)) {
      // bb-common builds the ServiceEntry from hosts, ports, location and resolution only.
      for (const host of entry.hosts) {
        skipped.push({
          host,
          reason: `entry ${entry.name} needs addresses and endpoints, which routes.outbound cannot carry: use the ${format === 'bigbang' ? 'bigbang-legacy' : 'package-legacy'} or serviceentry format for it`,
          keys: entry.covers,
        });
      }
      continue;
    }
    kept.push(entry);
  }
  if (kept.length === 0) {
    return {yaml: '', entries: [], skipped};
  }
  let yaml: string;
  switch (format) {
    case 'bigbang':
    case 'package':
      yaml = renderRoutes(kept, format === 'bigbang', opts);
      break;
    case 'bigbang-legacy':
    case 'package-legacy':
      yaml = renderLegacy(kept, format === 'bigbang-legacy', opts);
      break;
    case 'serviceentry':
      yaml = renderManifests(kept, opts);
      break;
    default:
      throw new Error(`unknown suggestion format ${JSON.stringify(format)}`);
  }
  return {yaml, entries: kept, skipped};
}

function renderRoutes(entries: readonly ServiceEntryModel[], umbrella: boolean, opts: RenderOptions): string {
  const outbound: Record<string, unknown> = {};
  for (const e of entries) {
    const route: Record<string, unknown> = {
      enabled: true,
      hosts: [...e.hosts],
      ports: e.ports.map((p) => ({number: p.number, name: p.name, protocol: p.protocol})),
    };
    // DNS and MESH_EXTERNAL are bb-common's defaults; only what differs is written.
    if (e.resolution !== 'DNS') {
      route.resolution = e.resolution;
    }
    outbound[e.name] = route;
  }
  const doc = newDocument(nest(umbrella ? [...UMBRELLA_PREFIX, 'routes', 'outbound'] : ['routes', 'outbound'], outbound));
  const map = doc.getIn(umbrella ? [...UMBRELLA_PREFIX, 'routes', 'outbound'] : ['routes', 'outbound'], true);
  if (isMap(map)) {
    const comments = entryComments(entries, opts);
    map.items.forEach((pair, i) => {
      const key = pair.key as Node;
      key.commentBefore = comments[i];
      key.spaceBefore = i > 0;
    });
  }
  const where = umbrella ? 'your Big Bang values (addons.mattermost.values.routes.outbound)' : 'the Mattermost package values (routes.outbound)';
  doc.commentBefore = header([`Add to ${where}.`, 'Each route becomes a ServiceEntry named <route>-external in the Mattermost namespace.'], opts);
  return doc.toString(TO_STRING);
}

function renderLegacy(entries: readonly ServiceEntryModel[], umbrella: boolean, opts: RenderOptions): string {
  const list = entries.map((e) => ({name: e.name, enabled: true, spec: specOf(e)}));
  const path = umbrella ? [...UMBRELLA_PREFIX, 'istio', 'hardened', 'customServiceEntries'] : ['istio', 'hardened', 'customServiceEntries'];
  const doc = newDocument(nest(path, list));
  const seq = doc.getIn(path, true);
  if (isSeq(seq)) {
    const comments = entryComments(entries, opts);
    seq.items.forEach((item, i) => {
      const node = item as Node;
      node.commentBefore = comments[i];
      node.spaceBefore = i > 0;
    });
  }
  styleExportTo(doc.contents);
  const where = umbrella
    ? 'your Big Bang values (addons.mattermost.values.istio.hardened.customServiceEntries)'
    : 'the Mattermost package values (istio.hardened.customServiceEntries)';
  doc.commentBefore = header([`Add to ${where}.`, 'Helm replaces lists instead of merging them: append these items to the entries you already have.'], opts);
  return doc.toString(TO_STRING);
}

function renderManifests(entries: readonly ServiceEntryModel[], opts: RenderOptions): string {
  const comments = entryComments(entries, opts);
  const docs = entries.map((e, i) => {
    const metadata: Record<string, unknown> = {name: e.name};
    if (opts.namespace !== undefined) {
      metadata.namespace = opts.namespace;
    }
    metadata.labels = {[GENERATED_LABEL]: 'true'};
    const doc = newDocument({apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata, spec: specOf(e)});
    styleExportTo(doc.contents);
    if (doc.contents !== null) {
      (doc.contents as Node).commentBefore = comments[i];
    }
    if (i === 0) {
      const where = opts.namespace !== undefined ? `kubectl apply -f <file>` : `kubectl apply -n <mattermost namespace> -f <file>`;
      doc.commentBefore = header([`Apply with ${where}.`], opts);
    }
    return doc.toString(TO_STRING);
  });
  return docs.join('---\n');
}

function specOf(e: ServiceEntryModel): Record<string, unknown> {
  // Key order as in the package documentation's example: hosts, location, exportTo, ports, resolution.
  const spec = toServiceEntrySpec(e);
  const out: Record<string, unknown> = {hosts: spec.hosts};
  if (spec.addresses !== undefined) {
    out.addresses = spec.addresses;
  }
  out.location = spec.location;
  out.exportTo = spec.exportTo;
  out.ports = spec.ports;
  out.resolution = spec.resolution;
  if (spec.endpoints !== undefined) {
    out.endpoints = spec.endpoints;
  }
  return out;
}

function newDocument(value: unknown): Document {
  return new Document(value, {version: '1.1'});
}

function nest(path: readonly string[], leaf: unknown): Record<string, unknown> {
  let value: unknown = leaf;
  for (const key of [...path].reverse()) {
    value = {[key]: value};
  }
  return value as Record<string, unknown>;
}

/** exportTo: ["."] as the Big Bang documentation writes it. */
function styleExportTo(node: unknown): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key) && pair.key.value === 'exportTo' && isSeq(pair.value)) {
        pair.value.flow = true;
        for (const item of pair.value.items) {
          if (isScalar(item)) {
            item.type = Scalar.QUOTE_DOUBLE;
          }
        }
      } else {
        styleExportTo(pair.value);
      }
    }
  } else if (node instanceof YAMLSeq) {
    node.items.forEach(styleExportTo);
  } else if (node instanceof YAMLMap) {
    styleExportTo(node);
  }
}

function commentBlock(comment: string | undefined): string | undefined {
  if (comment === undefined || comment === '') {
    return undefined;
  }
  // Sanitised again (a no-op for the model's own comments) so that no model can end a comment line early.
  return comment
    .split(/\r\n|\r|\n/)
    .map((line) => ` ${commentText(line, Number.MAX_SAFE_INTEGER)}`)
    .join('\n');
}

/** Each entry's comment, with its section's heading in front of the first entry of a section. */
function entryComments(entries: readonly ServiceEntryModel[], opts: RenderOptions): (string | undefined)[] {
  let previous: string | undefined;
  return entries.map((e, i) => {
    const section = opts.sectionOf?.(e);
    const starts = section !== undefined && (i === 0 || section !== previous);
    previous = section;
    const lines = [...(starts ? [`==== ${section} ====`] : []), ...(e.comment === undefined || e.comment === '' ? [] : [e.comment])];
    return lines.length === 0 ? undefined : commentBlock(lines.join('\n'));
  });
}

function header(lines: readonly string[], opts: RenderOptions): string {
  return commentBlock(
    ["Egress Advisor: ServiceEntries for outbound connections of Mattermost that Istio's REGISTRY_ONLY policy blocks.", ...lines, ...(opts.notes ?? [])].join(
      '\n',
    ),
  ) as string;
}
