// Shared by the store's tests: temporary databases, observations, and child processes that load the
// TypeScript sources directly (the same transform jest uses), so a test can kill a real writer.
import {fork, type ChildProcess} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {Observation} from '../types';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'egress-store-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, {recursive: true, force: true});
}

export function obs(key: string, count: number, extra: Partial<Observation> = {}): Observation {
  return {
    key,
    destination: {host: null, ip: key.replace(/:\d+$/, ''), port: Number(/:(\d+)$/.exec(key)?.[1] ?? 443)},
    verdict: 'blocked',
    protocol: 'TLS',
    count,
    firstSeen: '2024-05-01T10:00:00.000Z',
    lastSeen: '2024-05-01T10:00:05.000Z',
    pods: ['mattermost-0'],
    samples: [`sample of ${key}`],
    ...extra,
  };
}

function hookSource(): string {
  const swc = JSON.stringify(require.resolve('@swc/core'));
  return `const swc = require(${swc});
const fs = require('node:fs');
require.extensions['.ts'] = function (module, filename) {
  const out = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: {target: 'es2022', parser: {syntax: 'typescript'}},
    module: {type: 'commonjs'},
  });
  module._compile(out.code, filename);
};
`;
}

/** Forks `node` on a TypeScript file with an IPC channel; the caller owns the child and must end it. */
export function forkTs(dir: string, file: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const hook = join(dir, 'ts-hook.js');
  writeFileSync(hook, hookSource());
  return fork(file, args, {execArgv: ['-r', hook], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], ...(env === undefined ? {} : {env})});
}

export function exited(child: ChildProcess): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({code: child.exitCode, signal: child.signalCode});
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({code, signal})));
}
