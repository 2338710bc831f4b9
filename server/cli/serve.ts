// `egress-advisor serve`: the bridge as a long-running service.
import {ConfigError, describeConfig, loadConfig, type SourceSpec} from '../bridge/config';
import type {Logger} from 'pino';
import {startBridge, type Bridge} from '../bridge/service';
import {SchemaTooNewError, StoreDamagedError} from '../store/errors';
import {createBridgeLogger} from '../http';
import type {CliIo} from './scan';

function describeSource(s: SourceSpec): string {
  if (s.kind === 'stdin') return 'stdin';
  if (s.kind === 'kubernetes') return `the istio-proxy and mattermost logs of pods ${s.selector} in ${s.namespace ?? 'the current namespace'}`;
  return `${s.path} (${s.log === 'app' ? "Mattermost's log" : 'istio-proxy'})`;
}

/** Exit codes of `serve`: what the orchestrator (and the person reading its events) is told. */
export const SERVE_EXIT = {
  stopped: 0,
  /** A setting is wrong: the message names it, its value and an example. */
  config: 2,
  /** The store cannot be used as it is (damaged, written by a newer release): the message says what to do. */
  store: 3,
  /** An error the bridge did not expect: it logged it and ends, so that it is started afresh. */
  internal: 70,
} as const;

/** A promise nobody handled, or an exception nobody caught, leaves the process in an unknown state. */
function exitOnUnexpected(log: Logger): void {
  const fatal = (what: string) => (err: unknown) => {
    log.fatal(
      {err: err instanceof Error ? {message: err.message, stack: err.stack} : String(err)},
      `${what}: the bridge ends (exit ${SERVE_EXIT.internal}) to be started afresh`,
    );
    process.exit(SERVE_EXIT.internal);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
}

/** The first word from Mattermost, for the banner: up to a few seconds, then whatever is known. */
async function mattermostLine(bridge: Bridge): Promise<string> {
  const link = bridge.link;
  if (link === null) return '';
  await Promise.race([link.connect(), new Promise((r) => setTimeout(r, 10_000).unref())]);
  const out = link.outbound;
  if (link.problem !== null) return `  Mattermost: NOT WORKING: ${link.problem}\n`;
  if (out.state === 'up')
    return `  Mattermost: ${out.url} as ${out.identity?.username ?? 'unknown'}${out.serverVersion ? ` (server ${out.serverVersion})` : ''}\n`;
  return `  Mattermost: not reachable yet (${out.error ?? 'no answer'}); alerts wait in the outbox\n`;
}

export async function runServe(io: CliIo): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`egress-advisor: ${err.message}\n`);
      return SERVE_EXIT.config;
    }
    throw err;
  }
  const log = createBridgeLogger({level: config.logLevel});
  exitOnUnexpected(log);
  log.info({config: describeConfig(config)}, 'starting');
  // The handlers go in before anything listens: a SIGTERM that arrives while the bridge starts (a pod
  // deleted during start-up, or a probe that answered before the banner) must still stop it cleanly.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({signal}, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  let bridge: Bridge;
  try {
    bridge = await startBridge(config, log);
  } catch (err) {
    if (err instanceof StoreDamagedError || err instanceof SchemaTooNewError) {
      log.fatal({code: err.code}, err.message);
      io.stderr.write(`egress-advisor: ${err.message}\n`);
      return SERVE_EXIT.store;
    }
    const message = err instanceof Error ? err.message : String(err);
    log.fatal({err: err instanceof Error ? {message, stack: err.stack} : message}, 'cannot start');
    io.stderr.write(`egress-advisor: cannot start: ${message}\n`);
    return SERVE_EXIT.internal;
  }
  io.stderr.write(
    `Egress Advisor bridge listening on ${bridge.url}\n` +
      '  System Console page, /egress and buttons: through the Egress Advisor plugin in Mattermost, which signs every call\n' +
      `  health: ${bridge.url}/healthz  readiness: ${bridge.url}/readyz  metrics: ${bridge.url}/metrics\n` +
      `  reading: ${config.sources.map(describeSource).join(', ')}\n` +
      (config.sampleSources ? '  (no EGRESS_ADVISOR_SOURCES set: reading the shipped sample cluster)\n' : '') +
      (config.mattermost ? await mattermostLine(bridge) : '  Mattermost: not configured (set MATTERMOST_URL and MATTERMOST_TOKEN for alerts and /egress)\n'),
  );
  await stopped;
  await bridge.stop();
  return SERVE_EXIT.stopped;
}
