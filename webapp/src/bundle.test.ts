/**
 * @jest-environment node
 */
// The packaging: the tar writer read back by the system's tar, the tarball layout, and the real
// webpack bundle loaded the way Mattermost loads it (a script in a page whose window carries the
// host's React and Redux).
import {execFileSync} from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

import {JSDOM} from 'jsdom';
import React from 'react';
import {renderToStaticMarkup} from 'react-dom/server';

import {bundleEntries, buildWebapp, manifestProblems, MAX_GZIP_BYTES, measure, readManifest, tarballName} from '../../build/bundle';
import {parentDirectories, tarGz} from '../../build/tar';

const root = path.resolve(__dirname, '..', '..');

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-bundle-'));
  try {
    return fn(dir);
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

describe('tar writer', () => {
  test('the system tar lists and extracts what it wrote', () => {
    const js = Buffer.from('console.log("x");\n'.repeat(100));
    const archive = tarGz(
      [
        {name: 'p/'},
        {name: 'p/webapp/'},
        {name: 'p/plugin.json', data: Buffer.from('{"id":"p"}')},
        {name: 'p/webapp/main.js', data: js},
        {name: 'p/empty.txt', data: Buffer.alloc(0)},
      ],
      1_700_000_000,
    );
    withTempDir((dir) => {
      const file = path.join(dir, 'a.tar.gz');
      fs.writeFileSync(file, archive);
      const listing = execFileSync('tar', ['-tzvf', file], {encoding: 'utf8'});
      expect(
        listing
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/).pop()),
      ).toEqual(['p/', 'p/webapp/', 'p/plugin.json', 'p/webapp/main.js', 'p/empty.txt']);
      expect(listing).toMatch(/^drwxr-xr-x/m);
      expect(listing).toMatch(/^-rw-r--r--/m);
      execFileSync('tar', ['-xzf', file, '-C', dir]);
      expect(fs.readFileSync(path.join(dir, 'p/webapp/main.js'))).toEqual(js);
      expect(fs.readFileSync(path.join(dir, 'p/plugin.json'), 'utf8')).toBe('{"id":"p"}');
      expect(fs.statSync(path.join(dir, 'p/plugin.json')).mtimeMs).toBe(1_700_000_000_000);
    });
  });

  test('long names go through the ustar prefix field', () => {
    const long = `${'d'.repeat(80)}/${'e'.repeat(60)}/file.js`;
    withTempDir((dir) => {
      const file = path.join(dir, 'b.tar.gz');
      fs.writeFileSync(file, tarGz([{name: long, data: Buffer.from('ok')}], 0));
      expect(execFileSync('tar', ['-tzf', file], {encoding: 'utf8'}).trim()).toBe(long);
    });
  });

  test('the same input gives the same bytes', () => {
    const entries = [{name: 'a/'}, {name: 'a/b', data: Buffer.from('b')}];
    expect(tarGz(entries, 5).equals(tarGz(entries, 5))).toBe(true);
  });

  test('refuses names that would leave the directory', () => {
    expect(() => tarGz([{name: '../x', data: Buffer.from('')}], 0)).toThrow(/unsafe/);
    expect(() => tarGz([{name: '/etc/x', data: Buffer.from('')}], 0)).toThrow(/unsafe/);
  });

  test('parent directories come once each, parents first', () => {
    expect(parentDirectories(['a/b/c.txt', 'a/d.txt', 'a/b/e/f'])).toEqual(['a/', 'a/b/', 'a/b/e/']);
  });
});

describe('plugin tarball layout', () => {
  test('one top-level directory named after the id, with plugin.json, the bundle and the executable server binaries', () => {
    const {manifest, text} = readManifest(root);
    const binaries = {'linux-amd64': Buffer.from('amd64'), 'linux-arm64': Buffer.from('arm64')};
    const entries = bundleEntries(manifest, text, Buffer.from('bundle'), binaries);
    expect(entries.map((e) => e.name)).toEqual([
      'egress-advisor/',
      'egress-advisor/webapp/',
      'egress-advisor/webapp/dist/',
      'egress-advisor/server/',
      'egress-advisor/server/dist/',
      'egress-advisor/plugin.json',
      'egress-advisor/webapp/dist/main.js',
      'egress-advisor/server/dist/plugin-linux-amd64',
      'egress-advisor/server/dist/plugin-linux-arm64',
    ]);
    expect(tarballName(manifest)).toBe(`egress-advisor-${manifest.version}.tar.gz`);
    expect(entries[5].data?.toString('utf8')).toBe(text);
    expect(entries[7]).toMatchObject({mode: 0o755, data: binaries['linux-amd64']});
    expect(() => bundleEntries(manifest, text, Buffer.from('bundle'))).toThrow(/no server binary was built for linux-amd64/);
  });

  test('packing refuses a manifest whose version differs from package.json', () => {
    const {manifest} = readManifest(root);
    expect(manifestProblems(manifest, manifest.version)).toEqual([]);
    expect(manifestProblems(manifest, '9.9.9')).toEqual([expect.stringContaining('differs from package.json version 9.9.9')]);
  });
});

describe('the built bundle', () => {
  let mainJs = '';
  let outDir = '';

  beforeAll(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-webapp-'));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      mainJs = (await buildWebapp(outDir)).toString('utf8');
    } finally {
      log.mockRestore();
    }
  }, 180_000);

  afterAll(() => {
    if (outDir !== '') fs.rmSync(outDir, {recursive: true, force: true});
  });

  test('is one small file', () => {
    const size = measure(Buffer.from(mainJs));
    expect(size.gzip).toBeLessThan(MAX_GZIP_BYTES);
    expect(fs.readdirSync(outDir)).toEqual(['main.js']);
  });

  test('uses the host React through React.createElement and no React 18-only API', () => {
    expect(mainJs).not.toMatch(/jsx-runtime|jsxs?\(/);
    expect(mainJs).not.toMatch(/\b(createRoot|hydrateRoot|useId|useSyncExternalStore|useTransition|useDeferredValue|useInsertionEffect)\b/);
    expect(mainJs).toContain('createElement');
    // React and react-redux come from the page, not from the bundle.
    expect(mainJs).not.toContain('react.production');
    expect(mainJs).not.toContain('__SECRET_INTERNALS');
    // The settings schema is not shipped to browsers.
    expect(mainJs).not.toContain('settings_schema');
  });

  test('registers itself when loaded into a page with the host globals, and its components render', () => {
    const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', {runScripts: 'outside-only', url: 'https://chat.example.com/'});
    const win = dom.window as unknown as Record<string, unknown> & {eval: (code: string) => unknown};
    const registered: Array<[string, {initialize: (r: unknown, s: unknown) => void; uninitialize: () => void}]> = [];
    Object.assign(win, {
      React,
      ReactDOM: require('react-dom'),
      Redux: require('redux'),
      ReactRedux: require('react-redux'),
      registerPlugin: (id: string, plugin: (typeof registered)[number][1]) => registered.push([id, plugin]),
    });
    win.eval(mainJs);
    expect(registered.map(([id]) => id)).toEqual(['egress-advisor']);

    const settings: Record<string, unknown> = {};
    const postTypes: Record<string, React.ComponentType<Record<string, unknown>>> = {};
    const reducers: unknown[] = [];
    const registry = {
      registerAdminConsoleCustomSetting: (key: string, component: unknown) => {
        settings[key] = component;
      },
      registerPostTypeComponent: (type: string, component: React.ComponentType<Record<string, unknown>>) => {
        postTypes[type] = component;
        return 'id1';
      },
      registerReducer: (r: unknown) => reducers.push(r),
    };
    const {legacy_createStore: createStore} = require('redux') as typeof import('redux');
    const store = createStore(() => ({entities: {general: {config: {SiteURL: 'https://chat.example.com'}}, users: {currentUserId: 'u', profiles: {}}}}));
    registered[0][1].initialize(registry, store);
    expect(Object.keys(settings)).toEqual(['Dashboard']);
    expect(Object.keys(postTypes)).toEqual(['custom_egress_alert']);
    expect(reducers).toHaveLength(1);
    expect(dom.window.document.getElementById('egress-advisor-styles')).not.toBeNull();

    const {Provider} = require('react-redux') as typeof import('react-redux');
    const html = renderToStaticMarkup(
      React.createElement(Provider, {
        store,
        children: React.createElement(postTypes.custom_egress_alert, {post: {id: 'p1', message: 'plain alert text', props: {}}}),
      }),
    );
    expect(html).toContain('plain alert text');
    registered[0][1].uninitialize();
    expect(dom.window.document.getElementById('egress-advisor-styles')).toBeNull();
  });
});
