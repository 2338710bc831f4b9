// The shipped sample cluster as `scan` reads it (its expected findings: server/sample/README.md).
import {join} from 'node:path';

export const SAMPLE = join(__dirname, '..', '..', 'server', 'sample');
export const sample = (f: string): string => join(SAMPLE, f);

/** Every input of the sample: the proxy log, Mattermost's configuration, webhooks and log, hosts and values. */
export const SAMPLE_ARGS = [
  'scan',
  sample('istio-proxy.log'),
  '--mattermost-config',
  sample('mattermost-config.json'),
  '--webhooks',
  sample('outgoing-webhooks.json'),
  '--app-log',
  sample('mattermost.log'),
  '--hosts',
  sample('hosts'),
  '--no-dns',
  '--values',
  sample('values.yaml'),
];
