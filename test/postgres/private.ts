// A PostgreSQL server of a test's own (initdb + pg_ctl from the machine's installation, on a free port and
// in a temporary folder), so that a test can stop, restart or kill it without disturbing any other test
// that uses the machine's shared server. As root, the server runs as the `postgres` user (initdb refuses
// root). Fails loudly when no installation is found.
import {execFileSync} from 'node:child_process';
import {chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {freePort} from '../bridge/helpers';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))) : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL installation under ${root} (apt-get install postgresql)`);
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

export interface PrivatePostgres {
  url: string;
  port: number;
  /** The server's own log, for a failing test's message. */
  logTail(lines?: number): string;
  /** A fast shutdown (connections are cut) and a start on the same port and data. */
  restart(): void;
  stopServer(): void;
  startServer(): void;
  /** Stops the server and removes its folder. */
  destroy(): void;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'egress-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const {uid, gid} = userIds('postgres');
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]): void => {
    const cmd = join(bin, tool);
    if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], {stdio: 'pipe', cwd: dir});
    else execFileSync(cmd, args, {stdio: 'pipe', cwd: dir});
  };
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const start = (): void => run('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
  const stop = (): void => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    logTail: (n = 20) => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-n).join('\n') : ''),
    restart: () => {
      stop();
      start();
    },
    stopServer: stop,
    startServer: start,
    destroy: () => {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, {recursive: true, force: true});
    },
  };
}

function userIds(name: string): {uid: number; gid: number} {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (line === undefined) throw new Error(`no user ${name} to run PostgreSQL as`);
  const [, , uid, gid] = line.split(':');
  return {uid: Number(uid), gid: Number(gid)};
}
