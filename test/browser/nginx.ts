/*
 * nginx in front of Mattermost, the way the production ingress routes the plugin's traffic: the
 * bridge's prefix to the bridge, everything else (the REST API, the plugin bundles under /static)
 * to Mattermost. Each instance has its own folder with its configuration, pid file, logs and
 * temporary files, runs in the foreground as a child of the test process, and is stopped by its pid.
 *
 * Besides the proxying it serves the harness page at `/` and its scripts under `/__harness/`
 * (see harness.ts), with the Content-Security-Policy Mattermost sends with its own pages.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {terminate} from '../support/process';

/** The prefix the ingress routes to the bridge (DESIGN.md, "Webapp → bridge: same origin"). */
export const BRIDGE_PREFIX = '/plugins/egress-advisor/api/';

/** What Mattermost sends with its pages (server/channels/web/handlers.go, FrameAncestors empty). */
export const MATTERMOST_PAGE_CSP = "frame-ancestors 'self' ; script-src 'self'";

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export interface NginxOptions {
  /** Port on 127.0.0.1; choose it with freePort() before Mattermost starts, as its Site URL names it. */
  port: number;
  /** Mattermost, e.g. http://127.0.0.1:8065. */
  mattermostUrl: string;
  /** The bridge, e.g. http://127.0.0.1:8080; null leaves the bridge's route out (a forgotten ingress rule). */
  bridgeUrl: string | null;
  /** Folder with index.html and __harness/, served at / and /__harness/. */
  webRoot: string;
  /** Exact paths answered with a file instead of being proxied (a bridge-shaped answer for benches). */
  staticJson?: Record<string, string>;
  /** Label for the folder name and messages. */
  name?: string;
}

let nginxBinary: string | undefined;

/** The nginx executable; throws (never skips) when it is not installed. */
export function findNginx(): string {
  if (nginxBinary) return nginxBinary;
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx']) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      nginxBinary = candidate;
      return candidate;
    } catch {
      // next
    }
  }
  const which = spawnSync('sh', ['-c', 'command -v nginx'], {encoding: 'utf8'});
  const found = which.stdout.trim();
  if (which.status === 0 && found) {
    nginxBinary = found;
    return found;
  }
  throw new Error('Browser suite: nginx is not installed. Install it with: apt-get install -y nginx-light');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({host: '127.0.0.1', port: 0}, () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

function upstream(url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'http:' || u.pathname.replace(/\/+$/, '') !== '') throw new Error(`nginx upstream must be a plain http://host:port, not ${url}`);
  return u.host;
}

/** The proxy headers an ingress sets; Mattermost reads X-Forwarded-Proto to decide on Secure cookies. */
const FORWARDED = [
  'proxy_set_header Host $http_host;',
  'proxy_set_header X-Real-IP $remote_addr;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
];

export function renderConfig(dir: string, opts: NginxOptions): string {
  const q = (p: string): string => `"${p.replace(/["\\]/g, '\\$&')}"`;
  const tmp = path.join(dir, 'tmp');
  const lines: string[] = [
    '# Written by test/browser/nginx.ts for one test run.',
    'daemon off;',
    // One process, a child of the test: stopping it by its pid leaves no orphaned worker behind.
    'master_process off;',
    `pid ${q(path.join(dir, 'nginx.pid'))};`,
    `error_log ${q(path.join(dir, 'error.log'))} info;`,
    // As root nginx would serve as "nobody", who cannot read the run folder (mode 0700).
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'events { worker_connections 512; }',
    'http {',
    `  access_log ${q(path.join(dir, 'access.log'))};`,
    `  client_body_temp_path ${q(path.join(tmp, 'body'))};`,
    `  proxy_temp_path ${q(path.join(tmp, 'proxy'))};`,
    `  fastcgi_temp_path ${q(path.join(tmp, 'fastcgi'))};`,
    `  uwsgi_temp_path ${q(path.join(tmp, 'uwsgi'))};`,
    `  scgi_temp_path ${q(path.join(tmp, 'scgi'))};`,
    '  types { text/html html; text/css css; application/javascript js; application/json json; image/png png; image/svg+xml svg; }',
    '  default_type application/octet-stream;',
    '  sendfile on;',
    '  client_max_body_size 50m;',
    '  map $http_upgrade $connection_upgrade { default upgrade; "" close; }',
    '  server {',
    `    listen 127.0.0.1:${opts.port};`,
    '    server_name _;',
    '',
    '    # The harness page, with the policy Mattermost serves its own pages with: scripts from this origin only.',
    '    location = / {',
    `      root ${q(opts.webRoot)};`,
    '      try_files /index.html =404;',
    `      add_header Content-Security-Policy ${q(MATTERMOST_PAGE_CSP)} always;`,
    '      add_header X-Frame-Options SAMEORIGIN always;',
    '      add_header Cache-Control no-store always;',
    '    }',
    '    location /__harness/ {',
    `      alias ${q(path.join(opts.webRoot, '__harness') + '/')};`,
    '      add_header Cache-Control no-store always;',
    '    }',
  ];
  for (const [exact, file] of Object.entries(opts.staticJson ?? {})) {
    lines.push(
      `    location = ${exact} {`,
      `      alias ${q(file)};`,
      '      default_type application/json;',
      '      add_header Cache-Control no-store always;',
      '    }',
    );
  }
  if (opts.bridgeUrl !== null) {
    lines.push(
      '',
      '    # The route the bridge\'s Helm chart renders as a VirtualService match; here as an nginx location.',
      `    location ${BRIDGE_PREFIX} {`,
      `      proxy_pass http://${upstream(opts.bridgeUrl)};`,
      ...FORWARDED.map((l) => `      ${l}`),
      '      # Live updates are a server-sent event stream: no buffering, long reads.',
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_buffering off;',
      '      proxy_read_timeout 1h;',
      '    }',
    );
  }
  lines.push(
    '',
    '    # Everything else is Mattermost: /api/v4/, /static/plugins/ (the plugin bundles), the WebSocket.',
    '    location / {',
    `      proxy_pass http://${upstream(opts.mattermostUrl)};`,
    ...FORWARDED.map((l) => `      ${l}`),
    '      proxy_http_version 1.1;',
    '      proxy_set_header Upgrade $http_upgrade;',
    '      proxy_set_header Connection $connection_upgrade;',
    '      proxy_read_timeout 600s;',
    '    }',
    '  }',
    '}',
    '',
  );
  return lines.join('\n');
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
  } catch {
    return '(missing)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const running = new Set<NginxServer>();
let exitHook = false;

export class NginxServer {
  readonly url: string;
  readonly configPath: string;
  readonly errorLog: string;
  readonly accessLog: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly opts: NginxOptions,
  ) {
    this.url = `http://127.0.0.1:${opts.port}`;
    this.configPath = path.join(dir, 'nginx.conf');
    this.errorLog = path.join(dir, 'error.log');
    this.accessLog = path.join(dir, 'access.log');
  }

  /** Writes the configuration, checks it with `nginx -t`, starts nginx and waits until it answers. */
  static async start(opts: NginxOptions): Promise<NginxServer> {
    const bin = findNginx();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `egress-nginx-${opts.name ?? 'ingress'}-`));
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, 'tmp', sub), {recursive: true});
    const server = new NginxServer(dir, opts);
    fs.writeFileSync(server.configPath, renderConfig(dir, opts));
    const check = spawnSync(bin, ['-t', '-q', '-e', server.errorLog, '-p', dir, '-c', server.configPath], {encoding: 'utf8'});
    if (check.status !== 0) {
      throw new Error(`nginx refused its configuration ${server.configPath}:\n${check.stderr}${tail(server.errorLog)}`);
    }
    await server.spawn(bin);
    return server;
  }

  private async spawn(bin: string): Promise<void> {
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const s of running) s.killNow();
      });
    }
    const out = fs.openSync(path.join(this.dir, 'stdout.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(bin, ['-e', this.errorLog, '-p', this.dir, '-c', this.configPath], {stdio: ['ignore', out, out]});
    } finally {
      fs.closeSync(out);
    }
    this.child = child;
    running.add(this);
    let spawnError: Error | null = null;
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        spawnError = err;
        resolve();
      });
      child.once('exit', () => resolve());
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (spawnError !== null || child.exitCode !== null || child.signalCode !== null) {
        running.delete(this);
        const why = spawnError !== null ? (spawnError as Error).message : `exited with ${child.exitCode ?? child.signalCode}`;
        throw new Error(`nginx ${why} before it answered on ${this.url}.\n${this.errorLog}:\n${tail(this.errorLog)}`);
      }
      try {
        const res = await fetch(`${this.url}/__harness/`, {signal: AbortSignal.timeout(1_000)});
        await res.body?.cancel();
        return;
      } catch {
        await sleep(100);
      }
    }
    await this.stop();
    throw new Error(`nginx did not answer on ${this.url} within ${START_TIMEOUT_MS / 1000} s.\n${tail(this.errorLog)}`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  errorLogTail(lines = 30): string {
    return `Last lines of ${this.errorLog}:\n${tail(this.errorLog, lines)}`;
  }

  accessLogText(): string {
    try {
      return fs.readFileSync(this.accessLog, 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops this nginx (TERM by pid; KILL if it lingers) and removes its folder. */
  async stop(keepDir = process.env.EGRESS_ADVISOR_KEEP_NGINX === '1'): Promise<void> {
    const child = this.child;
    this.child = null;
    running.delete(this);
    if (child) await terminate(child, this.exited, STOP_TIMEOUT_MS);
    if (!keepDir) fs.rmSync(this.dir, {recursive: true, force: true});
  }

  killNow(): void {
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // gone
    }
  }
}
