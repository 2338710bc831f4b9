// `egress-advisor scan`: the engine over files or stdin, with the Mattermost context that names hosts.
import {statSync} from 'node:fs';
import type {IntegrationItem} from '../../common/api';
import type {Finding, SuggestionFormat, Verdict} from '../../common/types';
import type {AppLogEvent, InventoryEndpoint} from '../engine/types';
import {buildDnsIndex} from '../engine/attribute';
import {AccessStream, AppLogReader, RefusalTally, nameDestinations, type RefusalCount} from '../engine/pipeline';
import {parseHostsFile, tableResolver} from '../engine/hostsfile';
import {assessIntegrations} from '../engine/integrations';
import {buildInventory} from '../engine/inventory';
import {systemResolver} from '../engine/resolver';
import {suggestPatch, type PatchInput} from '../engine/patch';
import {allowedByValues, type SuggestResult} from '../engine/suggest';
import {notValuesFile, VALUES_FILE_EXPECTED} from '../engine/suggest/values';
import {InputError, UsageError, describeInput, readChunks, readText} from './input';
import {PARALLEL_MIN_BYTES, canUseThreads, defaultThreads, scanFileInParts} from './parallel';
import {Progress} from './progress';
import {renderText} from './render-text';
import {stringify} from 'yaml';

export interface ScanCliOptions {
  output: 'text' | 'json' | 'yaml';
  format: SuggestionFormat;
  values?: string;
  mattermostConfig?: string;
  webhooks?: string;
  commands?: string;
  appLog: string[];
  resolve: string[];
  hosts?: string;
  dns: boolean;
  exhaustive: boolean;
  namespace?: string;
  exitCode: boolean;
  /** Threads for large files; undefined: as many as useful for files over PARALLEL_MIN_BYTES. */
  threads?: number;
}

export interface ScanReport {
  summary: {
    inputs: string[];
    lines: number;
    bytes: number;
    seconds: number;
    verdicts: {blocked: number; passthrough: number; 'external-failed': number};
    destinationsOverflow: number;
    truncatedLines: number;
    layouts: Record<string, number>;
    exhaustive: boolean;
  };
  inventory: {endpoints: number; warnings: string[]};
  findings: Finding[];
  /**
   * The one patch (engine/patch.ts): the switched-on configured integrations that are or will be blocked,
   * then the findings, each host once, under headed sections; the same YAML the page and `/egress snippet all` give.
   */
  suggestion: SuggestResult;
  /** With --mattermost-config: every integration it names, held against what --values allows ('unknown' without it). */
  integrations: {items: IntegrationItem[]} | null;
  /** With --app-log: calls Mattermost refused itself (AllowedUntrustedInternalConnections), once per URL. */
  mattermostRefusals: RefusalCount[];
}

export interface CliIo {
  /** A terminal's width (isTTY, columns) lays out --help. */
  stdout: NodeJS.WritableStream & {isTTY?: boolean; columns?: number};
  stderr: NodeJS.WritableStream & {isTTY?: boolean};
}

/** `--resolve host:ip[,ip…]`, as curl spells it, for clusters whose DNS the workstation cannot see. */
export function parseResolve(entries: string[]): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const e of entries) {
    const at = e.indexOf(':');
    if (at <= 0) throw new InputError(`--resolve ${e}: expected host:address[,address…]`);
    const host = e.slice(0, at).toLowerCase();
    const ips = e
      .slice(at + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    table.set(host, [...(table.get(host) ?? []), ...ips]);
  }
  return table;
}

async function loadInventory(opts: ScanCliOptions): Promise<{endpoints: InventoryEndpoint[]; warnings: string[]}> {
  if (opts.mattermostConfig === undefined) return {endpoints: [], warnings: []};
  const parseJson = async (path: string, what: string): Promise<unknown> => {
    const text = await readText(path);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new InputError(`${path} is not valid JSON (${what}): ${(err as Error).message}`);
    }
  };
  const config = await parseJson(opts.mattermostConfig, 'a Mattermost configuration');
  const outgoingWebhooks = opts.webhooks ? await parseJson(opts.webhooks, 'GET /api/v4/hooks/outgoing') : undefined;
  const commands = opts.commands ? await parseJson(opts.commands, 'GET /api/v4/commands') : undefined;
  return buildInventory(config, {
    outgoingWebhooks: Array.isArray(outgoingWebhooks) ? outgoingWebhooks : undefined,
    commands: Array.isArray(commands) ? commands : undefined,
  });
}

async function loadAppEvents(paths: string[]): Promise<{events: AppLogEvent[]; refusals: RefusalCount[]}> {
  const events: AppLogEvent[] = [];
  const refusals = new RefusalTally();
  for (const p of paths) {
    const reader = new AppLogReader({event: (e) => events.push(e), refusal: (r) => refusals.add(r)});
    for await (const chunk of readChunks(p)) reader.push(chunk);
    reader.end();
  }
  return {events, refusals: refusals.list()};
}

function threadsFor(input: string, requested: number | undefined): number {
  if (input === '-' || !canUseThreads()) return 1;
  if (requested !== undefined) return Math.max(1, requested);
  let size: number;
  try {
    size = statSync(input).size;
  } catch {
    return 1; // readChunks says what is wrong with the file
  }
  return size >= PARALLEL_MIN_BYTES ? defaultThreads() : 1;
}

/**
 * The integrations the configuration names that the values do not let out. The traffic says which mode the
 * mesh runs: blocked lines mean REGISTRY_ONLY, passthrough lines alone mean ALLOW_ANY (the rehearsal).
 */
function assessConfigured(
  inventory: readonly InventoryEndpoint[],
  findings: readonly Finding[],
  values: string | undefined,
  counts: Record<Verdict, number>,
): NonNullable<PatchInput['integrations']> {
  const mode = counts.blocked > 0 ? 'REGISTRY_ONLY' : counts.passthrough > 0 ? 'ALLOW_ANY' : 'unknown';
  const items = assessIntegrations({inventory, mesh: null, values: values === undefined ? null : allowedByValues(values).allowed, findings});
  return {items, mode};
}

export async function runScan(files: string[], opts: ScanCliOptions, io: CliIo): Promise<{report: ScanReport; code: number}> {
  const inputs = files.length === 0 ? ['-'] : files;
  const started = process.hrtime.bigint();
  const [inventory, appLog] = await Promise.all([loadInventory(opts), loadAppEvents(opts.appLog)]);
  const appEvents = appLog.events;
  const values = opts.values !== undefined ? await readText(opts.values) : undefined;
  const notValues = values === undefined ? null : notValuesFile(values);
  if (notValues !== null) throw new UsageError(`--values ${opts.values}: ${notValues}. Expected ${VALUES_FILE_EXPECTED}.`);

  const table = opts.hosts !== undefined ? parseHostsFile(await readText(opts.hosts)) : new Map<string, string[]>();
  for (const [host, ips] of parseResolve(opts.resolve)) table.set(host, [...(table.get(host) ?? []), ...ips]);
  const resolver = tableResolver(table, opts.dns ? systemResolver : null);
  // Only host names from the Mattermost configuration are resolved; nothing read from a log is ever contacted.
  const dnsPromise = buildDnsIndex(inventory.endpoints, resolver);

  const stream = new AccessStream({exhaustive: opts.exhaustive});
  const scan = stream.scan;
  // What threads scanned, added to what the main thread read itself.
  const parted = {lines: 0, bytes: 0, truncated: 0, exhaustive: false};
  const progress = new Progress(io.stderr, () => ({
    bytes: scan.bytes + parted.bytes,
    lines: scan.lines + parted.lines,
    blocked: scan.folder.verdictCounts.blocked,
  }));
  try {
    for (const input of inputs) {
      progress.input(describeInput(input));
      const threads = threadsFor(input, opts.threads);
      if (threads > 1) {
        const parts = await scanFileInParts(input, threads, opts.exhaustive);
        for (const r of parts) {
          scan.folder.absorb(r, true);
          for (const [layout, n] of r.layouts) scan.layouts.set(layout, (scan.layouts.get(layout) ?? 0) + n);
          parted.lines += r.lines;
          parted.bytes += r.bytes;
          parted.truncated += r.truncated;
          parted.exhaustive ||= r.exhaustive;
        }
        continue;
      }
      for await (const chunk of readChunks(input)) stream.push(chunk);
      stream.end();
    }
  } finally {
    progress.stop();
  }
  const dnsIndex = await dnsPromise;
  const counts = {...scan.folder.verdictCounts};
  const overflow = scan.folder.overflow;
  const findings = nameDestinations(stream.take().stats, {dnsIndex, appEvents, inventory: inventory.endpoints});
  const configured = opts.mattermostConfig === undefined ? null : assessConfigured(inventory.endpoints, findings, values, counts);
  const suggestion = suggestPatch({findings, integrations: configured}, {format: opts.format, values, namespace: opts.namespace});
  const report: ScanReport = {
    summary: {
      inputs: inputs.map(describeInput),
      lines: scan.lines + parted.lines,
      bytes: scan.bytes + parted.bytes,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      verdicts: {blocked: counts.blocked, passthrough: counts.passthrough, 'external-failed': counts['external-failed']},
      destinationsOverflow: overflow,
      truncatedLines: scan.truncated + parted.truncated,
      layouts: Object.fromEntries(scan.layouts),
      exhaustive: scan.exhaustive || parted.exhaustive,
    },
    inventory: {endpoints: inventory.endpoints.length, warnings: inventory.warnings},
    findings,
    suggestion,
    integrations: configured === null ? null : {items: [...configured.items]},
    mattermostRefusals: appLog.refusals,
  };

  if (opts.output === 'json') io.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else if (opts.output === 'yaml') io.stdout.write(suggestion.yaml === '' ? stringify({}) : suggestion.yaml);
  else io.stdout.write(renderText(report));

  const needsAction = findings.some((f) => f.verdict === 'blocked' || f.verdict === 'external-failed');
  return {report, code: opts.exitCode && needsAction ? 1 : 0};
}
