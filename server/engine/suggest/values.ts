// What the administrator's current values already allow. Reads a Big Bang umbrella values file, a Mattermost
// package values file, or ServiceEntry manifests (several YAML documents, or a `kind: List`), and collects the
// hosts of all three ways Big Bang registers an external host. Never throws: a file that cannot be read
// completely gives errors, and whatever could be read still counts.
import {parseAllDocuments} from 'yaml';

import {checkHost, printable} from '../hostname';
import type {AllowedHost} from './allowed';
import {commentText} from './text';

export interface ValuesReport {
  allowed: AllowedHost[];
  /** Route and ServiceEntry names in use (including the chart's own): generated names must avoid them. */
  routeNames: string[];
  /** Why (part of) the text could not be read. */
  errors: string[];
  /** What was read but cannot be taken into account (templated hosts, malformed entries). */
  warnings: string[];
}

/** The Mattermost package's own default routes (bigbang-values.md). */
export const DEFAULT_ROUTES: Readonly<Record<string, {enabled: boolean; hosts: readonly string[]; ports: readonly {number: number; protocol: string}[]}>> = {
  'mattermost-external': {
    enabled: true,
    hosts: [
      'securityupdatecheck.mattermost.com',
      'customers.mattermost.com',
      'notices.mattermost.com',
      'api.integrations.mattermost.com',
      'pdat.matterlytics.com',
      'api.github.com',
    ],
    ports: [{number: 443, protocol: 'TLS'}],
  },
  sso: {enabled: false, hosts: [], ports: []},
};

/** bb-common's port when a route lists none. */
const ROUTE_DEFAULT_PORT = {number: 443, protocol: 'HTTPS'};

/** Readers should not spend unbounded effort on an untrusted file. */
export const MAX_VALUES_BYTES = 4 * 1024 * 1024;

type Level = {prefix: string; values: Record<string, unknown>};

export function allowedByValues(text: string, opts: {chartDefaults?: boolean} = {}): ValuesReport {
  const report: ValuesReport = {allowed: [], routeNames: [], errors: [], warnings: []};
  const levels: Level[] = [];
  if (typeof text !== 'string') {
    report.errors.push('the values are not text');
  } else if (text.length > MAX_VALUES_BYTES) {
    report.errors.push(`the values file is larger than ${MAX_VALUES_BYTES} bytes and was not read`);
  } else {
    readDocuments(text, report, levels);
  }
  if (opts.chartDefaults !== false) {
    addChartDefaults(levels, report);
  }
  report.routeNames = [...new Set(report.routeNames)].sort();
  return report;
}

/** What --values (and the bridge's values file) expects, for a person told their file is not one. */
export const VALUES_FILE_EXPECTED =
  "a Big Bang umbrella values file (addons.mattermost.values…), the Mattermost package chart's values (istio…, routes…), or ServiceEntry manifests";

/**
 * Why a text is not a values file at all, or null when it may be one. Only the shape is judged: every YAML
 * document a mapping of values, a ServiceEntry or a List, and not Mattermost's own configuration. An empty
 * file, or values that register nothing (no istio section, or an empty one), are values all the same; a YAML
 * error is not judged here (allowedByValues reports it).
 */
export function notValuesFile(text: string): string | null {
  let docs;
  try {
    docs = parseAllDocuments(text.length > MAX_VALUES_BYTES ? '' : text, {prettyErrors: false});
  } catch {
    return null;
  }
  const list = Array.isArray(docs) ? docs : [];
  for (const [i, doc] of list.entries()) {
    if (doc.errors.length > 0) continue;
    const where = list.length > 1 ? `document ${i + 1} is` : 'it is';
    let value: unknown;
    try {
      value = doc.toJS({maxAliasCount: 100});
    } catch {
      continue;
    }
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) return `${where} a list, not a mapping of values`;
    if (!isRecord(value)) return `${where} ${typeof value === 'string' ? 'plain text' : `a single ${typeof value}`}, not a mapping of values`;
    const keys = Object.keys(value);
    const settings = keys.filter((k) => /^[A-Z][A-Za-z]*Settings$/.test(k));
    if (settings.length > 0)
      return `${where} Mattermost's configuration (${settings.slice(0, 2).join(', ')}${settings.length > 2 ? ', …' : ''}), which goes to --mattermost-config`;
    if (typeof value.kind === 'string' && value.kind !== 'ServiceEntry' && value.kind !== 'List') {
      return `${where} a Kubernetes ${printable(value.kind, 63)} manifest, not values or a ServiceEntry`;
    }
  }
  return null;
}

function readDocuments(text: string, report: ValuesReport, levels: Level[]): void {
  let docs;
  try {
    docs = parseAllDocuments(text, {prettyErrors: false, uniqueKeys: true});
  } catch (err) {
    report.errors.push(`the values could not be parsed as YAML: ${oneLine(err)}`);
    return;
  }
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, i) => {
    const where = list.length > 1 ? ` (document ${i + 1})` : '';
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const at = ` at ${lineAndColumn(text, e.pos[0])}`;
        report.errors.push(`YAML error${where}${at}: ${oneLine(e.message.split('\n')[0])}`);
      }
      return;
    }
    let value: unknown;
    try {
      // Anchors and aliases are limited so that a small file cannot expand into a huge one.
      value = doc.toJS({maxAliasCount: 100});
    } catch (err) {
      report.errors.push(`YAML error${where}: ${oneLine(err)}`);
      return;
    }
    readValue(value, where, report, levels);
  });
}

function readValue(value: unknown, where: string, report: ValuesReport, levels: Level[]): void {
  if (value === null || value === undefined) {
    return;
  }
  if (!isRecord(value)) {
    report.errors.push(`the document${where} is not a mapping of values or a ServiceEntry`);
    return;
  }
  if (value.kind === 'List' && Array.isArray(value.items)) {
    value.items.forEach((item, i) => readValue(item, `${where} item ${i + 1}`, report, levels));
    return;
  }
  if (value.kind === 'ServiceEntry') {
    const metadata = isRecord(value.metadata) ? value.metadata : {};
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    if (name !== '') {
      report.routeNames.push(name);
    }
    collectSpec(value.spec, `ServiceEntry ${name === '' ? '(unnamed)' : nameText(name)}`, report);
    return;
  }
  const addons = isRecord(value.addons) ? value.addons : undefined;
  const mattermost = addons !== undefined && isRecord(addons.mattermost) ? addons.mattermost : undefined;
  if (mattermost !== undefined && isRecord(mattermost.values)) {
    const level = {prefix: 'addons.mattermost.values.', values: mattermost.values};
    levels.push(level);
    collectLevel(level, report);
  }
  // The same file may also be package-level values; keys that do not exist there cost nothing.
  const level = {prefix: '', values: value};
  levels.push(level);
  collectLevel(level, report);
}

function collectLevel(level: Level, report: ValuesReport): void {
  const {prefix, values} = level;
  const routes = dig(values, ['routes', 'outbound']);
  if (isRecord(routes)) {
    for (const [name, route] of Object.entries(routes)) {
      report.routeNames.push(name, `${name}-external`, `${name}-internal`);
      if (Object.prototype.hasOwnProperty.call(DEFAULT_ROUTES, name)) {
        continue; // merged with the chart's defaults in addChartDefaults
      }
      if (!isRecord(route)) {
        report.warnings.push(`${prefix}routes.outbound.${nameText(name)} is not a mapping`);
        continue;
      }
      if (route.enabled === false) {
        continue;
      }
      collectRoute(route, `${prefix}routes.outbound.${nameText(name)}`, report);
    }
  }
  const custom = dig(values, ['istio', 'serviceEntries', 'custom']);
  collectEntryList(custom, `${prefix}istio.serviceEntries.custom`, report);
  const legacy = dig(values, ['istio', 'hardened', 'customServiceEntries']);
  collectEntryList(legacy, `${prefix}istio.hardened.customServiceEntries`, report);
}

function collectEntryList(list: unknown, path: string, report: ValuesReport): void {
  if (list === undefined || list === null) {
    return;
  }
  if (!Array.isArray(list)) {
    report.warnings.push(`${path} is not a list`);
    return;
  }
  list.forEach((item, i) => {
    if (!isRecord(item)) {
      report.warnings.push(`${path}[${i}] is not a mapping`);
      return;
    }
    const name = typeof item.name === 'string' ? item.name : '';
    if (name !== '') {
      report.routeNames.push(name);
    }
    if (item.enabled === false) {
      return;
    }
    collectSpec(item.spec, `${path}[${name === '' ? i : nameText(name)}]`, report);
  });
}

function collectRoute(route: Record<string, unknown>, source: string, report: ValuesReport): void {
  const ports = Array.isArray(route.ports) && route.ports.length > 0 ? readPorts(route.ports, source, report) : [ROUTE_DEFAULT_PORT];
  addHosts(route.hosts, ports, [], source, report);
}

function collectSpec(spec: unknown, source: string, report: ValuesReport): void {
  if (!isRecord(spec)) {
    report.warnings.push(`${source} has no spec`);
    return;
  }
  const ports = Array.isArray(spec.ports) ? readPorts(spec.ports, source, report) : [];
  if (ports.length === 0) {
    report.warnings.push(`${source} lists no ports, so it allows nothing`);
    return;
  }
  const addresses = Array.isArray(spec.addresses) ? spec.addresses.filter((a): a is string => typeof a === 'string') : [];
  addHosts(spec.hosts, ports, addresses, source, report);
}

function readPorts(list: unknown[], source: string, report: ValuesReport): {number: number; protocol: string | null}[] {
  const ports: {number: number; protocol: string | null}[] = [];
  for (const p of list) {
    const raw = isRecord(p) ? p.number : undefined;
    const number = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]{1,5}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(number) || number < 1 || number > 65535) {
      report.warnings.push(`${source} has a port whose number cannot be read (${printable(String(raw), 40)})`);
      continue;
    }
    const protocol = isRecord(p) && typeof p.protocol === 'string' ? p.protocol.toUpperCase() : null;
    ports.push({number, protocol});
  }
  return ports;
}

function addHosts(
  hosts: unknown,
  ports: readonly {number: number; protocol: string | null}[],
  addresses: string[],
  source: string,
  report: ValuesReport,
): void {
  if (!Array.isArray(hosts)) {
    report.warnings.push(`${source} lists no hosts`);
    return;
  }
  for (const h of hosts) {
    if (typeof h === 'string' && h.includes('{{')) {
      report.warnings.push(`${source} has a templated host (${printable(h, 80)}) that is not evaluated here`);
      continue;
    }
    const check = checkHost(h);
    if (!check.ok) {
      report.warnings.push(`${source} has a host that is not a valid host name (${check.rejected.printable}): ${check.rejected.reason}`);
      continue;
    }
    for (const port of ports) {
      report.allowed.push({host: check.host, port: port.number, protocol: port.protocol, addresses, source});
    }
  }
}

/**
 * The package's default routes apply unless the values switch them off; values that set `hosts` or `ports` of
 * a default route replace the default list (Helm merges maps but replaces lists).
 */
function addChartDefaults(levels: readonly Level[], report: ValuesReport): void {
  for (const [name, defaults] of Object.entries(DEFAULT_ROUTES)) {
    report.routeNames.push(name, `${name}-external`);
    let enabled = defaults.enabled;
    let hosts: unknown = defaults.hosts;
    let ports: unknown = defaults.ports;
    let source = `routes.outbound.${name} (package default)`;
    for (const level of levels) {
      const route = dig(level.values, ['routes', 'outbound', name]);
      if (!isRecord(route)) {
        continue;
      }
      if (typeof route.enabled === 'boolean') {
        enabled = route.enabled;
      }
      if (route.hosts !== undefined) {
        hosts = route.hosts;
      }
      if (route.ports !== undefined) {
        ports = route.ports;
      }
      source = `${level.prefix}routes.outbound.${name}`;
    }
    if (!enabled) {
      continue;
    }
    const portList = Array.isArray(ports) && ports.length > 0 ? readPorts(ports, source, report) : [ROUTE_DEFAULT_PORT];
    addHosts(hosts, portList, [], source, report);
  }
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split('\n').length;
  return `line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
}

function dig(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) {
    if (!isRecord(v)) {
      return undefined;
    }
    v = v[key];
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return commentText(message.split('\n')[0], 200);
}

/** Names as written when they are plain DNS labels (the usual case), escaped otherwise. */
function nameText(name: string): string {
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) && name.length <= 63 ? name : printable(name, 63);
}
