// Findings shaped like the ones the engine builds from the sample logs, for the presentation tests.
import type {Finding} from '../../common/types';

export const S3: Finding = {
  key: 'bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com:443',
  destination: {host: 'bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com', ip: '203.0.113.40', port: 443},
  verdict: 'blocked',
  protocol: 'TLS',
  count: 4,
  firstSeen: '2026-11-28T08:03:18.403Z',
  lastSeen: '2026-11-28T08:09:03.440Z',
  pods: ['mattermost-6c8f9d7b54-2xq8k', 'mattermost-6c8f9d7b54-p7wzn'],
  samples: [
    '[pod/mattermost-6c8f9d7b54-2xq8k/istio-proxy] [2026-11-28T08:03:18.403Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 203.0.113.40:443 10.42.1.23:37500 - -',
  ],
  attribution: {
    host: 'bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com',
    candidates: ['bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com'],
    method: 'app-log',
    confidence: 'certain',
    note: 'Mattermost logged a failed call to https://bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com/20261128/x.png 322 ms from this block in the same pod.',
  },
  features: [{id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'}],
};

export const PUSH: Finding = {
  key: 'push.mattermost.com:443',
  destination: {host: 'push.mattermost.com', ip: '192.0.2.10', port: 443},
  verdict: 'blocked',
  protocol: 'TLS',
  count: 1234,
  firstSeen: '2026-11-28T08:14:52.118Z',
  lastSeen: '2026-11-28T08:26:11.871Z',
  pods: ['mattermost-6c8f9d7b54-p7wzn'],
  samples: [],
  attribution: {
    host: 'push.mattermost.com',
    candidates: ['push.mattermost.com'],
    method: 'sni',
    confidence: 'certain',
    note: 'Envoy logged the TLS server name push.mattermost.com with the blocked connection.',
  },
  features: [{id: 'push', name: 'Push notifications', configPath: 'EmailSettings.PushNotificationServer'}],
};

export const UNNAMED: Finding = {
  key: '140.82.112.5:443',
  destination: {host: null, ip: '140.82.112.5', port: 443},
  verdict: 'blocked',
  protocol: 'TLS',
  count: 1,
  firstSeen: '2026-11-28T08:20:45Z',
  lastSeen: '2026-11-28T08:20:45Z',
  pods: ['mattermost-6c8f9d7b54-2xq8k'],
  samples: [],
  attribution: {
    host: null,
    candidates: [],
    method: 'none',
    confidence: 'unknown',
    note: 'Nothing names 140.82.112.5:443: no Mattermost log line and no configured host points at it.',
  },
  features: [],
};

export const GITHUB_FAILING: Finding = {
  key: 'api.github.com:443',
  destination: {host: 'api.github.com', ip: null, port: 443},
  verdict: 'external-failed',
  protocol: 'TLS',
  count: 3,
  firstSeen: '2026-11-28T08:16:10.000Z',
  lastSeen: '2026-11-28T08:22:40.000Z',
  pods: ['mattermost-6c8f9d7b54-p7wzn', 'mattermost-6c8f9d7b54-2xq8k'],
  samples: [],
  attribution: {host: 'api.github.com', candidates: ['api.github.com'], method: 'sni', confidence: 'certain', note: ''},
  features: [{id: 'plugin-github', name: 'GitHub plugin', configPath: 'PluginSettings.Plugins.github'}],
};

export const FINDINGS: Finding[] = [S3, PUSH, UNNAMED, GITHUB_FAILING];

export const YAML = `addons:
  mattermost:
    values:
      routes:
        outbound:
          # Restores: File storage (Amazon S3) [FileSettings.AmazonS3Endpoint]
          amazonaws-com:
            enabled: true
            hosts:
              - bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com
            ports:
              - number: 443
                name: https
                protocol: TLS
          # Restores: Push notifications [EmailSettings.PushNotificationServer]
          mattermost-com:
            enabled: true
            hosts:
              - push.mattermost.com
            ports:
              - number: 443
                name: https
                protocol: TLS
`;

export const KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8');

export const NOW = new Date('2026-11-28T10:00:00Z');
