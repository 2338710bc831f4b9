/*
 * Helpers of the bridge's integration suite: istio-proxy log lines in Istio's default TEXT format, a
 * bridge run in this process on a temporary data folder and log file, waiting on conditions, and
 * reading the admin channel back through Mattermost's API.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

import type {Client4} from '@mattermost/client';
import type {Post} from '@mattermost/types/posts';
import pino from 'pino';

import {ALERT_POST_TYPE} from '../../common/alert';
import {loadConfig} from '../../server/bridge/config';
import {startBridge, type Bridge, type StartOptions} from '../../server/bridge/service';
import {createBridgeLogger} from '../../server/http';
import {terminate} from '../support/process';

// ---------------------------------------------------------------------------------------------
// Waiting

/**
 * Polls `probe` until it returns something other than undefined, null or false, and returns that.
 * On timeout it throws with `what`, the last value or error seen, and `context()` if given.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: {timeoutMs?: number; intervalMs?: number; context?: () => string} = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? `last error: ${last.message}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what} (${seen})${opts.context ? `\n${opts.context()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---------------------------------------------------------------------------------------------
// istio-proxy access-log lines (Istio 1.2x default TEXT format, as `kubectl logs --prefix` shows them)

export const PODS = ['mattermost-6c8f9d7b54-2xq8k', 'mattermost-6c8f9d7b54-p7wzn'] as const;
const POD_IPS: Record<string, string> = {[PODS[0]]: '10.42.1.23', [PODS[1]]: '10.42.2.17'};

let sourcePort = 40_000;
function nextSourcePort(): number {
  sourcePort = sourcePort >= 60_999 ? 40_000 : sourcePort + 1;
  return sourcePort;
}

export interface LineOptions {
  pod?: string;
  at?: Date;
}

function prefix(opts: LineOptions): {pod: string; head: string; podIp: string} {
  const pod = opts.pod ?? PODS[0];
  const at = (opts.at ?? new Date()).toISOString();
  return {pod, podIp: POD_IPS[pod] ?? '10.42.9.9', head: `[pod/${pod}/istio-proxy] [${at}]`};
}

/** A TLS (or other TCP) connection REGISTRY_ONLY sent to BlackHoleCluster; `sni` '-' when the client sent none. */
export function blockedTls(ip: string, port: number, sni: string, opts: LineOptions = {}): string {
  const {head, podIp} = prefix(opts);
  return `${head} "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - ${ip}:${port} ${podIp}:${nextSourcePort()} ${sni} -`;
}

/** A TCP connection ALLOW_ANY let out unregistered (PassthroughCluster), as Envoy logs one without a server name. */
export function passthroughTcp(ip: string, port: number, opts: LineOptions = {}): string {
  const {head, podIp} = prefix(opts);
  const src = nextSourcePort();
  return `${head} "- - -" 0 - - - "-" 785 4676 116 - "-" "-" "-" "-" "${ip}:${port}" PassthroughCluster ${podIp}:${src} ${ip}:${port} ${podIp}:${src} - -`;
}

/** A plain-HTTP request REGISTRY_ONLY answered with 502 from the block_all route. */
export function blockedHttp(ip: string, authority: string, opts: LineOptions & {path?: string} = {}): string {
  const {head, podIp} = prefix(opts);
  const requestId = `3f0c2a64-0d55-4c1e-9a2b-${String(nextSourcePort()).padStart(12, '0')}`;
  return `${head} "POST ${opts.path ?? '/'} HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "Go-http-client/1.1" "${requestId}" "${authority}" "-" - - ${ip}:80 ${podIp}:${nextSourcePort()} - block_all`;
}

/** An ordinary inbound request: not egress at all, must make no finding. */
export function inboundOk(opts: LineOptions = {}): string {
  const {head, podIp} = prefix(opts);
  return `${head} "GET /api/v4/system/ping?get_server_status=true HTTP/1.1" 200 - via_upstream - "-" 0 643 2 2 "10.10.7.23" "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0" "cbc34c7f-8855-441b-85ad-e245a51dba48" "chat.example.mil" "${podIp}:8065" inbound|8065|| 127.0.0.6:42445 ${podIp}:8065 10.42.3.12:${nextSourcePort()} outbound_.8065_._.mattermost.mattermost.svc.cluster.local default`;
}

// ---------------------------------------------------------------------------------------------
// The bridge, in this process

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface BridgeRunnerOptions {
  mattermostUrl: string;
  token: string;
  team: string;
  digestSeconds: number;
  updateSeconds: number;
  /** Shorter link checks and inventory refreshes than in production, so that a test can wait for them. */
  start?: Omit<StartOptions, 'stdin'>;
  /** More settings (EGRESS_ADVISOR_* variables); they win over the runner's own. */
  env?: Record<string, string>;
}

/**
 * One bridge installation: a data folder, an istio-proxy log file and a port, kept across stops and
 * starts like a pod's volume, so that a restart is the same installation coming back.
 */
export class BridgeRunner {
  readonly dir: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** The bridge's own (pino) log, all runs appended. */
  readonly bridgeLogFile: string;
  readonly port: number;
  bridge: Bridge | null = null;

  private constructor(
    readonly opts: BridgeRunnerOptions,
    port: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'egress-bridge-'));
    this.dataDir = join(this.dir, 'data');
    this.logFile = join(this.dir, 'istio-proxy.log');
    this.bridgeLogFile = join(this.dir, 'bridge.log');
    writeFileSync(this.logFile, '');
    writeFileSync(this.bridgeLogFile, '');
    this.port = port;
  }

  static async create(opts: BridgeRunnerOptions): Promise<BridgeRunner> {
    return new BridgeRunner(opts, await freePort());
  }

  get publicUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  env(): Record<string, string> {
    return {
      EGRESS_ADVISOR_DATA_DIR: this.dataDir,
      EGRESS_ADVISOR_SOURCES: `file:${this.logFile}`,
      MATTERMOST_URL: this.opts.mattermostUrl,
      MATTERMOST_TOKEN: this.opts.token,
      EGRESS_ADVISOR_TEAM: this.opts.team,
      EGRESS_ADVISOR_LISTEN: `127.0.0.1:${this.port}`,
      EGRESS_ADVISOR_PUBLIC_URL: this.publicUrl,
      EGRESS_ADVISOR_DIGEST_SECONDS: String(this.opts.digestSeconds),
      EGRESS_ADVISOR_UPDATE_SECONDS: String(this.opts.updateSeconds),
      LOG_LEVEL: 'debug',
      ...this.opts.env,
    };
  }

  async start(): Promise<Bridge> {
    if (this.bridge) throw new Error('the bridge is already running');
    const config = loadConfig(this.env());
    const logger = createBridgeLogger({level: config.logLevel, destination: pino.destination({dest: this.bridgeLogFile, sync: true, append: true})});
    this.bridge = await startBridge(config, logger, this.opts.start);
    return this.bridge;
  }

  async stop(): Promise<void> {
    const b = this.bridge;
    this.bridge = null;
    await b?.stop();
  }

  get running(): Bridge {
    if (!this.bridge) throw new Error('the bridge is not running');
    return this.bridge;
  }

  /** Appends lines in one write, as a container runtime flushes a burst. */
  append(lines: readonly string[]): void {
    appendFileSync(this.logFile, lines.map((l) => `${l}\n`).join(''));
  }

  bridgeLog(): string {
    return readFileSync(this.bridgeLogFile, 'utf8');
  }

  bridgeLogTail(lines = 30): string {
    return `Last lines of the bridge log (${this.bridgeLogFile}):\n${this.bridgeLog().trimEnd().split('\n').slice(-lines).join('\n')}`;
  }

  /** How often a message appears in the bridge log. */
  logCount(message: string): number {
    let n = 0;
    for (const line of this.bridgeLog().split('\n')) {
      if (line === '') continue;
      try {
        if ((JSON.parse(line) as {msg?: string}).msg === message) n++;
      } catch {
        // a line cut by a crash: not ours to judge here
      }
    }
    return n;
  }

  cleanup(): void {
    if (process.env.EGRESS_ADVISOR_KEEP_BRIDGE === '1') return;
    rmSync(this.dir, {recursive: true, force: true});
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the admin channel back

/** Every post of a channel (thread replies included), oldest first. */
export async function channelPosts(client: Client4, channelId: string): Promise<Post[]> {
  const out: Post[] = [];
  for (let page = 0; page < 20; page++) {
    const list = await client.getPosts(channelId, page, 200);
    const posts = list.order.map((id) => list.posts[id]).filter((p): p is Post => Boolean(p));
    out.push(...posts);
    if (posts.length < 200) break;
  }
  return out.filter((p) => !p.delete_at).sort((a, b) => a.create_at - b.create_at || a.id.localeCompare(b.id));
}

/** Top-level alert posts of the bridge. */
export function alertPosts(posts: readonly Post[]): Post[] {
  return posts.filter((p) => (p.type as string) === ALERT_POST_TYPE && !p.root_id);
}

export function repliesTo(posts: readonly Post[], rootId: string): Post[] {
  return posts.filter((p) => p.root_id === rootId);
}

/**
 * A post's Markdown with code blocks and code spans taken out: what is left is what Mattermost
 * renders as links, mentions and formatting (it ignores mentions inside code, as does the web app).
 */
export function outsideCode(markdown: string): string {
  const withoutBlocks = markdown.replace(/^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?\n {0,3}\1[ \t]*(?:\n|$)/gm, '\n');
  // A code span: a run of N backticks, then anything up to the next run of exactly N backticks.
  return withoutBlocks.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, ' ');
}

// ---------------------------------------------------------------------------------------------
// The compiled bridge against a real Kubernetes API server (test/kubernetes/harness.ts)

export interface CompiledBridge {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything the process wrote (its pino log on stdout, anything on stderr). */
  output(): string;
  /** A sample of /metrics: `name` with its labels as printed, e.g. `egress_advisor_lines_total{verdict="blocked"}`. */
  metric(name: string): Promise<number | null>;
  /** SIGTERM, and waits for the exit; nothing when it already ended. */
  stop(): Promise<void>;
}

/** How long a compiled bridge may take to exit after SIGTERM: its stop is prompt, so this is a failure, not a wait. */
const STOP_GRACE_MS = 20_000;

/**
 * The compiled service (`egress-advisor serve`) in its own process, as the chart runs it, following the
 * Mattermost pods of `namespace` through `kubeconfig`. client-node is ESM-only, which jest cannot load in
 * this process; the compiled service loads it as Node does.
 */
export async function spawnCompiledBridge(kubeconfig: string, namespace: string, env: Record<string, string>): Promise<CompiledBridge> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, ['-r', join(__dirname, 'report-open-handles.js'), join(__dirname, '..', '..', 'bin', 'egress-advisor.js'), 'serve'], {
    env: {
      ...process.env,
      KUBECONFIG: kubeconfig,
      EGRESS_ADVISOR_SOURCES: `kubernetes:${namespace}?selector=app=mattermost`,
      EGRESS_ADVISOR_LISTEN: `127.0.0.1:${port}`,
      EGRESS_ADVISOR_PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return {
    child,
    port,
    output: () => output,
    async metric(name: string): Promise<number | null> {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line ? Number(line.split(' ').pop()) : null;
    },
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await terminate(child, exited, STOP_GRACE_MS);
      // A bridge that does not end on SIGTERM leaves something open (report-open-handles.js names it).
      if (child.signalCode === 'SIGKILL') {
        throw new Error(
          `the bridge did not exit within ${STOP_GRACE_MS / 1000} s of SIGTERM and was killed:\n${output.trimEnd().split('\n').slice(-15).join('\n')}`,
        );
      }
    },
  };
}
