// The fault scenarios of `npm run faults`: each runs the compiled bridge through one fault and returns what it
// measured. A figure that was not measured is null with the reason, never 0: 0 is a measurement. The jest
// suite test/bridge/faults.integration.test.ts runs the same scenarios smaller and asserts the zeros.
import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Database from 'better-sqlite3';
import {blockedTls, freePort, waitFor} from '../bridge/helpers';
import {startPrivatePostgres} from '../postgres/private';
import {appendLines, BridgeProcess, compare, postgresCounts, sqliteCounts, sum, type Counts} from './bridge-process';

export type Figure = number | string | {none: string};

export interface Figures {
  scenario: string;
  rows: [string, Figure][];
}

const DB = 'egress-advisor.db';

interface Home {
  dir: string;
  logFile: string;
  dataDir: string;
  bridge: BridgeProcess;
  appended: Counts;
}

async function home(name: string, env: Record<string, string> = {}, dataDir?: string): Promise<Home> {
  const dir = mkdtempSync(join(tmpdir(), `egress-faults-${name}-`));
  const logFile = join(dir, 'istio-proxy.log');
  writeFileSync(logFile, '');
  const data = dataDir ?? join(dir, 'data');
  const bridge = new BridgeProcess(
    {EGRESS_ADVISOR_DATA_DIR: data, EGRESS_ADVISOR_SOURCES: `file:${logFile}`, EGRESS_ADVISOR_DIGEST_SECONDS: '1', ...env},
    await freePort(),
    join(dir, 'bridge.log'),
  );
  return {dir, logFile, dataDir: data, bridge, appended: new Map()};
}

/** `n` blocked lines over `hosts` destinations named by `tag`, so that every run's lines are told apart. */
function lines(tag: string, n: number, hosts: number): {key: string; line: string}[] {
  return Array.from({length: n}, (_, i) => {
    const n = i % hosts;
    const host = `${tag}-${n}.faults.example.com`;
    return {key: `${host}:443`, line: blockedTls(`198.51.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`, 443, host)};
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, probe: () => boolean | Promise<boolean>, h: Home, timeoutMs = 120_000): Promise<number> {
  const t0 = Date.now();
  await waitFor(what, async () => (await probe()) || null, {timeoutMs, intervalMs: 50, context: () => h.bridge.logTail()});
  return Date.now() - t0;
}

/**
 * kill -9 while a burst is being ingested, `rounds` times, each followed by a start: lines lost and counted
 * twice over every line appended, and how long each restart took to count everything.
 */
export async function killDuringIngest(rounds: number, linesPerRound = 20_000): Promise<Figures> {
  const h = await home('kill9');
  const db = join(h.dataDir, DB);
  const recover: number[] = [];
  let midIngest = 0;
  try {
    await h.bridge.start();
    for (let r = 0; r < rounds; r++) {
      appendLines(h.logFile, h.appended, lines(`k${r}`, linesPerRound, 40));
      // Somewhere inside the burst: the source reads and commits batches meanwhile.
      await sleep(50 + Math.floor(Math.random() * 400));
      const before = sum(safeCounts(db));
      await h.bridge.kill9();
      if (before < sum(h.appended)) midIngest += 1;
      await h.bridge.start();
      recover.push(await until('every line counted after the restart', () => sum(safeCounts(db)) >= sum(h.appended), h));
    }
    // Nothing more arrives later either: a line counted twice would show up now.
    await sleep(1_500);
    const c = compare(h.appended, safeCounts(db));
    return {
      scenario: `kill -9 during ingest (SQLite), ${rounds} times`,
      rows: [
        ['lines in', c.lines],
        ['lines counted', c.counted],
        ['lines lost', c.lost],
        ['lines counted twice', c.twice],
        ['findings', safeCounts(db).size],
        ['kills that hit a burst mid-ingest', `${midIngest} of ${rounds}`],
        ['restarts', h.bridge.starts - 1],
        ['time to count everything after a restart', `median ${median(recover)} ms, max ${Math.max(...recover)} ms`],
        ['peak RSS of the bridge', mib(h.bridge.peakRssBytes)],
      ],
    };
  } finally {
    await h.bridge.stop();
    rmSync(h.dir, {recursive: true, force: true});
  }
}

/** The store file may be mid-checkpoint or not created yet right after a start: read it as empty then. */
export function safeCounts(db: string): Counts {
  try {
    return sqliteCounts(db);
  } catch {
    return new Map();
  }
}

/** A private PostgreSQL restarted in the middle of ingest. */
export async function postgresRestart(): Promise<Figures> {
  const pg = await startPrivatePostgres();
  const h = await home('pg', {EGRESS_ADVISOR_DATABASE_URL: pg.url});
  const count = async (): Promise<Counts> => postgresCounts(pg.url).catch(() => new Map());
  try {
    await h.bridge.start();
    appendLines(h.logFile, h.appended, lines('p0', 5_000, 30));
    await until('the first burst counted', async () => sum(await count()) >= sum(h.appended), h);
    appendLines(h.logFile, h.appended, lines('p1', 20_000, 30));
    await sleep(100);
    const t0 = Date.now();
    pg.restart();
    const downMs = Date.now() - t0;
    appendLines(h.logFile, h.appended, lines('p2', 5_000, 30));
    const recoverMs = await until('every line counted after the restart', async () => sum(await count()) >= sum(h.appended), h);
    await sleep(1_500);
    const c = compare(h.appended, await count());
    return {
      scenario: 'PostgreSQL restarted mid-ingest (pg_ctl stop -m fast, start)',
      rows: [
        ['lines in', c.lines],
        ['lines counted', c.counted],
        ['lines lost', c.lost],
        ['lines counted twice', c.twice],
        ['findings', (await count()).size],
        ['source restarts (egress_advisor_source_restarts_total)', (await h.bridge.metric('egress_advisor_source_restarts_total')) ?? {none: 'metric absent'}],
        ['PostgreSQL down for', `${downMs} ms`],
        ['time to count everything once it was back', `${recoverMs} ms`],
      ],
    };
  } finally {
    await h.bridge.stop();
    pg.destroy();
    rmSync(h.dir, {recursive: true, force: true});
  }
}

/**
 * The data folder on a small tmpfs that fills up, then grows (mount -o remount,size=…): the error the bridge
 * shows, whether it stays alive, and whether it loses, doubles or damages anything. Needs root to mount.
 */
export async function fullDisk(): Promise<Figures> {
  const scenario = 'a full disk under the SQLite data folder (a 4 MiB tmpfs, then grown to 64 MiB)';
  if (process.getuid?.() !== 0) return {scenario, rows: [['everything', {none: 'needs root to mount a tmpfs; not run'}]]};
  const dir = mkdtempSync(join(tmpdir(), 'egress-faults-disk-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', data]);
  const h = await home('disk', {}, data);
  const db = join(data, DB);
  try {
    await h.bridge.start();
    // Many destinations, each a row with samples: far more than 3 MiB of store.
    appendLines(h.logFile, h.appended, lines('d0', 30_000, 15_000));
    let error = '';
    await until(
      'the bridge to say the store cannot be written',
      async () => {
        const r = await h.bridge.readyz();
        error = r.body.reasons.join('; ');
        return r.status === 503 && error !== '';
      },
      h,
    );
    const alive = (await fetch(`${h.bridge.url}/healthz`)).status;
    const countedWhileFull = sum(safeCounts(db));
    execFileSync('mount', ['-o', 'remount,size=64m', data]);
    const t0 = Date.now();
    await until('every line counted once space is back', () => sum(safeCounts(db)) >= sum(h.appended), h, 180_000);
    const recoverMs = Date.now() - t0;
    await until('ready again', async () => (await h.bridge.readyz()).status === 200, h);
    await sleep(1_500);
    const c = compare(h.appended, safeCounts(db));
    const restarts = await h.bridge.metric('egress_advisor_source_restarts_total');
    await h.bridge.stop();
    const check = new Database(db, {readonly: true});
    const quick = String(check.pragma('quick_check', {simple: true}));
    check.close();
    return {
      scenario,
      rows: [
        ['lines in', c.lines],
        ['lines counted while the disk was full', countedWhileFull],
        ['what /readyz said', error],
        ['/healthz while full', alive],
        ['lines counted in the end', c.counted],
        ['lines lost', c.lost],
        ['lines counted twice', c.twice],
        ['source restarts', restarts ?? {none: 'metric absent'}],
        ['time to count everything once space was back', `${recoverMs} ms`],
        ['SQLite quick_check afterwards', quick],
      ],
    };
  } finally {
    await h.bridge.stop();
    try {
      execFileSync('umount', [data]);
    } catch {
      // not mounted
    }
    rmSync(h.dir, {recursive: true, force: true});
    rmSync(dir, {recursive: true, force: true});
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export function mib(bytes: number): Figure {
  return bytes > 0 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : {none: 'not sampled'};
}

export {home, lines, until, type Home};
