// What the plugin's hop costs: the findings request the System Console page makes, through Mattermost's
// plugin route (session check, manage_system, signing, forwarding) on the real server with the real plugin
// tarball, against the same request sent to the bridge directly, signed as the plugin signs it.
import {accessSync, appendFileSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {availableParallelism, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import pino from 'pino';
import {API_BASE_PATH} from '../../common/api';
import {loadConfig} from '../../server/bridge/config';
import {startBridge, type Bridge} from '../../server/bridge/service';
import {signatureHeaders} from '../../server/http/signature';
import {waitFor} from '../bridge/helpers';
import {binaryPath, startMattermost, type MattermostServer} from '../mattermost/harness';
import {builtTarballPath, ensureBuiltPlugin, installPlugin} from '../mattermost/plugin';

const row = (k: string, v: string): void => void process.stdout.write(`${k.padEnd(28)} ${v}\n`);

/** The request the page makes for its findings table (webapp/src/components/dashboard/dashboard.tsx). */
const FINDINGS_PATH = `${API_BASE_PATH}/findings?status=open&limit=500`;
const DESTINATIONS = 200;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function timed(url: string, headers: Record<string, string>): Promise<number> {
  const started = process.hrtime.bigint();
  const res = await fetch(url, {headers});
  const body = await res.arrayBuffer();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
  return ms;
}

/** Says why the hop cannot be measured here, or null when it can. */
function missing(): string | null {
  try {
    accessSync(binaryPath(), constants.X_OK);
  } catch {
    return `the Mattermost server binary is not built (expected ${binaryPath()}). Build it with: bash test/mattermost/build.sh (several minutes the first time), then run npm run bench -- hop`;
  }
  if (!existsSync(builtTarballPath()))
    return `the plugin tarball is missing (expected ${builtTarballPath()}). Build it with: npm run dist, then run npm run bench -- hop`;
  return null;
}

export async function benchPluginHop(requests = Number(process.env.BENCH_HOP_REQUESTS ?? 300)): Promise<void> {
  process.stdout.write(`\n== plugin hop: the page's findings request through Mattermost's plugin route vs to the bridge directly ==\n`);
  const why = missing();
  if (why !== null) {
    row('not measured', why);
    return;
  }
  const built = ensureBuiltPlugin();
  const dir = mkdtempSync(join(tmpdir(), 'egress-bench-hop-'));
  const source = join(dir, 'proxy.log');
  writeFileSync(source, '');
  let mm: MattermostServer | null = null;
  let bridge: Bridge | null = null;
  try {
    mm = await startMattermost();
    const server = mm;
    await installPlugin(server, built);
    const port = 20000 + Math.floor(Math.random() * 20000);
    bridge = await startBridge(
      loadConfig({
        EGRESS_ADVISOR_SOURCES: `file:${source}`,
        EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'),
        EGRESS_ADVISOR_LISTEN: `127.0.0.1:${port}`,
        EGRESS_ADVISOR_PUBLIC_URL: `http://127.0.0.1:${port}`,
        MATTERMOST_URL: server.url,
        MATTERMOST_TOKEN: server.adminToken,
        EGRESS_ADVISOR_TEAM: server.team.name,
      }),
      pino({level: 'warn'}),
    );
    const b = bridge;
    // A page of findings as a hardened cluster shows them: DESTINATIONS blocked hosts.
    const now = new Date().toISOString();
    for (let i = 0; i < DESTINATIONS; i++) {
      appendFileSync(
        source,
        `[${now}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 203.0.${Math.floor(i / 250)}.${(i % 250) + 1}:443 10.42.1.17:40000 hop-${i}.example.com -\n`,
      );
    }
    await waitFor('the findings to be stored', async () => (await b.store.listFindings({limit: 1})).total >= DESTINATIONS, {timeoutMs: 120_000});

    const viaPlugin = `${server.url}${FINDINGS_PATH}`;
    const pluginHeaders = {Authorization: `Bearer ${server.adminToken}`, 'X-Requested-With': 'XMLHttpRequest'};
    // The plugin answers 503 until the bridge has written its URL and secret into the plugin's settings.
    await waitFor('the plugin route to reach the bridge', async () => (await fetch(viaPlugin, {headers: pluginHeaders})).status === 200, {timeoutMs: 120_000});

    const secret = Buffer.from((await b.store.getMeta('plugin-secret'))!, 'hex').toString('base64url');
    const direct = `${b.url}${FINDINGS_PATH}`;
    const directHeaders = (): Record<string, string> =>
      signatureHeaders(secret, {method: 'GET', target: FINDINGS_PATH, userId: server.admin.id, username: server.admin.username, body: Buffer.alloc(0)});

    const size = (await (await fetch(direct, {headers: directHeaders()})).arrayBuffer()).byteLength;
    for (let i = 0; i < 20; i++) {
      await timed(viaPlugin, pluginHeaders);
      await timed(direct, directHeaders());
    }
    // Alternated, so that load on the machine falls on both alike.
    const plugin: number[] = [];
    const bridgeOnly: number[] = [];
    for (let i = 0; i < requests; i++) {
      plugin.push(await timed(viaPlugin, pluginHeaders));
      bridgeOnly.push(await timed(direct, directHeaders()));
    }
    plugin.sort((x, y) => x - y);
    bridgeOnly.sort((x, y) => x - y);
    const [p50, p95, d50, d95] = [quantile(plugin, 0.5), quantile(plugin, 0.95), quantile(bridgeOnly, 0.5), quantile(bridgeOnly, 0.95)];
    row('machine', `${availableParallelism()} cores, load average ${loadavg()[0].toFixed(2)} after the runs`);
    row('request', `GET ${FINDINGS_PATH} (${DESTINATIONS} open findings, ${(size / 1024).toFixed(0)} KiB of JSON)`);
    row('requests each', `${requests}, alternated, after 20 each to warm up`);
    row('through the plugin p50/p95', `${p50.toFixed(2)} ms / ${p95.toFixed(2)} ms`);
    row('bridge directly p50/p95', `${d50.toFixed(2)} ms / ${d95.toFixed(2)} ms`);
    row('the hop costs p50/p95', `${(p50 - d50).toFixed(2)} ms / ${(p95 - d95).toFixed(2)} ms`);
  } finally {
    await bridge?.stop();
    await mm?.stop();
    rmSync(dir, {recursive: true, force: true});
  }
}
