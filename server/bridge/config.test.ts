import {join} from 'node:path';
import {ConfigError, loadConfig, parseSources} from './config';

describe('parseSources', () => {
  it('reads files, Mattermost logs, stdin and Kubernetes, with commas inside a selector', () => {
    expect(parseSources('file:/var/log/proxy.log, app:/var/log/mm.log,stdin,kubernetes:mattermost?selector=app=mattermost,tier in (web),kubernetes:')).toEqual([
      {kind: 'file', log: 'proxy', path: '/var/log/proxy.log'},
      {kind: 'file', log: 'app', path: '/var/log/mm.log'},
      {kind: 'stdin', log: 'proxy'},
      {kind: 'kubernetes', log: 'proxy', namespace: 'mattermost', selector: 'app=mattermost,tier in (web)'},
      {kind: 'kubernetes', log: 'proxy', namespace: null, selector: 'app=mattermost'},
    ]);
  });

  it('refuses what it does not know, saying what it expects', () => {
    expect(() => parseSources('http://x')).toThrow(ConfigError);
    expect(() => parseSources('kubernetes:mm?label=x')).toThrow(/only selector/);
  });
});

describe('loadConfig', () => {
  it('runs on the shipped sample with nothing set', () => {
    const c = loadConfig({});
    expect(c.sampleSources).toBe(true);
    expect(c.sources.map((s) => s.log)).toEqual(['proxy', 'app']);
    expect(c.mattermost).toBeNull();
    expect(c.listenPort).toBe(8080);
  });

  it('refuses a values file that is not one, as --values does, and takes one that is', () => {
    expect(() => loadConfig({EGRESS_ADVISOR_VALUES_FILE: '/etc/passwd'})).toThrow(
      /^EGRESS_ADVISOR_VALUES_FILE="\/etc\/passwd" is not a values file: it is plain text, not a mapping of values\. Expected a Big Bang umbrella values file/,
    );
    expect(loadConfig({EGRESS_ADVISOR_VALUES_FILE: join(__dirname, '..', 'sample', 'values.yaml')}).valuesFile).toMatch(/values\.yaml$/);
  });

  it('needs a token with a Mattermost URL, and says so', () => {
    expect(() => loadConfig({MATTERMOST_URL: 'http://mm:8065'})).toThrow(/MATTERMOST_TOKEN/);
  });

  it('refuses a bad listen address, digest window or format', () => {
    expect(() => loadConfig({EGRESS_ADVISOR_LISTEN: 'nowhere'})).toThrow(/host:port/);
    expect(() => loadConfig({EGRESS_ADVISOR_DIGEST_SECONDS: '-1'})).toThrow(/seconds/);
    expect(() => loadConfig({EGRESS_ADVISOR_FORMAT: 'helm'})).toThrow(/bigbang/);
  });
});
