/*
 * One bridge replica as its own process, for the HA suite: configuration from the environment (as in a
 * pod), the bridge's log to HA_REPLICA_LOG, and its leadership reported to the parent over IPC. Loaded
 * through the same TypeScript transform as the store's worker processes (server/store/testing/support.ts).
 */
import pino from 'pino';
import {loadConfig} from '../../server/bridge/config';
import {startBridge} from '../../server/bridge/service';
import {createBridgeLogger} from '../../server/http';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const dest = process.env.HA_REPLICA_LOG;
  if (!dest) throw new Error('HA_REPLICA_LOG is not set');
  const logger = createBridgeLogger({level: config.logLevel, destination: pino.destination({dest, sync: true, append: true})});
  const bridge = await startBridge(config, logger, {mattermostCheckMs: 1_000, inventoryMaxAgeMs: 3_000, leaderIntervalMs: 500});
  bridge.election.on('elected', () => process.send?.({leader: true, at: Date.now()}));
  bridge.election.on('deposed', () => process.send?.({leader: false, at: Date.now()}));
  process.send?.({ready: true, url: bridge.url, leader: bridge.election.isLeader(), at: Date.now()});
  process.once('SIGTERM', () => {
    void bridge.stop().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`replica failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
