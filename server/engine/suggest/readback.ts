// Reads rendered suggestions back the way the charts will: which ServiceEntry specs does this YAML produce?
// Used to check every output before it is shown, and by the tests.
import {isMap, isScalar, parseAllDocuments, visit, type Document} from 'yaml';

import type {SuggestionFormat} from '../types';

export interface ReadBackEntry {
  /** The name of the ServiceEntry object the chart (or kubectl) creates. */
  objectName: string;
  spec: Record<string, unknown>;
}

export function readBack(yaml: string, format: SuggestionFormat): {entries: ReadBackEntry[]; errors: string[]} {
  const errors: string[] = [];
  const values: unknown[] = [];
  // The parser's own duplicate-key check compares every key with every other: minutes for a few thousand
  // entries. The same check, with a set per map, is linear.
  for (const doc of parseAllDocuments(yaml, {uniqueKeys: false})) {
    if (doc.errors.length > 0) {
      errors.push(...doc.errors.map((e) => e.message));
      continue;
    }
    const duplicates = duplicateKeys(doc);
    if (duplicates.length > 0) {
      errors.push(...duplicates.map((k) => `Map keys must be unique: ${JSON.stringify(k)} appears more than once`));
      continue;
    }
    values.push(doc.toJS({maxAliasCount: 0}));
  }
  const entries: ReadBackEntry[] = [];
  switch (format) {
    case 'bigbang':
    case 'package': {
      const path = format === 'bigbang' ? ['addons', 'mattermost', 'values', 'routes', 'outbound'] : ['routes', 'outbound'];
      for (const [name, route] of Object.entries(asRecord(dig(values[0], path)))) {
        const r = asRecord(route);
        if (r.enabled === false) {
          continue;
        }
        // As bb-common renders a route: 443/https/HTTPS without ports, MESH_EXTERNAL and DNS by default.
        const location = r.location ?? 'MESH_EXTERNAL';
        entries.push({
          objectName: `${name}-${location === 'MESH_EXTERNAL' ? 'external' : 'internal'}`,
          spec: {
            hosts: r.hosts,
            location,
            resolution: r.resolution ?? 'DNS',
            ports: Array.isArray(r.ports) && r.ports.length > 0 ? r.ports : [{name: 'https', number: 443, protocol: 'HTTPS'}],
          },
        });
      }
      break;
    }
    case 'bigbang-legacy':
    case 'package-legacy': {
      const path =
        format === 'bigbang-legacy'
          ? ['addons', 'mattermost', 'values', 'istio', 'hardened', 'customServiceEntries']
          : ['istio', 'hardened', 'customServiceEntries'];
      const list = dig(values[0], path);
      for (const item of Array.isArray(list) ? list : []) {
        const i = asRecord(item);
        if (i.enabled !== false) {
          entries.push({objectName: String(i.name), spec: asRecord(i.spec)});
        }
      }
      break;
    }
    case 'serviceentry':
      for (const v of values) {
        const m = asRecord(v);
        entries.push({objectName: String(asRecord(m.metadata).name), spec: asRecord(m.spec)});
      }
      break;
    default:
      errors.push(`unknown format ${JSON.stringify(format)}`);
  }
  return {entries, errors};
}

function dig(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) {
    v = asRecord(v)[key];
  }
  return v;
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function duplicateKeys(doc: Document): string[] {
  const found: string[] = [];
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(key)) found.push(key);
        seen.add(key);
      }
    },
  });
  return found;
}
