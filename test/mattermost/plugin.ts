// The plugin as the tests install it: the tarball `npm run dist` writes (webapp bundle and the Go server
// half), uploaded and enabled through Mattermost's REST API as an administrator does.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {PLUGIN_ID} from '../../common/api';
import {waitFor} from '../bridge/helpers';
import type {MattermostServer} from './harness';

// From test/mattermost/ under jest, or from lib/test/mattermost/ when compiled (npm run bench).
const PROJECT_ROOT = fs.existsSync(path.resolve(__dirname, '..', '..', 'plugin.json'))
  ? path.resolve(__dirname, '..', '..')
  : path.resolve(__dirname, '..', '..', '..');

function manifest(): {id: string; version: string} {
  return JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'plugin.json'), 'utf8')) as {id: string; version: string};
}

/** Where `npm run dist` writes the tarball. */
export function builtTarballPath(): string {
  const m = manifest();
  return path.join(PROJECT_ROOT, 'dist', `${m.id}-${m.version}.tar.gz`);
}

function newestMtime(dir: string, skip?: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== skip) newest = Math.max(newest, newestMtime(p, skip));
    } else if (/\.(tsx?|json|go|mod)$/.test(entry.name) && !/(\.test\.tsx?|_test\.go)$/.test(entry.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

export interface BuiltPlugin {
  tarball: string;
  mainJs: Buffer;
  version: string;
}

/**
 * The plugin as `npm run dist` leaves it: dist/<id>-<version>.tar.gz and webapp/dist/main.js, the
 * same bytes in both. When either is missing, out of date with webapp/src, common/ or plugin.json,
 * or the two disagree, `npm run dist` is run first.
 */
export function ensureBuiltPlugin(): BuiltPlugin {
  const {id, version} = manifest();
  const tarball = builtTarballPath();
  const mainJsPath = path.join(PROJECT_ROOT, 'webapp', 'dist', 'main.js');
  const inTarball = (): Buffer | null => {
    const r = spawnSync('tar', ['-xzOf', tarball, `${id}/webapp/dist/main.js`], {maxBuffer: 64 * 1024 * 1024});
    return r.status === 0 ? r.stdout : null;
  };
  const problem = (checkAge: boolean): string | null => {
    if (!fs.existsSync(tarball)) return `${tarball} is missing`;
    if (!fs.existsSync(mainJsPath)) return `${mainJsPath} is missing`;
    const built = Math.min(fs.statSync(tarball).mtimeMs, fs.statSync(mainJsPath).mtimeMs);
    const sources = Math.max(
      newestMtime(path.join(PROJECT_ROOT, 'webapp', 'src')),
      newestMtime(path.join(PROJECT_ROOT, 'common')),
      newestMtime(path.join(PROJECT_ROOT, 'server', 'plugin'), 'dist'),
      fs.statSync(path.join(PROJECT_ROOT, 'plugin.json')).mtimeMs,
    );
    if (checkAge && sources > built) return 'the sources are newer than the build';
    const packed = inTarball();
    if (packed === null || !packed.equals(fs.readFileSync(mainJsPath))) return 'the tarball does not hold webapp/dist/main.js';
    return null;
  };
  const before = problem(true);
  if (before !== null) {
    process.stdout.write(`plugin tests: ${before}; running npm run dist\n`);
    const r = spawnSync(process.execPath, ['-r', './build/ts-register.js', 'build/bundle.ts', 'dist'], {cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 900_000});
    if (r.status !== 0) throw new Error(`npm run dist failed:\n${r.stdout}\n${r.stderr}`);
    // webpack does not rewrite a main.js whose bytes did not change (a common/ edit the bundle does not
    // use), so right after a build only the tarball's copy of it tells whether the two agree.
    const after = problem(false);
    if (after !== null) throw new Error(`after npm run dist, ${after}`);
  }
  return {tarball, mainJs: fs.readFileSync(mainJsPath), version};
}

/** Uploads the tarball and enables the plugin through Mattermost's REST API, as an administrator does. */
export async function installPlugin(mm: MattermostServer, built: BuiltPlugin): Promise<void> {
  const api = (p: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${mm.url}${p}`, {...init, headers: {Authorization: `Bearer ${mm.adminToken}`, 'X-Requested-With': 'XMLHttpRequest', ...(init.headers ?? {})}});
  const form = new FormData();
  form.append('plugin', new Blob([new Uint8Array(fs.readFileSync(built.tarball))], {type: 'application/gzip'}), path.basename(built.tarball));
  form.append('force', 'true');
  const upload = await api('/api/v4/plugins', {method: 'POST', body: form});
  if (upload.status !== 201) throw new Error(`uploading ${built.tarball} answered ${upload.status}: ${await upload.text()}`);
  const enable = await api(`/api/v4/plugins/${PLUGIN_ID}/enable`, {method: 'POST'});
  if (enable.status !== 200) throw new Error(`enabling the plugin answered ${enable.status}: ${await enable.text()}`);
  await waitFor('the plugin to run', async () => {
    const statuses = (await (await api('/api/v4/plugins/statuses')).json()) as Array<{plugin_id: string; state: number}>;
    // 2 is PluginStateRunning.
    return statuses.some((s) => s.plugin_id === PLUGIN_ID && s.state === 2);
  });
}
