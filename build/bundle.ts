/*
 * Builds the plugin and packs it the way Mattermost installs it.
 *
 *   node -r ./build/ts-register.js build/bundle.ts webapp   webpack → webapp/dist/main.js, prints its size
 *   node -r ./build/ts-register.js build/bundle.ts dist     the above, the Go server half for every platform
 *                                                            in plugin.json (needs Go), then dist/<id>-<version>.tar.gz
 *
 * The tarball holds one top-level directory named after the plugin id, with plugin.json,
 * webapp/dist/main.js and server/dist/plugin-<os>-<arch> in it (the layout of the starter template's
 * `make dist`). Only `dist` needs Go: `npm ci` builds the webapp and the bridge, not the server half.
 */
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {gzipSync} from 'node:zlib';

import {validateManifest, type PluginManifest} from './manifest';
import {parentDirectories, tarGz, type TarEntry} from './tar';

const ROOT = path.resolve(__dirname, '..');

/** Upper bound for the gzipped bundle; every user downloads it on every new build. */
export const MAX_GZIP_BYTES = 60 * 1024;

export interface BundleSize {
  raw: number;
  gzip: number;
}

export function measure(bytes: Buffer): BundleSize {
  return {raw: bytes.length, gzip: gzipSync(bytes, {level: 9}).length};
}

function kib(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB`;
}

export function readManifest(root = ROOT): {manifest: PluginManifest; text: string} {
  const text = fs.readFileSync(path.join(root, 'plugin.json'), 'utf8');
  return {manifest: JSON.parse(text) as PluginManifest, text};
}

/** Reasons not to pack: an invalid manifest, or a version that differs from package.json's. */
export function manifestProblems(manifest: PluginManifest, packageVersion: string): string[] {
  const problems = validateManifest(manifest);
  if (manifest.version !== packageVersion) problems.push(`plugin.json version ${manifest.version} differs from package.json version ${packageVersion}`);
  return problems;
}

export function tarballName(manifest: PluginManifest): string {
  return `${manifest.id}-${manifest.version}.tar.gz`;
}

/** The server half's binaries plugin.json names, by platform ("linux-amd64" → "server/dist/plugin-linux-amd64"). */
export function serverExecutables(manifest: PluginManifest): Record<string, string> {
  return manifest.server?.executables ?? {};
}

/** What goes into the tarball, directories first, all under `<id>/`; the server binaries executable. */
export function bundleEntries(manifest: PluginManifest, manifestText: string, mainJs: Buffer, executables: Record<string, Buffer> = {}): TarEntry[] {
  const bundlePath = manifest.webapp?.bundle_path;
  if (bundlePath === undefined) throw new Error('plugin.json has no webapp.bundle_path');
  const files: TarEntry[] = [
    {name: `${manifest.id}/plugin.json`, data: Buffer.from(manifestText, 'utf8')},
    {name: `${manifest.id}/${bundlePath}`, data: mainJs},
  ];
  for (const [platform, rel] of Object.entries(serverExecutables(manifest))) {
    const data = executables[platform];
    if (data === undefined) throw new Error(`no server binary was built for ${platform}`);
    files.push({name: `${manifest.id}/${rel}`, data, mode: 0o755});
  }
  return [...parentDirectories(files.map((f) => f.name)).map((name) => ({name})), ...files];
}

/**
 * Cross-compiles the server half (server/plugin) for each platform plugin.json names, without cgo so the
 * binaries run on any Linux, and returns their bytes by platform.
 */
export function buildServer(manifest: PluginManifest, root = ROOT): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const moduleDir = path.join(root, 'server', 'plugin');
  for (const [platform, rel] of Object.entries(serverExecutables(manifest))) {
    const [goos, goarch] = platform.split('-');
    const dest = path.join(moduleDir, 'dist', path.basename(rel));
    const r = spawnSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', dest, '.'], {
      cwd: moduleDir,
      encoding: 'utf8',
      env: {...process.env, CGO_ENABLED: '0', GOOS: goos, GOARCH: goarch},
    });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error("npm run dist needs Go (https://go.dev/dl/) to build the plugin's server half (server/plugin); npm start does not.");
    }
    if (r.status !== 0) throw new Error(`go build for ${platform} failed:\n${r.stderr}`);
    out[platform] = fs.readFileSync(dest);
    console.log(`${path.relative(root, dest)}: ${out[platform].length} bytes (${platform})`);
  }
  return out;
}

async function runWebpack(outDir: string): Promise<void> {
  // Loaded here so that the pure helpers above can be imported without webpack.
  const webpack = require('webpack') as typeof import('webpack');
  const configFn = require(path.join(ROOT, 'webapp', 'webpack.config.js')) as (
    env: {outputPath: string},
    argv: {mode: string},
  ) => import('webpack').Configuration;
  const config = configFn({outputPath: outDir}, {mode: 'production'});
  await new Promise<void>((resolve, reject) => {
    webpack(config, (err, stats) => {
      if (err) return reject(err);
      if (stats === undefined) return reject(new Error('webpack returned no stats'));
      const info = stats.toJson({all: false, errors: true, warnings: true});
      for (const w of info.warnings ?? []) console.warn(`webpack warning: ${w.message}`);
      if (stats.hasErrors()) return reject(new Error((info.errors ?? []).map((e) => e.message).join('\n\n')));
      resolve();
    });
  });
}

/** Builds main.js into `outDir` (default webapp/dist) and returns its bytes. */
export async function buildWebapp(outDir = path.join(ROOT, 'webapp', 'dist')): Promise<Buffer> {
  await runWebpack(outDir);
  const out = path.join(outDir, 'main.js');
  const bytes = fs.readFileSync(out);
  const size = measure(bytes);
  console.log(
    `${path.relative(ROOT, out)}: ${size.raw} bytes (${kib(size.raw)}), gzipped ${size.gzip} bytes (${kib(size.gzip)}; limit ${kib(MAX_GZIP_BYTES)})`,
  );
  if (size.gzip > MAX_GZIP_BYTES) throw new Error(`the gzipped bundle is ${kib(size.gzip)}, over the ${kib(MAX_GZIP_BYTES)} limit`);
  const chunks = fs.readdirSync(path.dirname(out)).filter((f) => f.endsWith('.js') && f !== 'main.js');
  if (chunks.length > 0) throw new Error(`webpack split the bundle (${chunks.join(', ')}); Mattermost serves main.js only`);
  return bytes;
}

export async function buildDist(): Promise<string> {
  const {manifest, text} = readManifest();
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {version: string};
  const problems = manifestProblems(manifest, pkg.version);
  if (problems.length > 0) throw new Error(`plugin.json:\n- ${problems.join('\n- ')}`);
  const mainJs = await buildWebapp();
  const executables = buildServer(manifest);
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const mtime = Number.isInteger(epoch) && epoch > 0 ? epoch : Math.floor(Date.now() / 1000);
  const archive = tarGz(bundleEntries(manifest, text, mainJs, executables), mtime);
  const dest = path.join(ROOT, 'dist', tarballName(manifest));
  fs.mkdirSync(path.dirname(dest), {recursive: true});
  fs.writeFileSync(dest, archive);
  console.log(`${path.relative(ROOT, dest)}: ${archive.length} bytes`);
  return dest;
}

async function main(argv: readonly string[]): Promise<void> {
  const command = argv[0];
  if (command === 'webapp') await buildWebapp();
  else if (command === 'dist') await buildDist();
  else throw new Error('usage: bundle.ts webapp|dist');
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
