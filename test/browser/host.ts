/*
 * The files the browser answers `/` and `/__harness/` of Mattermost's origin with (harness.ts): index.html, the page's own script and styles, and
 * the libraries Mattermost 11's web app puts on `window` for plugins (webapp/channels/src/plugins/
 * export.ts), at the versions it ships (React 18.2.0, ReactDOM 18.2.0, Redux 5.0.1, react-redux
 * 9.2.0; docs/mattermost-platform.md §1, "React version the host ships").
 *
 * - React and ReactDOM: the UMD production builds from node_modules, as published.
 * - Redux and react-redux publish no browser global build since their 5 and 9 majors, so webpack
 *   bundles each package's own CommonJS production build into a script that assigns the global
 *   (window.Redux, window.ReactRedux), with React and ReactDOM taken from the page like any
 *   plugin bundle takes them.
 * - PropTypes: see propTypesShim() for why it is a stand-in.
 */
import fs from 'node:fs';
import path from 'node:path';

import webpack from 'webpack';

import {PROJECT_ROOT} from './paths';

/** What Mattermost 11 ships (monorepo webapp/channels/package.json at 11.3.0). */
export const HOST_VERSIONS = {
  react: '18.2.0',
  'react-dom': '18.2.0',
  redux: '5.0.1',
  'react-redux': '9.2.0',
  'prop-types': '15.8.1',
} as const;

/** What Mattermost sends with its pages (server/channels/web/handlers.go, FrameAncestors empty). */
export const MATTERMOST_PAGE_CSP = "frame-ancestors 'self' ; script-src 'self'";

/** The scripts index.html loads, in order, before the harness script. */
export const HOST_SCRIPTS = ['react.production.min.js', 'react-dom.production.min.js', 'prop-types.js', 'redux.js', 'react-redux.js'] as const;

function moduleDir(name: string): string {
  return path.join(PROJECT_ROOT, 'node_modules', name);
}

function installedVersion(name: string): string {
  const file = path.join(moduleDir(name), 'package.json');
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as {version: string}).version;
  } catch (err) {
    throw new Error(`Browser suite: ${name} is not installed (${(err as Error).message}); run npm ci.`, {cause: err});
  }
}

/** Throws unless node_modules holds exactly the versions Mattermost 11 ships. */
export function checkHostVersions(): void {
  const wrong: string[] = [];
  for (const name of ['react', 'react-dom', 'redux', 'react-redux'] as const) {
    const v = installedVersion(name);
    if (v !== HOST_VERSIONS[name]) wrong.push(`${name} ${v} (Mattermost 11 ships ${HOST_VERSIONS[name]})`);
  }
  if (wrong.length > 0) throw new Error(`Browser suite: the host libraries must be the versions Mattermost 11 ships: ${wrong.join(', ')}`);
}

/**
 * window.PropTypes as prop-types 15.8.1's production build defines it (factoryWithThrowingShims.js):
 * every validator is a no-op that only refuses to be called directly.
 *
 * Why a stand-in: prop-types is not in this project's node_modules (nothing depends on it, and the
 * suite must not install packages), and webpack cannot bundle what is not there. It changes nothing
 * the suite checks: Mattermost's own production page has exactly these no-op validators, and the
 * suite asserts that the plugin bundle never refers to PropTypes at all (dashboard.browser.test.ts,
 * "the page runs the built bundle…"), so the plugin cannot depend on it.
 */
export function propTypesShim(): string {
  return `/* window.PropTypes: stand-in with the behaviour of prop-types ${HOST_VERSIONS['prop-types']}'s production build; see test/browser/host.ts. */
(function () {
  'use strict';
  var SECRET = 'SECRET_DO_NOT_PASS_THIS_OR_YOU_WILL_BE_FIRED';
  function shim(props, propName, componentName, location, propFullName, secret) {
    if (secret === SECRET) return;
    var err = new Error('Calling PropTypes validators directly is not supported by the \`prop-types\` package. Use PropTypes.checkPropTypes() to call them.');
    err.name = 'Invariant Violation';
    throw err;
  }
  shim.isRequired = shim;
  function getShim() { return shim; }
  function noop() {}
  var PropTypes = {
    array: shim, bigint: shim, bool: shim, func: shim, number: shim, object: shim, string: shim, symbol: shim,
    any: shim, arrayOf: getShim, element: shim, elementType: shim, instanceOf: getShim, node: shim,
    objectOf: getShim, oneOf: getShim, oneOfType: getShim, shape: getShim, exact: getShim,
    checkPropTypes: noop, resetWarningCache: noop
  };
  PropTypes.PropTypes = PropTypes;
  window.PropTypes = PropTypes;
})();
`;
}

async function runWebpack(config: webpack.Configuration): Promise<void> {
  const compiler = webpack(config);
  if (compiler === null) throw new Error('webpack: no compiler');
  await new Promise<void>((resolve, reject) => {
    compiler.run((err, stats) => {
      compiler.close(() => undefined);
      if (err) return reject(err);
      if (stats?.hasErrors()) return reject(new Error(`webpack: ${stats.toString({all: false, errors: true, colors: false})}`));
      resolve();
    });
  });
}

/** Builds window.Redux and window.ReactRedux from the installed packages into `outDir`. */
export async function buildReduxGlobals(outDir: string): Promise<void> {
  const src = fs.mkdtempSync(path.join(outDir, '.src-'));
  fs.writeFileSync(path.join(src, 'redux.js'), `window.Redux = require('redux');\n`);
  fs.writeFileSync(path.join(src, 'react-redux.js'), `window.ReactRedux = require('react-redux');\n`);
  try {
    await runWebpack({
      mode: 'production',
      context: src,
      entry: {redux: './redux.js', 'react-redux': './react-redux.js'},
      target: ['web', 'es2020'],
      devtool: false,
      resolve: {modules: [path.join(PROJECT_ROOT, 'node_modules')]},
      // The page supplies these, as it does to plugins; react-redux must use the page's React.
      // (react-redux 9 does not import redux, so each script holds one package.)
      externals: {react: 'React', 'react-dom': 'ReactDOM'},
      output: {path: outDir, filename: '[name].js', iife: true},
      optimization: {splitChunks: false, runtimeChunk: false},
      performance: {hints: false},
    });
  } finally {
    fs.rmSync(src, {recursive: true, force: true});
  }
}

/** The page: the libraries first, then the harness script that loads the plugin from Mattermost. */
export function indexHtml(): string {
  const scripts = [...HOST_SCRIPTS, 'harness.js'].map((s) => `    <script src="/__harness/${s}"></script>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Egress Advisor - System Console (harness)</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/__harness/harness.css">
  </head>
  <body>
    <div id="harness-app">
      <nav class="hx-sidebar" aria-label="System Console">
        <div class="hx-sidebar__title">System Console</div>
        <div class="hx-sidebar__section">Plugins</div>
        <div class="hx-sidebar__item hx-sidebar__item--active">Egress Advisor</div>
      </nav>
      <main class="hx-main">
        <div class="hx-header" id="harness-title">Egress Advisor</div>
        <div class="hx-who" id="harness-who">Loading…</div>
        <div class="hx-content">
          <div class="hx-banner" id="harness-banner" hidden></div>
          <div class="hx-setting" id="harness-root"></div>
        </div>
      </main>
    </div>
${scripts}
  </body>
</html>
`;
}

export interface WebRoot {
  dir: string;
  /** The plugin bundle the page is expected to load (for comparing bytes). */
  files: string[];
}

/** Writes the whole web root (index.html and __harness/) into `dir`. */
export async function writeWebRoot(dir: string): Promise<WebRoot> {
  checkHostVersions();
  const assets = path.join(dir, '__harness');
  fs.mkdirSync(assets, {recursive: true});
  fs.copyFileSync(path.join(moduleDir('react'), 'umd', 'react.production.min.js'), path.join(assets, 'react.production.min.js'));
  fs.copyFileSync(path.join(moduleDir('react-dom'), 'umd', 'react-dom.production.min.js'), path.join(assets, 'react-dom.production.min.js'));
  fs.writeFileSync(path.join(assets, 'prop-types.js'), propTypesShim());
  await buildReduxGlobals(assets);
  const page = path.join(PROJECT_ROOT, 'test', 'browser', 'page');
  fs.copyFileSync(path.join(page, 'harness.js'), path.join(assets, 'harness.js'));
  fs.copyFileSync(path.join(page, 'harness.css'), path.join(assets, 'harness.css'));
  fs.writeFileSync(path.join(dir, 'index.html'), indexHtml());
  return {dir, files: fs.readdirSync(assets)};
}
