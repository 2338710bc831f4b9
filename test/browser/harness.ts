/*
 * The browser suite's rig: a real Mattermost (test/mattermost/harness.ts) with the real plugin
 * tarball (webapp bundle and Go server half) uploaded and enabled, the real bridge (startBridge)
 * following a temporary istio-proxy log and writing its URL and secret into the plugin's settings,
 * the harness page (host.ts, page/harness.js) and Debian's Chromium driven by playwright-core.
 *
 * The harness page stands in for Mattermost's web client, which is not built here: the browser itself
 * answers `/` and `/__harness/…` of Mattermost's origin with the page's files (Playwright routes, in
 * place of the web client's static files), and every other request of the page goes to the real
 * Mattermost unchanged: its REST API, the plugin bundle under /static/plugins/, and the plugin's route
 * /plugins/egress-advisor/api/v1/…, which the plugin's server half forwards, signed, to the bridge.
 *
 * Anything missing (Chromium, the Mattermost binary, PostgreSQL) makes start() throw with what to
 * install or run: the suite fails, it never skips.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type {Client4} from '@mattermost/client';
import type {AdminConfig} from '@mattermost/types/config';
import type {Post} from '@mattermost/types/posts';
import pino from 'pino';
import {chromium, type Browser, type BrowserContext, type Page} from 'playwright-core';

import {ALERT_POST_TYPE} from '../../common/alert';
import {loadConfig, type BridgeConfig} from '../../server/bridge/config';
import {startBridge, type Bridge} from '../../server/bridge/service';
import {createBridgeLogger} from '../../server/http';
import {BRIDGE_URL_KEY, ourSettings} from '../../server/mattermost/plugin-settings';
import {freePort, waitFor as waitForBridge} from '../bridge/helpers';
import {startMattermost, type MattermostServer} from '../mattermost/harness';
import {ensureBuiltPlugin, installPlugin, type BuiltPlugin} from '../mattermost/plugin';
import {MATTERMOST_PAGE_CSP, writeWebRoot} from './host';
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
  registered: {
    settings: Array<{pluginId: string; key: string; showTitle: boolean}>;
    postTypes: Array<{pluginId: string; type: string; id: string}>;
    reducers: string[];
  };
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
  browser!: Browser;
  built!: BuiltPlugin;
  readonly dir: string;
  readonly webRoot: string;
  readonly logFile: string;
  readonly bridgeLogFile: string;
  bridgePort = 0;
  private bridgeConfig: BridgeConfig | null = null;
  private bridgeStopped = false;
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
    // Cheap check first: a missing browser should not cost a Mattermost start.
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
    let t = Date.now();
    this.built = ensureBuiltPlugin();
    // Built while Mattermost starts; awaited (and so reported) before Chromium starts.
    const webRootReady = writeWebRoot(this.webRoot);
    webRootReady.catch(() => undefined);
    this.mark('plugin build check', t);

    t = Date.now();
    // Mattermost's Site URL is its own address: the page is on its origin.
    this.mm = await startMattermost({env: this.opts.mattermostEnv});
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
    this.bridgeConfig = config;
    this.bridge = await startBridge(config, this.bridgeLogger());
    await waitFor('the bridge to connect to Mattermost and read its integrations', () => this.bridge.link?.up === true && this.bridge.link.inventory !== null, {
      context: () => this.context(),
    });
    // The bridge writes its URL and secret into the plugin's settings; until then the plugin forwards nothing.
    await waitFor(
      "the bridge to write its URL into the plugin's settings",
      async () => ourSettings((await admin.getConfig()) as AdminConfig)[BRIDGE_URL_KEY] === config.publicUrl,
      {
        timeoutMs: 60_000,
        context: () => this.context(),
      },
    );
    this.mark('bridge start, connect and plugin settings', t);

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
    this.browser = await chromium.launch({executablePath: requireChromium(), args: CHROMIUM_ARGS});
    this.mark('web root and Chromium', t);
  }

  /** Mattermost's address: what the browser (and the Site URL) uses. */
  get url(): string {
    return this.mm.url;
  }

  get bridgeUrl(): string {
    return `http://127.0.0.1:${this.bridgePort}`;
  }

  private bridgeLogger() {
    return createBridgeLogger({
      level: this.bridgeConfig?.logLevel ?? 'info',
      destination: pino.destination({dest: this.bridgeLogFile, sync: true, append: true}),
    });
  }

  /** Stops the bridge (its port then refuses connections); startBridgeAgain() brings it back with the same data. */
  async stopBridge(): Promise<void> {
    this.bridgeStopped = true;
    await this.bridge.stop();
  }

  get bridgeIsStopped(): boolean {
    return this.bridgeStopped;
  }

  async startBridgeAgain(): Promise<void> {
    if (!this.bridgeConfig || !this.bridgeStopped) throw new Error('the bridge is not stopped');
    this.bridge = await startBridge(this.bridgeConfig, this.bridgeLogger());
    this.bridgeStopped = false;
  }

  /** Appends lines in one write, as a container runtime flushes a burst. */
  append(lines: readonly string[]): void {
    fs.appendFileSync(this.logFile, lines.map((l) => `${l}\n`).join(''));
  }

  /**
   * A browser context whose requests for `/` and `/__harness/…` on Mattermost's origin are answered
   * with the harness page's files (what the web client's static files are to the real System Console;
   * the page gets the script policy Mattermost sends with its own pages). `staticJson` answers exact
   * paths with a file instead (the bench's bridge-shaped page of all findings). Everything else goes to
   * Mattermost untouched.
   */
  async newPage(opts: {clipboard?: boolean; staticJson?: Record<string, string>} = {}): Promise<OpenPage> {
    const context = await this.browser.newContext({
      viewport: this.opts.viewport ?? {width: 1360, height: 900},
      deviceScaleFactor: 1,
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    this.contexts.push(context);
    const origin = new URL(this.url).origin;
    const staticJson = opts.staticJson ?? {};
    await context.route(
      (u) => u.origin === origin && (u.pathname === '/' || u.pathname.startsWith('/__harness/') || u.pathname in staticJson),
      async (route) => {
        const {pathname} = new URL(route.request().url());
        const noStore = {'Cache-Control': 'no-store'};
        if (pathname in staticJson) return route.fulfill({status: 200, headers: noStore, contentType: 'application/json', path: staticJson[pathname]});
        if (pathname === '/') {
          return route.fulfill({
            status: 200,
            headers: {...noStore, 'Content-Security-Policy': MATTERMOST_PAGE_CSP, 'X-Frame-Options': 'SAMEORIGIN'},
            contentType: 'text/html',
            path: path.join(this.webRoot, 'index.html'),
          });
        }
        const file = path.join(this.webRoot, '__harness', path.basename(pathname));
        if (!fs.existsSync(file)) return route.fulfill({status: 404, headers: noStore, body: 'not a harness file'});
        return route.fulfill({status: 200, headers: noStore, contentType: file.endsWith('.css') ? 'text/css' : 'application/javascript', path: file});
      },
    );
    if (opts.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], {origin});
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
   * Logs in to Mattermost from inside the page (POST /api/v4/users/login), so the browser
   * holds the session cookies Mattermost sets: MMAUTHTOKEN (HttpOnly), MMUSERID and MMCSRF.
   */
  async login(page: Page, who: 'admin' | 'user'): Promise<{token: string; csrf: string; userId: string}> {
    await page.goto(`${this.url}/?view=none`);
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
    if (answer.status !== 200) throw new Error(`logging in as ${username} answered ${answer.status}: ${answer.body.message}`);
    const cookies = await page.context().cookies(this.url);
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
  async open(page: Page, query: string): Promise<HarnessState> {
    await page.goto(`${this.url}/?${query}`);
    await page.waitForFunction(
      () => {
        const h = (globalThis as unknown as {__harness?: {state: string}}).__harness;
        return h !== undefined && (h.state === 'rendered' || h.state === 'error' || h.state === 'idle');
      },
      undefined,
      {timeout: 30_000},
    );
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
    return list.order
      .map((id) => list.posts[id])
      .filter((p): p is Post => p !== undefined && (p.type as string) === ALERT_POST_TYPE && !p.root_id && !p.delete_at);
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
    return parts.join('\n');
  }

  async stop(): Promise<void> {
    const problems: string[] = [];
    for (const c of this.contexts) await c.close().catch(() => undefined);
    await this.browser?.close().catch((err: Error) => problems.push(`Chromium: ${err.message}`));
    if (!this.bridgeStopped) await this.bridge?.stop().catch((err: Error) => problems.push(`bridge: ${err.message}`));
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
