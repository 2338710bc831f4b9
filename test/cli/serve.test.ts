// `egress-advisor serve` as an orchestrator runs it (the compiled command, `npm run build` first): a wrong
// setting ends it with one line and exit code 2; a damaged store with what to do and exit code 3; a promise
// nobody handled with a log line and exit code 70; and what it creates on disk is its user's alone.
import {spawn, spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync, closeSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {openSqliteStore} from '../../server/store/sqlite';
import {freePort, waitFor} from '../bridge/helpers';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'egress-advisor.js');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'egress-serve-'));
});
afterEach(() => rmSync(dir, {recursive: true, force: true}));

function serve(env: Record<string, string>): {status: number | null; stderr: string} {
  const logFile = join(dir, 'proxy.log');
  writeFileSync(logFile, '');
  const r = spawnSync(process.execPath, [BIN, 'serve'], {
    env: {
      PATH: process.env.PATH,
      EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'),
      EGRESS_ADVISOR_SOURCES: `file:${logFile}`,
      EGRESS_ADVISOR_LISTEN: '127.0.0.1:0',
      ...env,
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return {status: r.status, stderr: r.stderr};
}

describe('a wrong setting: one line naming it, its value and an example, exit code 2', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      {MATTERMOST_URL: '127.0.0.1:8065', MATTERMOST_TOKEN: 'abcdefghijklmnopqrstuvwxyz'},
      /^egress-advisor: MATTERMOST_URL="127\.0\.0\.1:8065" is not an http:\/\/ or https:\/\/ URL; for example MATTERMOST_URL=http:\/\/\S+$/,
    ],
    [{EGRESS_ADVISOR_LISTEN: '8080'}, /^egress-advisor: EGRESS_ADVISOR_LISTEN="8080" is not host:port; for example EGRESS_ADVISOR_LISTEN=0\.0\.0\.0:8080$/],
    [
      {EGRESS_ADVISOR_DIGEST_SECONDS: '30s'},
      /^egress-advisor: EGRESS_ADVISOR_DIGEST_SECONDS="30s" is not a number of seconds, 0 or more; for example EGRESS_ADVISOR_DIGEST_SECONDS=30$/,
    ],
    [
      {EGRESS_ADVISOR_CHANNEL: 'Egress Advisor'},
      /^egress-advisor: EGRESS_ADVISOR_CHANNEL="Egress Advisor" is not a Mattermost channel name .*; for example EGRESS_ADVISOR_CHANNEL=egress-advisor$/,
    ],
    [{LOG_LEVEL: 'verbose'}, /^egress-advisor: LOG_LEVEL="verbose" is not one of .*; for example LOG_LEVEL=info$/],
    [
      {EGRESS_ADVISOR_DATABASE_URL: 'mysql://u:hunter2@db/x'},
      /^egress-advisor: EGRESS_ADVISOR_DATABASE_URL="db\/x" is not a postgres:\/\/ or postgresql:\/\/ URL; for example /,
    ],
    [
      {EGRESS_ADVISOR_VALUES_FILE: '/nonexistent/values.yaml'},
      /^egress-advisor: EGRESS_ADVISOR_VALUES_FILE="\/nonexistent\/values\.yaml" cannot be read \(ENOENT\); for example /,
    ],
  ];
  test.each(cases)('%j', (env, message) => {
    const r = serve(env);
    expect(r.status).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    // A password in a database URL is never repeated.
    expect(r.stderr).not.toContain('hunter2');
  });

  test('a token that is not one is refused without being shown', () => {
    const r = serve({MATTERMOST_URL: 'http://127.0.0.1:8065', MATTERMOST_TOKEN: 'secret token with spaces'});
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^egress-advisor: MATTERMOST_TOKEN \(24 characters, not shown\)/);
    expect(r.stderr).not.toContain('secret token');
  });
});

describe('a damaged store is refused with what to do, exit code 3', () => {
  async function damagedAt(offset: number): Promise<void> {
    const path = join(dir, 'data', 'egress-advisor.db');
    mkdirSync(join(dir, 'data'));
    const store = openSqliteStore(path);
    for (let i = 0; i < 200; i++) await store.setMeta(`filler-${i}`, 'x'.repeat(500));
    await store.close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, offset);
    closeSync(fd);
  }

  test.each([
    ['its header', 0],
    ['a page after the header', 4096],
  ])('damaged in %s', async (_what, offset) => {
    await damagedAt(offset);
    const r = serve({});
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/egress-advisor: the store .*egress-advisor\.db is damaged \(.+\)\. Stop the bridge, move .* aside .*start again/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

test('a promise nobody handled ends the bridge with a log line and exit code 70', () => {
  const preload = join(dir, 'reject-later.js');
  writeFileSync(preload, "setTimeout(() => { Promise.reject(new Error('planted rejection')); }, 1500);\n");
  const r = spawnSync(process.execPath, ['--require', preload, BIN, 'serve'], {
    env: {PATH: process.env.PATH, EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'), EGRESS_ADVISOR_SOURCES: `file:${preload}`, EGRESS_ADVISOR_LISTEN: '127.0.0.1:0'},
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status).toBe(70);
  const fatal = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as {level: number; msg: string; err?: {message: string}})
    .find((l) => l.level === 60);
  expect(fatal?.msg).toMatch(/unhandled promise rejection: the bridge ends \(exit 70\)/);
  expect(fatal?.err?.message).toBe('planted rejection');
});

test('a SIGTERM that arrives while the bridge is starting stops it cleanly once it has started', () => {
  // The preload sends the signal from inside the process just before the HTTP server listens: after the
  // configuration is read, before the banner. Killed by the signal, the status would be null.
  const preload = join(dir, 'term-before-listen.js');
  writeFileSync(
    preload,
    "const net = require('node:net');\n" +
      'const listen = net.Server.prototype.listen;\n' +
      'let sent = false;\n' +
      "net.Server.prototype.listen = function (...args) { if (!sent) { sent = true; process.kill(process.pid, 'SIGTERM'); } return listen.apply(this, args); };\n",
  );
  const logFile = join(dir, 'proxy.log');
  writeFileSync(logFile, '');
  const r = spawnSync(process.execPath, ['--require', preload, BIN, 'serve'], {
    env: {PATH: process.env.PATH, EGRESS_ADVISOR_DATA_DIR: join(dir, 'data'), EGRESS_ADVISOR_SOURCES: `file:${logFile}`, EGRESS_ADVISOR_LISTEN: '127.0.0.1:0'},
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.signal).toBeNull();
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/"signal":"SIGTERM".*"msg":"stopping"/);
});

test('the data folder is 0700 and the database files 0600, even where they existed more open', async () => {
  const data = join(dir, 'data');
  const port = await freePort();
  const logFile = join(dir, 'proxy.log');
  writeFileSync(logFile, '');
  const run = async (): Promise<void> => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: {PATH: process.env.PATH, EGRESS_ADVISOR_DATA_DIR: data, EGRESS_ADVISOR_SOURCES: `file:${logFile}`, EGRESS_ADVISOR_LISTEN: `127.0.0.1:${port}`},
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await waitFor('the bridge to answer', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  };
  await run();
  const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
  expect(mode(data)).toBe('700');
  expect(mode(join(data, 'egress-advisor.db'))).toBe('600');
  // An older release left them open to everyone: the next start closes them.
  spawnSync('chmod', ['0755', data]);
  spawnSync('chmod', ['0644', join(data, 'egress-advisor.db')]);
  await run();
  expect(mode(data)).toBe('700');
  expect(mode(join(data, 'egress-advisor.db'))).toBe('600');
}, 60_000);
