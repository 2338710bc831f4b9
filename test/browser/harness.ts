/*
 * The browser suite's rig: a real Mattermost (test/mattermost/harness.ts) with the real plugin
 * tarball uploaded and enabled, the real bridge (startBridge) following a temporary istio-proxy log,
 * nginx in front of both the way the production ingress routes them, the harness page (host.ts,
 * page/harness.js) and Debian's Chromium driven by playwright-core.
 *
 * Anything missing (Chromium, nginx, the Mattermost binary, PostgreSQL) makes start() throw with
 * what to install or run: the suite fails, it never skips.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type {Client4} from '@mattermost/client';
import type {Post} from '@mattermost/types/posts';
import pino from 'pino';
import {chromium, type Browser, type BrowserContext, type Page} from 'playwright-core';

import {ALERT_POST_TYPE} from '../../common/alert';
import {loadConfig} from '../../server/bridge/config';
import {startBridge, type Bridge} from '../../server/bridge/service';
import {createBridgeLogger} from '../../server/http';
import {waitFor as waitForBridge} from '../bridge/helpers';
import {startMattermost, type MattermostServer} from '../mattermost/harness';
import {ensureBuiltPlugin, installPlugin, type BuiltPlugin} from '../mattermost/plugin';
import {writeWebRoot} from './host';
import {findNginx, freePort, NginxServer} from './nginx';
import {ARTIFACTS_DIR, CHROMIUM} from './paths';

export const PLUGIN_ID = 'egress-advisor';

/** The launch the suite uses: Debian's Chromium, never a downloaded browser, nothing calling out. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What the page reports on window.__harness (page/harness.js). */
export interface HarnessState {
  view: string;
  state: 'starting' | 'idle' | 'rendered' | 'error';
  error: string | null;
  errors: string[];
  bundles: Array<{id: string; version: string; bundlePath: string; src: string}>;
  registered: {settings: Array<{pluginId: string; key: string; showTitle: boolean}>; postTypes: Array<{pluginId: string; type: string; id: string}>; reducers: string[]};
  changes: unknown[];
  timings: {initializedAt?: number; rowsAt?: number; frameAt?: number; firstRowsAt?: number; firstFrameAt?: number; rows?: number};
  me: {id: string; username: string; roles: string} | null;
  siteUrl: string | null;
  consoleData?: {adminConfig: boolean; pluginsList: boolean};
}

// The same condition wait as the bridge suite's; the browser polls a little faster.
export const waitFor: typeof waitForBridge = (what, probe, opts = {}) => waitForBridge(what, probe, {intervalMs: 100, ...opts});

/** Throws unless Debian's Chromium is there; checked before anything slow starts. */
export function requireChromium(): string {
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
  } catch {
    throw new Error(`Browser suite: Chromium is not installed at ${CHROMIUM}. Install it with: apt-get install -y chromium`);
  }
  return CHROMIUM;
}

export interface RigOptions {
  /** Seconds new findings are gathered before the alert post. */
  digestSeconds?: number;
  /** Integrations to create before the bridge reads Mattermost's inventory (they name features). */
  integrations?: (admin: Client4, mm: MattermostServer) => Promise<void>;
  /** Lines the log holds once the bridge is connected and has read the inventory. */
  lines?: string[];
  /** Wait until every finding has been announced in the admin channel. */
  waitForAlert?: boolean;
  /** Open findings to wait for in the store after the lines are written. */
  expectFindings?: number;
  /** Extra nginx routes for the main instance (exact path → file). */
  staticJson?: Record<string, string>;
  /** Browser window size. */
  viewport?: {width: number; height: number};
  /** Mattermost settings (`MM_<SECTION>_<SETTING>`) fixed at start: what the instance is configured to call. */
  mattermostEnv?: Record<string, string>;
  /** The bridge's values file (EGRESS_ADVISOR_VALUES_FILE): without a Kubernetes source, it alone says what is allowed. */
  values?: string;
}

/** A page and its context, with what went wrong in it. */
export interface OpenPage {
  context: BrowserContext;
  page: Page;
  pageErrors: string[];
  consoleErrors: string[];
}

export class BrowserRig {
  mm!: MattermostServer;
  bridge!: Bridge;
  nginx!: NginxServer;
  browser!: Browser;
  built!: BuiltPlugin;
  readonly dir: string;
  readonly webRoot: string;
  readonly logFile: string;
  readonly bridgeLogFile: string;
  bridgePort = 0;
  private readonly extraNginx: NginxServer[] = [];
  private readonly contexts: BrowserContext[] = [];
  readonly timings: string[] = [];

  private constructor(readonly opts: RigOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-browser-'));
    this.webRoot = path.join(this.dir, 'www');
    this.logFile = path.join(this.dir, 'istio-proxy.log');
    this.bridgeLogFile = path.join(this.dir, 'bridge.log');
    fs.writeFileSync(this.logFile, '');
    fs.writeFileSync(this.bridgeLogFile, '');
  }

  static async start(opts: RigOptions = {}): Promise<BrowserRig> {
    // Cheap checks first: a missing browser or nginx should not cost a Mattermost start.
    requireChromium();
    const rig = new BrowserRig(opts);
    try {
      await rig.boot();
    } catch (err) {
      const context = rig.context();
      await rig.stop().catch(() => undefined);
      throw new Error(`${(err as Error).message}\n${context}`, {cause: err});
    }
    return rig;
  }

  private mark(what: string, since: number): void {
    this.timings.push(`${what}: ${((Date.now() - since) / 1000).toFixed(1)} s`);
  }

  private async boot(): Promise<void> {
    findNginx();
    let t = Date.now();
    this.built = ensureBuiltPlugin();
    // Built while Mattermost starts; awaited (and so reported) before nginx starts.
    const webRootReady = writeWebRoot(this.webRoot);
    webRootReady.catch(() => undefined);
    this.mark('plugin build check', t);

    // The ingress's port is chosen first: Mattermost's Site URL is the address browsers use.
    const ingressPort = await freePort();
    t = Date.now();
    this.mm = await startMattermost({env: {...this.opts.mattermostEnv, MM_SERVICESETTINGS_SITEURL: `http://127.0.0.1:${ingressPort}`}});
    this.mark('Mattermost start', t);
    t = Date.now();
    await installPlugin(this.mm, this.built);
    const admin = this.mm.client();
    if (this.opts.integrations) await this.opts.integrations(admin, this.mm);
    this.mark('plugin upload and integrations', t);

    t = Date.now();
    this.bridgePort = await freePort();
    const valuesFile = path.join(this.dir, 'values.yaml');
    if (this.opts.values !== undefined) fs.writeFileSync(valuesFile, this.opts.values);
    const config = loadConfig({
      EGRESS_ADVISOR_DATA_DIR: path.join(this.dir, 'bridge-data'),
      EGRESS_ADVISOR_SOURCES: `file:${this.logFile}`,
      MATTERMOST_URL: this.mm.url,
      MATTERMOST_TOKEN: this.mm.adminToken,
      EGRESS_ADVISOR_TEAM: this.mm.team.name,
      EGRESS_ADVISOR_LISTEN: `127.0.0.1:${this.bridgePort}`,
      EGRESS_ADVISOR_PUBLIC_URL: `http://127.0.0.1:${this.bridgePort}`,
      EGRESS_ADVISOR_DIGEST_SECONDS: String(this.opts.digestSeconds ?? 1),
      EGRESS_ADVISOR_UPDATE_SECONDS: '600',
      LOG_LEVEL: 'info',
      ...(this.opts.values !== undefined ? {EGRESS_ADVISOR_VALUES_FILE: valuesFile} : {}),
    });
    const logger = createBridgeLogger({level: config.logLevel, destination: pino.destination({dest: this.bridgeLogFile, sync: true, append: true})});
    this.bridge = await startBridge(config, logger);
    await waitFor('the bridge to connect to Mattermost and read its integrations', () => this.bridge.link?.up === true && this.bridge.link.inventory !== null, {
      context: () => this.context(),
    });
    this.mark('bridge start and connect', t);

    t = Date.now();
    if (this.opts.lines && this.opts.lines.length > 0) this.append(this.opts.lines);
    if (this.opts.expectFindings !== undefined) {
      const n = this.opts.expectFindings;
      await waitFor(`${n} open findings in the bridge's store`, async () => (await this.bridge.store.countFindings()).byStatus.open >= n, {
        timeoutMs: 120_000,
        intervalMs: 200,
        context: () => this.context(),
      });
    }
    if (this.opts.waitForAlert) {
      await waitFor(
        'every finding announced in the admin channel',
        async () => {
          if ((await this.bridge.store.outboxDepth()) !== 0) return false;
          const page = await this.bridge.store.listFindings({limit: 500});
          return page.items.length > 0 && page.items.every((f) => f.alertPostId !== null);
        },
        {timeoutMs: 60_000, context: () => this.context()},
      );
    }
    this.mark('lines to findings (and alert)', t);

    t = Date.now();
    await webRootReady;
    this.nginx = await NginxServer.start({
      port: ingressPort,
      mattermostUrl: this.mm.url,
      bridgeUrl: `http://127.0.0.1:${this.bridgePort}`,
      webRoot: this.webRoot,
      staticJson: this.opts.staticJson,
      name: 'ingress',
    });
    this.browser = await chromium.launch({executablePath: requireChromium(), args: CHROMIUM_ARGS});
    this.mark('web root, nginx and Chromium', t);
  }

  /** The ingress address: what a browser (and the Site URL) uses. */
  get url(): string {
    return this.nginx.url;
  }

  get bridgeUrl(): string {
    return `http://127.0.0.1:${this.bridgePort}`;
  }

  /** A second ingress on another port with the same routes, or without the bridge's. */
  async startIngress(opts: {bridge: boolean; name: string; staticJson?: Record<string, string>}): Promise<NginxServer> {
    const server = await NginxServer.start({
      port: await freePort(),
      mattermostUrl: this.mm.url,
      bridgeUrl: opts.bridge ? this.bridgeUrl : null,
      webRoot: this.webRoot,
      staticJson: opts.staticJson,
      name: opts.name,
    });
    this.extraNginx.push(server);
    return server;
  }

  /** Appends lines in one write, as a container runtime flushes a burst. */
  append(lines: readonly string[]): void {
    fs.appendFileSync(this.logFile, lines.map((l) => `${l}\n`).join(''));
  }

  async newPage(opts: {clipboard?: boolean; origin?: string} = {}): Promise<OpenPage> {
    const context = await this.browser.newContext({viewport: this.opts.viewport ?? {width: 1360, height: 900}, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC'});
    this.contexts.push(context);
    if (opts.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: opts.origin ?? this.url});
    const page = await context.newPage();
    const pageErrors: string[] = [];
    const consoleErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    return {context, page, pageErrors, consoleErrors};
  }

  /**
   * Logs in through the ingress from inside the page (POST /api/v4/users/login), so the browser
   * holds the session cookies Mattermost sets: MMAUTHTOKEN (HttpOnly), MMUSERID and MMCSRF.
   */
  async login(page: Page, who: 'admin' | 'user', base = this.url): Promise<{token: string; csrf: string; userId: string}> {
    await page.goto(`${base}/?view=none`);
    const username = who === 'admin' ? this.mm.admin.username : this.mm.user.username;
    const answer = await page.evaluate(
      async ({loginId, password}) => {
        const res = await fetch('/api/v4/users/login', {
          method: 'POST',
          credentials: 'include',
          headers: {'Content-Type': 'application/json', 'X-Requested-With': 'XMLHttpRequest'},
          body: JSON.stringify({login_id: loginId, password}),
        });
        return {status: res.status, body: (await res.json()) as {id?: string; message?: string}};
      },
      {loginId: username, password: this.mm.password},
    );
    if (answer.status !== 200) throw new Error(`logging in as ${username} through ${base} answered ${answer.status}: ${answer.body.message}`);
    const cookies = await page.context().cookies(base);
    const get = (name: string) => cookies.find((c) => c.name === name);
    const token = get('MMAUTHTOKEN');
    const csrf = get('MMCSRF');
    const userId = get('MMUSERID');
    if (!token || !csrf || !userId) throw new Error(`after logging in, the browser lacks session cookies: ${cookies.map((c) => c.name).join(', ')}`);
    if (!token.httpOnly) throw new Error('MMAUTHTOKEN is not HttpOnly');
    if (userId.value !== answer.body.id) throw new Error(`MMUSERID ${userId.value} is not the logged-in user ${answer.body.id}`);
    return {token: token.value, csrf: csrf.value, userId: userId.value};
  }

  /** Opens the harness page on `view` and waits until it has rendered (or failed). */
  async open(page: Page, query: string, base = this.url): Promise<HarnessState> {
    await page.goto(`${base}/?${query}`);
    await page.waitForFunction(() => {
      const h = (globalThis as unknown as {__harness?: {state: string}}).__harness;
      return h !== undefined && (h.state === 'rendered' || h.state === 'error' || h.state === 'idle');
    }, undefined, {timeout: 30_000});
    const state = await harnessState(page);
    if (state.state === 'error') throw new Error(`the harness page failed: ${state.error}\n${state.errors.join('\n')}`);
    return state;
  }

  /** Closes the browser contexts opened so far (their pages, streams and cookies). */
  async closePages(): Promise<void> {
    const open = this.contexts.splice(0);
    for (const c of open) await c.close().catch(() => undefined);
  }

  async screenshot(page: Page, name: string, opts: {fullPage?: boolean} = {}): Promise<string> {
    fs.mkdirSync(ARTIFACTS_DIR, {recursive: true});
    const file = path.join(ARTIFACTS_DIR, `${name}.png`);
    await page.screenshot({path: file, fullPage: opts.fullPage ?? true, animations: 'disabled'});
    return file;
  }

  /** The bridge's admin channel and its alert posts, read with the admin's token. */
  async alertPosts(): Promise<Post[]> {
    const channelId = this.bridge.link?.channel?.channelId;
    if (!channelId) throw new Error('the bridge has no admin channel');
    const list = await this.mm.client().getPosts(channelId, 0, 200);
    return list.order.map((id) => list.posts[id]).filter((p): p is Post => p !== undefined && (p.type as string) === ALERT_POST_TYPE && !p.root_id && !p.delete_at);
  }

  bridgeLogTail(lines = 30): string {
    try {
      return fs.readFileSync(this.bridgeLogFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no bridge log)';
    }
  }

  /** Logs for failure messages. */
  context(): string {
    const parts = [`Bridge log (${this.bridgeLogFile}):\n${this.bridgeLogTail(25)}`];
    if (this.mm) parts.push(`Mattermost log:\n${this.mm.logTail(15)}`);
    if (this.nginx) parts.push(this.nginx.errorLogTail(10));
    return parts.join('\n');
  }

  async stop(): Promise<void> {
    const problems: string[] = [];
    for (const c of this.contexts) await c.close().catch(() => undefined);
    await this.browser?.close().catch((err: Error) => problems.push(`Chromium: ${err.message}`));
    for (const n of this.extraNginx) await n.stop().catch((err: Error) => problems.push(`nginx: ${err.message}`));
    await this.nginx?.stop().catch((err: Error) => problems.push(`nginx: ${err.message}`));
    await this.bridge?.stop().catch((err: Error) => problems.push(`bridge: ${err.message}`));
    await this.mm?.stop().catch((err: Error) => problems.push(`Mattermost: ${err.message}`));
    if (process.env.EGRESS_ADVISOR_KEEP_BROWSER_RIG !== '1') fs.rmSync(this.dir, {recursive: true, force: true});
    if (problems.length > 0) throw new Error(problems.join('; '));
  }
}

export async function harnessState(page: Page): Promise<HarnessState> {
  return page.evaluate(() => {
    const h = (globalThis as unknown as {__harness: HarnessState & {root?: unknown; getState?: unknown}}).__harness;
    // Only the plain data (the root and the store accessor do not cross into Node).
    return JSON.parse(JSON.stringify({...h, root: undefined, getState: undefined})) as HarnessState;
  });
}
