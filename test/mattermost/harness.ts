/*
 * Runs a real Mattermost server (built by build.sh from its Go module) against the machine's
 * PostgreSQL, for the integration suites. See README.md in this folder.
 *
 * Every start gets its own database and run folder, listens on 127.0.0.1 only, and has every
 * feature that would call out of the machine switched off. Anything missing (binary, Go,
 * PostgreSQL) makes start fail with a message that says what to do: the suites that use this
 * must never pass by skipping.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {Client4} from '@mattermost/client';
import type {Team} from '@mattermost/types/teams';
import type {UserProfile} from '@mattermost/types/users';
import {Client as PgClient} from 'pg';
import {terminate} from '../support/process';

// Compiled into lib/ (for the bench) the go.mod stays in the source folder.
export const HARNESS_DIR = fs.existsSync(path.join(__dirname, 'go.mod')) ? __dirname : path.resolve(__dirname, '..', '..', '..', 'test', 'mattermost');
export const SERVER_MODULE = 'github.com/mattermost/mattermost/server/v8';

/** Prefix of every database this harness creates; the part after it is `<owner pid>_<random>`. */
export const DB_PREFIX = 'egress_mm_';

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 20_000;
const PASSWORD = 'Egress-Advisor-Test-1!';

export interface StartOptions {
  /** Port to listen on (on 127.0.0.1). Default: a free port chosen at start. */
  port?: number;
  /**
   * Extra environment for the server process, typically `MM_<SECTION>_<SETTING>` overrides. They
   * are applied after the harness's own, so they win. A setting fixed this way cannot be changed
   * through the API afterwards.
   */
  env?: Record<string, string>;
  /** How long to wait for `/api/v4/system/ping`, per start. Default 180 s (first start migrates the DB). */
  startTimeoutMs?: number;
  /** Keep the run folder (config, server log, plugins, files) after stop(). Also EGRESS_ADVISOR_KEEP_MM=1. */
  keepRunDir?: boolean;
}

export interface MattermostServer {
  /** `http://127.0.0.1:<port>`, also the server's SiteURL. */
  readonly url: string;
  readonly port: number;
  /** Pinned server module version the binary was built from. */
  readonly version: string;
  /** Session token of `admin` (the first user, hence system admin). */
  readonly adminToken: string;
  readonly admin: UserProfile;
  /** Session token of `user`, an ordinary member without system roles. */
  readonly userToken: string;
  readonly user: UserProfile;
  /** Password of both `admin` and `user`. */
  readonly password: string;
  /** Open team both users belong to. */
  readonly team: Team;
  readonly dbName: string;
  /** The data source the server uses, for tests that inspect the database. */
  readonly databaseUrl: string;
  /** Temporary folder the server runs in (config.json, plugins/, data/, logs/). */
  readonly runDir: string;
  readonly configPath: string;
  /** Everything the server process wrote to stdout and stderr, over all its starts. */
  readonly logPath: string;
  /** Whether the server process is currently running. */
  readonly running: boolean;
  /** A Client4 for this server, logged in with the given token (default: the admin's). */
  client(token?: string): Client4;
  /** Last lines of the server log, for failure messages. */
  logTail(lines?: number): string;
  /** Stops the server process but keeps the database, folder and port for startProcess(). */
  stopProcess(): Promise<void>;
  /** Starts the process again on the same database and port and waits until it answers. */
  startProcess(): Promise<void>;
  /** stopProcess() then startProcess(). */
  restart(): Promise<void>;
  /** Kills the process, drops the database and removes the run folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Reads the pinned server version from go.mod, the same way build.sh does. */
export function pinnedVersion(): string {
  const goMod = fs.readFileSync(path.join(HARNESS_DIR, 'go.mod'), 'utf8');
  const escaped = SERVER_MODULE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod);
  if (!match) {
    throw new Error(`Mattermost harness: no "${SERVER_MODULE} <version>" requirement in ${HARNESS_DIR}/go.mod`);
  }
  return match[1];
}

/** Where build.sh puts (and the harness expects) the binary for the pinned version. */
export function binaryPath(): string {
  const root = process.env.EGRESS_ADVISOR_CACHE || path.join(os.homedir(), '.cache', 'egress-advisor');
  return path.join(root, 'mattermost', pinnedVersion(), 'mattermost');
}

function requireBinary(): string {
  const bin = binaryPath();
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(
      `Mattermost harness: the server binary is not built (expected ${bin}).\n` +
        `Run: bash test/mattermost/build.sh   (the first build compiles the server from source and takes several minutes)`,
    );
  }
  return bin;
}

let moduleDirCache: string | undefined;

/**
 * The server module's source folder in the Go module cache, which holds the i18n/, templates/
 * and fonts/ folders the binary needs at run time. Asking Go (rather than guessing the cache
 * layout) respects GOMODCACHE and re-downloads the module if the cache was cleaned.
 */
function serverModuleDir(): string {
  if (moduleDirCache) return moduleDirCache;
  const result = spawnSync('go', ['list', '-m', '-f', '{{.Dir}}', SERVER_MODULE], {
    cwd: HARNESS_DIR,
    encoding: 'utf8',
    env: {...process.env, GOFLAGS: '-mod=mod', GOWORK: 'off', GOTOOLCHAIN: 'local'},
    timeout: 300_000,
  });
  if (result.error) {
    throw new Error(
      `Mattermost harness: cannot run "go list" to find the server's i18n/templates/fonts (${result.error.message}). ` +
        'The Go toolchain must be on PATH (e.g. /usr/local/go/bin).',
    );
  }
  const dir = result.stdout.trim();
  if (result.status !== 0 || !dir) {
    throw new Error(`Mattermost harness: "go list -m ${SERVER_MODULE}" failed in ${HARNESS_DIR}:\n${result.stderr.trim()}`);
  }
  for (const sub of ['i18n', 'templates', 'fonts']) {
    if (!fs.existsSync(path.join(dir, sub))) {
      throw new Error(`Mattermost harness: ${path.join(dir, sub)} is missing; the module cache looks damaged (try "go clean -modcache" and rebuild).`);
    }
  }
  moduleDirCache = dir;
  return dir;
}

function pgAdminUrl(): string {
  return process.env.EGRESS_ADVISOR_PG_URL || DEFAULT_PG_URL;
}

function pgUrlFor(dbName: string): string {
  const url = new URL(pgAdminUrl());
  url.pathname = `/${dbName}`;
  url.searchParams.set('sslmode', 'disable');
  url.searchParams.set('connect_timeout', '10');
  return url.toString();
}

async function withPg<T>(fn: (pg: PgClient) => Promise<T>): Promise<T> {
  const pg = new PgClient({connectionString: pgAdminUrl(), connectionTimeoutMillis: 10_000});
  try {
    await pg.connect();
  } catch (err) {
    throw new Error(
      `Mattermost harness: PostgreSQL is not reachable at ${redactUrl(pgAdminUrl())} (${(err as Error).message}).\n` +
        'Start it with: pg_ctlcluster --skip-systemctl-redirect 15 main start   (or set EGRESS_ADVISOR_PG_URL)',
      {cause: err},
    );
  }
  try {
    return await fn(pg);
  } finally {
    await pg.end().catch(() => undefined);
  }
}

function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<invalid EGRESS_ADVISOR_PG_URL>';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates a fresh database, first dropping databases left behind by test processes that died
 * before their stop() ran (their owner pid is part of the name).
 */
async function createDatabase(): Promise<string> {
  const dbName = `${DB_PREFIX}${process.pid}_${randomBytes(5).toString('hex')}`;
  await withPg(async (pg) => {
    const {rows: versionRows} = await pg.query<{server_version_num: string}>('SHOW server_version_num');
    const versionNum = Number(versionRows[0]?.server_version_num ?? 0);
    if (versionNum < 140000) {
      throw new Error(`Mattermost harness: PostgreSQL ${versionNum} is too old; Mattermost 11 needs 14 or newer.`);
    }
    const {rows} = await pg.query<{datname: string}>("SELECT datname FROM pg_database WHERE datname LIKE 'egress\\_mm\\_%'");
    for (const {datname} of rows) {
      const owner = Number(/^egress_mm_(\d+)_/.exec(datname)?.[1]);
      if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
        await pg.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).catch(() => undefined);
      }
    }
    await pg.query(`CREATE DATABASE ${quoteIdent(dbName)} TEMPLATE template0 ENCODING 'UTF8'`);
  });
  return dbName;
}

async function dropDatabase(dbName: string): Promise<void> {
  await withPg(async (pg) => {
    await pg.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`);
  });
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({host: '127.0.0.1', port: 0}, () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('Mattermost harness: could not pick a free port'))));
    });
  });
}

function readTail(file: string, lines: number): string {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    const length = Math.min(size, 64 * 1024);
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(length);
      fs.readSync(fd, buf, 0, length, size - length);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '(no server log)';
  }
  return (
    text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd() || '(server log is empty)'
  );
}

/**
 * Environment of the server process. Inherited MM_* and proxy variables are dropped so that a
 * developer's shell cannot change the configuration or route traffic off the machine.
 */
function serverEnv(runDir: string, port: number, dbUrl: string, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^MM_/i.test(key) || /^(https?|all|no)_proxy$/i.test(key)) continue;
    env[key] = value;
  }
  const url = `http://127.0.0.1:${port}`;
  Object.assign(env, {
    MM_CONFIG: path.join(runDir, 'config.json'),
    MM_SERVER_PATH: runDir,

    MM_SQLSETTINGS_DRIVERNAME: 'postgres',
    MM_SQLSETTINGS_DATASOURCE: dbUrl,

    MM_SERVICESETTINGS_LISTENADDRESS: `127.0.0.1:${port}`,
    MM_SERVICESETTINGS_SITEURL: url,
    MM_SERVICESETTINGS_ENABLELOCALMODE: 'false',
    MM_SERVICESETTINGS_ENABLEBOTACCOUNTCREATION: 'true',
    MM_SERVICESETTINGS_ENABLEUSERACCESSTOKENS: 'true',
    MM_SERVICESETTINGS_ENABLECOMMANDS: 'true',
    MM_SERVICESETTINGS_ENABLEINCOMINGWEBHOOKS: 'true',
    MM_SERVICESETTINGS_ENABLEOUTGOINGWEBHOOKS: 'true',
    MM_SERVICESETTINGS_ENABLEPOSTUSERNAMEOVERRIDE: 'true',
    MM_SERVICESETTINGS_ENABLEPOSTICONOVERRIDE: 'true',
    MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS: '127.0.0.1 localhost',
    MM_SERVICESETTINGS_ENABLEONBOARDINGFLOW: 'false',
    // Outbound features, all off: the machine has no network and must not try one.
    MM_SERVICESETTINGS_ENABLESECURITYFIXALERT: 'false',
    MM_SERVICESETTINGS_ENABLELINKPREVIEWS: 'false',
    MM_SERVICESETTINGS_ENABLEPERMALINKPREVIEWS: 'false',
    MM_SERVICESETTINGS_ENABLEGIFPICKER: 'false',
    MM_SERVICESETTINGS_ENABLEOUTGOINGOAUTHCONNECTIONS: 'false',
    MM_LOGSETTINGS_ENABLEDIAGNOSTICS: 'false',
    MM_LOGSETTINGS_ENABLESENTRY: 'false',
    MM_ANNOUNCEMENTSETTINGS_ADMINNOTICESENABLED: 'false',
    MM_ANNOUNCEMENTSETTINGS_USERNOTICESENABLED: 'false',
    MM_PLUGINSETTINGS_ENABLEMARKETPLACE: 'false',
    MM_PLUGINSETTINGS_ENABLEREMOTEMARKETPLACE: 'false',
    MM_PLUGINSETTINGS_AUTOMATICPREPACKAGEDPLUGINS: 'false',
    MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS: 'false',
    MM_EMAILSETTINGS_REQUIREEMAILVERIFICATION: 'false',
    MM_EMAILSETTINGS_SENDPUSHNOTIFICATIONS: 'false',
    MM_EMAILSETTINGS_PUSHNOTIFICATIONSERVER: '',
    MM_IMAGEPROXYSETTINGS_ENABLE: 'false',
    MM_METRICSSETTINGS_ENABLE: 'false',

    MM_PLUGINSETTINGS_ENABLE: 'true',
    MM_PLUGINSETTINGS_ENABLEUPLOADS: 'true',
    MM_PLUGINSETTINGS_REQUIREPLUGINSIGNATURE: 'false',
    MM_PLUGINSETTINGS_DIRECTORY: path.join(runDir, 'plugins'),
    MM_PLUGINSETTINGS_CLIENTDIRECTORY: path.join(runDir, 'client', 'plugins'),
    MM_FILESETTINGS_DRIVERNAME: 'local',
    MM_FILESETTINGS_DIRECTORY: `${path.join(runDir, 'data')}/`,

    MM_LOGSETTINGS_ENABLECONSOLE: 'true',
    MM_LOGSETTINGS_CONSOLELEVEL: 'INFO',
    MM_LOGSETTINGS_CONSOLEJSON: 'false',
    // The file log stays on (under the run folder) because GET /api/v4/logs reads it.
    MM_LOGSETTINGS_ENABLEFILE: 'true',
    MM_LOGSETTINGS_FILELOCATION: path.join(runDir, 'logs'),

    MM_TEAMSETTINGS_ENABLEUSERCREATION: 'true',
    MM_RATELIMITSETTINGS_ENABLE: 'false',
  });
  Object.assign(env, extra ?? {});
  return env;
}

/** Servers started by this process and not yet stop()ped. */
const instances = new Set<ServerInstance>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only synchronous work is possible here; databases left behind are dropped by the next start.
  process.on('exit', () => {
    for (const server of instances) server.killNow();
  });
}

/**
 * A detached shell that SIGKILLs the server once this test process is gone, covering the exits
 * the 'exit' hook cannot see (SIGKILL of a jest worker, a crash of Node). It ends by itself when
 * the server ends.
 */
function spawnWatchdog(serverPid: number): ChildProcess {
  const script = 'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done; kill -KILL "$2" 2>/dev/null';
  const dog = spawn('/bin/sh', ['-c', script, 'mattermost-watchdog', String(process.pid), String(serverPid)], {
    detached: true,
    stdio: 'ignore',
  });
  dog.unref();
  return dog;
}

class ServerInstance implements MattermostServer {
  readonly url: string;
  readonly version: string;
  readonly password = PASSWORD;
  readonly configPath: string;
  readonly logPath: string;
  readonly databaseUrl: string;
  adminToken = '';
  userToken = '';
  admin!: UserProfile;
  user!: UserProfile;
  team!: Team;

  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly binary: string,
    readonly port: number,
    readonly dbName: string,
    readonly runDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly startTimeoutMs: number,
    private readonly keepRunDir: boolean,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.version = pinnedVersion();
    this.configPath = path.join(runDir, 'config.json');
    this.logPath = path.join(runDir, 'server.log');
    this.databaseUrl = String(env.MM_SQLSETTINGS_DATASOURCE);
    instances.add(this);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  client(token: string = this.adminToken): Client4 {
    const c = new Client4();
    c.setUrl(this.url);
    c.setToken(token);
    // Node has no cookie jar; sending credentials: 'include' is pointless outside a browser.
    c.setIncludeCookies(false);
    return c;
  }

  logTail(lines = 40): string {
    return readTail(this.logPath, lines);
  }

  async startProcess(): Promise<void> {
    if (this.stopped) throw new Error('Mattermost harness: startProcess() after stop(); start a new server instead');
    if (this.running) return;
    fs.appendFileSync(this.logPath, `\n==== harness: starting ${this.binary} (${new Date().toISOString()}) ====\n`);
    const out = fs.openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.binary, ['server'], {cwd: this.runDir, env: this.env, stdio: ['ignore', out, out]});
    } finally {
      fs.closeSync(out);
    }
    this.child = child;
    let spawnError: Error | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        spawnError = err;
        resolve();
      });
      child.once('exit', () => resolve());
    });
    if (child.pid) this.watchdog = spawnWatchdog(child.pid);

    const deadline = Date.now() + this.startTimeoutMs;
    let lastProblem = 'no answer yet';
    while (Date.now() < deadline) {
      if (spawnError || !this.running) {
        const how = spawnError
          ? `could not be started (${spawnError.message})`
          : `exited with ${child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`}`;
        this.forgetProcess();
        throw new Error(`Mattermost harness: the server ${how} before it was ready.\nLast lines of ${this.logPath}:\n${this.logTail()}`);
      }
      try {
        const res = await fetch(`${this.url}/api/v4/system/ping`, {signal: AbortSignal.timeout(2_000)});
        if (res.ok && this.running) {
          await res.body?.cancel();
          return;
        }
        lastProblem = `HTTP ${res.status}`;
        await res.body?.cancel();
      } catch (err) {
        lastProblem = (err as Error).message;
      }
      await sleep(250);
    }
    await this.stopProcess();
    throw new Error(
      `Mattermost harness: the server did not answer ${this.url}/api/v4/system/ping within ${this.startTimeoutMs / 1000} s ` +
        `(last: ${lastProblem}).\nLast lines of ${this.logPath}:\n${this.logTail()}`,
    );
  }

  async stopProcess(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.running) await terminate(child, this.exited, STOP_GRACE_MS);
    this.forgetProcess();
  }

  async restart(): Promise<void> {
    await this.stopProcess();
    await this.startProcess();
  }

  async stop(): Promise<void> {
    await this.shutdown(this.keepRunDir);
  }

  /** Like stop(), but may keep the run folder so a failed start leaves its log to read. */
  async shutdown(keepRunDir: boolean): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    instances.delete(this);
    const problems: string[] = [];
    await this.stopProcess().catch((err: Error) => problems.push(`stopping the process: ${err.message}`));
    await dropDatabase(this.dbName).catch((err: Error) => problems.push(`dropping database ${this.dbName}: ${err.message}`));
    if (!keepRunDir) fs.rmSync(this.runDir, {recursive: true, force: true});
    if (problems.length) throw new Error(`Mattermost harness: stop() failed: ${problems.join('; ')}`);
  }

  /** Synchronous last resort for process exit. */
  killNow(): void {
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // already gone
    }
    this.forgetProcess();
  }

  private forgetProcess(): void {
    try {
      if (this.watchdog?.pid && this.watchdog.exitCode === null) process.kill(this.watchdog.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    this.watchdog = undefined;
    this.child = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function prepareRunDir(): string {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-mm-'));
  const moduleDir = serverModuleDir();
  for (const sub of ['i18n', 'templates', 'fonts']) {
    fs.symlinkSync(path.join(moduleDir, sub), path.join(runDir, sub), 'dir');
  }
  // Without these folders the server starts with plugins disabled.
  for (const sub of ['plugins', path.join('client', 'plugins'), 'data', 'logs']) {
    fs.mkdirSync(path.join(runDir, sub), {recursive: true});
  }
  return runDir;
}

async function populate(server: ServerInstance): Promise<void> {
  const suffix = randomBytes(3).toString('hex');
  const anonymous = server.client('');

  // The first account on an empty server becomes system admin and needs no invitation.
  await anonymous.createUser({username: `admin-${suffix}`, email: `admin-${suffix}@example.com`, password: PASSWORD} as UserProfile, '', '');
  const adminClient = server.client('');
  server.admin = await adminClient.login(`admin-${suffix}`, PASSWORD);
  server.adminToken = adminClient.getToken();

  const asAdmin = server.client(server.adminToken);
  await asAdmin.createUser({username: `user-${suffix}`, email: `user-${suffix}@example.com`, password: PASSWORD} as UserProfile, '', '');
  const userClient = server.client('');
  server.user = await userClient.login(`user-${suffix}`, PASSWORD);
  server.userToken = userClient.getToken();

  server.team = await asAdmin.createTeam({name: `egress-${suffix}`, display_name: 'Egress Advisor Test', type: 'O'} as Team);
  await asAdmin.addToTeam(server.team.id, server.admin.id);
  await asAdmin.addToTeam(server.team.id, server.user.id);

  if (!server.adminToken || !server.userToken) {
    throw new Error('Mattermost harness: login answered without a Token header');
  }
}

/**
 * Starts a fresh Mattermost server with an admin, an ordinary user and a team, and resolves when
 * all three exist. Throws (never skips) when anything it needs is missing.
 */
export async function startMattermost(opts: StartOptions = {}): Promise<MattermostServer> {
  const binary = requireBinary();
  const keepRunDir = opts.keepRunDir ?? process.env.EGRESS_ADVISOR_KEEP_MM === '1';
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  installExitHook();

  // A port picked here can be taken by someone else before the server binds it; when the port
  // was not asked for, such a start is retried on another one.
  const attempts = opts.port ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const dbName = await createDatabase();
    let runDir: string | undefined;
    let server: ServerInstance | undefined;
    try {
      runDir = prepareRunDir();
      const env = serverEnv(runDir, port, pgUrlFor(dbName), opts.env);
      server = new ServerInstance(binary, port, dbName, runDir, env, startTimeoutMs, keepRunDir);
      await server.startProcess();
      try {
        await populate(server);
      } catch (err) {
        throw new Error(`Mattermost harness: setting up users and team failed: ${explain(err)}\nLast lines of ${server.logPath}:\n${server.logTail()}`, {
          cause: err,
        });
      }
      return server;
    } catch (err) {
      const portTaken = server !== undefined && /address already in use/i.test(server.logTail(200));
      if (server) {
        // The run folder stays: the error message points at its server.log.
        await server.shutdown(true).catch(() => undefined);
      } else {
        await dropDatabase(dbName).catch(() => undefined);
        if (runDir && !keepRunDir) fs.rmSync(runDir, {recursive: true, force: true});
      }
      if (portTaken && attempt < attempts) continue;
      throw err;
    }
  }
}

function explain(err: unknown): string {
  if (err instanceof Error) {
    const extra = err as Error & {status_code?: number; server_error_id?: string; url?: string};
    const parts = [err.message || err.name];
    if (extra.status_code) parts.push(`HTTP ${extra.status_code}`);
    if (extra.server_error_id) parts.push(extra.server_error_id);
    if (extra.url) parts.push(extra.url);
    return parts.join(' | ');
  }
  return String(err);
}

/** Stops every server this process started (for a global teardown). */
export async function stopAllMattermost(): Promise<void> {
  await Promise.all([...instances].map((server) => server.stop().catch(() => undefined)));
}

/**
 * For a jest suite: starts one server before the suite's tests and stops it after them.
 *
 *   const mm = useMattermost();
 *   test('…', async () => { const {url, adminToken} = mm(); … });
 */
export function useMattermost(opts: StartOptions = {}): () => MattermostServer {
  let server: MattermostServer | undefined;
  const timeout = (opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS) + 30_000;
  beforeAll(async () => {
    server = await startMattermost(opts);
  }, timeout);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);
  return () => {
    if (!server) throw new Error('Mattermost harness: the server is not running (did beforeAll fail?)');
    return server;
  };
}
