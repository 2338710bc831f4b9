// `egress-advisor serve`: the bridge as a long-running service.
import {ConfigError, describeConfig, loadConfig, type SourceSpec} from '../bridge/config';
import {startBridge} from '../bridge/service';
import {createBridgeLogger} from '../http';
import type {CliIo} from './scan';

function describeSource(s: SourceSpec): string {
  if (s.kind === 'stdin') return 'stdin';
  if (s.kind === 'kubernetes') return `the istio-proxy and mattermost logs of pods ${s.selector} in ${s.namespace ?? 'the current namespace'}`;
  return `${s.path} (${s.log === 'app' ? "Mattermost's log" : 'istio-proxy'})`;
}

export async function runServe(io: CliIo): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`egress-advisor: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createBridgeLogger({level: config.logLevel});
  log.info({config: describeConfig(config)}, 'starting');
  const bridge = await startBridge(config, log);
  io.stderr.write(
    `Egress Advisor bridge listening on ${bridge.url}\n` +
      `  webapp API: ${bridge.url}/plugins/egress-advisor/api/v1/ (route this path of the Mattermost host here)\n` +
      `  health: ${bridge.url}/healthz  readiness: ${bridge.url}/readyz  metrics: ${bridge.url}/metrics\n` +
      `  reading: ${config.sources.map(describeSource).join(', ')}\n` +
      (config.sampleSources ? '  (no EGRESS_ADVISOR_SOURCES set: reading the shipped sample cluster)\n' : '') +
      (config.mattermost ? '' : '  Mattermost: not configured (set MATTERMOST_URL and MATTERMOST_TOKEN for alerts and /egress)\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({signal}, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await bridge.stop();
  return 0;
}
