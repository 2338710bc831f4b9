import {findAllowance} from './allowed';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {allowedByValues, notValuesFile} from './values';

function allows(text: string, host: string, port: number): string | null {
  return findAllowance(allowedByValues(text).allowed, host, port)?.source ?? null;
}

const DEFAULT_SOURCE = 'routes.outbound.mattermost-external (package default)';

describe('allowedByValues: the three ways, at both levels', () => {
  test('umbrella routes.outbound, with bb-common defaults for ports', () => {
    const text = `
addons:
  mattermost:
    values:
      routes:
        outbound:
          s3:
            hosts: [s3.amazonaws.com]
          smtp:
            enabled: true
            hosts: [smtp.example.com]
            ports:
              - {number: 587, name: tcp-587, protocol: TCP}
              - {number: "25", name: smtp, protocol: TCP}
          off:
            enabled: false
            hosts: [off.example.com]
`;
    expect(allows(text, 's3.amazonaws.com', 443)).toBe('addons.mattermost.values.routes.outbound.s3');
    expect(allows(text, 's3.amazonaws.com', 80)).toBeNull();
    expect(allows(text, 'smtp.example.com', 587)).toBe('addons.mattermost.values.routes.outbound.smtp');
    expect(allows(text, 'smtp.example.com', 25)).toBe('addons.mattermost.values.routes.outbound.smtp');
    expect(allows(text, 'smtp.example.com', 443)).toBeNull();
    expect(allows(text, 'off.example.com', 443)).toBeNull();
    const report = allowedByValues(text);
    expect(report.routeNames).toEqual(expect.arrayContaining(['s3', 's3-external', 'off', 'off-external', 'mattermost-external', 'sso']));
    expect(report.allowed.find((a) => a.host === 's3.amazonaws.com')?.protocol).toBe('HTTPS');
    expect(report.errors).toEqual([]);
  });

  test('package-level istio.serviceEntries.custom and istio.hardened.customServiceEntries', () => {
    const text = `
istio:
  serviceEntries:
    custom:
      - name: es
        spec:
          hosts: [search.example.com]
          ports: [{number: 9243, name: tls-9243, protocol: TLS}]
  hardened:
    customServiceEntries:
      - name: allow-github
        enabled: true
        spec:
          hosts: ["*.github.com"]
          ports: [{number: 443, name: https, protocol: TLS}]
          resolution: NONE
      - name: disabled-one
        enabled: false
        spec:
          hosts: [nope.example.com]
          ports: [{number: 443, name: https, protocol: TLS}]
`;
    expect(allows(text, 'search.example.com', 9243)).toBe('istio.serviceEntries.custom[es]');
    expect(allows(text, 'uploads.github.com', 443)).toBe('istio.hardened.customServiceEntries[allow-github]');
    expect(allows(text, 'github.com', 443)).toBeNull();
    expect(allows(text, 'nope.example.com', 443)).toBeNull();
    expect(allowedByValues(text).routeNames).toEqual(expect.arrayContaining(['es', 'allow-github', 'disabled-one']));
  });

  test('plain ServiceEntry manifests, several documents or a List', () => {
    const text = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: one}
spec:
  hosts: [one.example.com]
  ports: [{number: 443, name: https, protocol: TLS}]
---
apiVersion: v1
kind: List
items:
  - apiVersion: networking.istio.io/v1beta1
    kind: ServiceEntry
    metadata: {name: two}
    spec:
      hosts: [two.example.com]
      addresses: [169.254.169.254/32]
      ports: [{number: 80, name: tcp-80, protocol: TCP}]
`;
    expect(allows(text, 'one.example.com', 443)).toBe('ServiceEntry one');
    expect(allows(text, 'two.example.com', 80)).toBe('ServiceEntry two');
    expect(allowedByValues(text).allowed.find((a) => a.host === 'two.example.com')?.addresses).toEqual(['169.254.169.254/32']);
  });
});

describe('allowedByValues: the package default route', () => {
  test('applies when the values say nothing about it', () => {
    expect(allows('addons: {}', 'api.github.com', 443)).toBe(DEFAULT_SOURCE);
    expect(allows('', 'notices.mattermost.com', 443)).toBe(DEFAULT_SOURCE);
    expect(allows('', 'push.mattermost.com', 443)).toBeNull();
    expect(allows('', 'api.github.com', 80)).toBeNull();
  });

  test('is gone when disabled, at either level', () => {
    expect(allows('addons: {mattermost: {values: {routes: {outbound: {mattermost-external: {enabled: false}}}}}}', 'api.github.com', 443)).toBeNull();
    expect(allows('routes: {outbound: {mattermost-external: {enabled: false}}}', 'api.github.com', 443)).toBeNull();
  });

  test('values that set its hosts replace the default list (Helm replaces lists)', () => {
    const text = 'routes: {outbound: {mattermost-external: {hosts: [only.mattermost.com]}}}';
    expect(allows(text, 'only.mattermost.com', 443)).toBe('routes.outbound.mattermost-external');
    expect(allows(text, 'api.github.com', 443)).toBeNull();
  });

  test('can be left out on request', () => {
    expect(findAllowance(allowedByValues('', {chartDefaults: false}).allowed, 'api.github.com', 443)).toBeNull();
  });

  test('route names that are also names of object properties are ordinary routes', () => {
    const text = 'routes: {outbound: {toString: {hosts: [a.example.com]}, __proto__: {hosts: [b.example.com]}}}';
    expect(allows(text, 'a.example.com', 443)).toBe('routes.outbound.toString');
    expect(allows(text, 'b.example.com', 443)).toBe('routes.outbound.__proto__');
  });

  test('an enabled sso route with hosts is counted', () => {
    const text = 'routes: {outbound: {sso: {enabled: true, hosts: [login.example.mil]}}}';
    expect(allows(text, 'login.example.mil', 443)).toBe('routes.outbound.sso');
  });
});

describe('allowedByValues: what it cannot use', () => {
  test('malformed YAML is an error, not an exception', () => {
    const r = allowedByValues('addons:\n  mattermost: [\n---\nroutes: {outbound: {x: {hosts: [ok.example.com]}}}\n');
    expect(r.errors.length).toBeGreaterThan(0);
    expect(r.errors[0]).toMatch(/^YAML error \(document 1\) at line 3, column 1: Flow sequence/);
    // The readable document still counts.
    expect(findAllowance(r.allowed, 'ok.example.com', 443)?.source).toBe('routes.outbound.x');
  });

  test('duplicate keys, unresolved aliases and alias bombs are errors', () => {
    expect(allowedByValues('a: 1\na: 2\n').errors[0]).toMatch(/YAML error/);
    expect(allowedByValues('a: *nope\n').errors[0]).toMatch(/YAML error/);
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        {length: 8},
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      ),
    ].join('\n');
    const r = allowedByValues(bomb);
    expect(r.errors[0]).toMatch(/YAML error/);
  });

  test('a document that is not a mapping, and text that is too large, are errors', () => {
    expect(allowedByValues('- just\n- a list\n').errors[0]).toMatch(/not a mapping/);
    expect(allowedByValues('a'.repeat(5 * 1024 * 1024)).errors[0]).toMatch(/larger than/);
  });

  test('templated hosts, invalid hosts and unreadable ports are warnings and allow nothing', () => {
    const text = `
routes:
  outbound:
    t:
      hosts: ["chat.{{ .Values.domain }}", "bad host", "fine.example.com"]
      ports: [{number: "{{ .Values.port }}", name: x, protocol: TCP}, {number: 8443, name: tls-8443, protocol: TLS}]
istio:
  serviceEntries:
    custom:
      - name: noports
        spec: {hosts: [noports.example.com]}
`;
    const r = allowedByValues(text);
    expect(r.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/templated host/),
        expect.stringMatching(/not a valid host name.*contains spaces/),
        expect.stringMatching(/port whose number cannot be read/),
        expect.stringMatching(/noports.*lists no ports/),
      ]),
    );
    expect(r.allowed.filter((a) => a.source === 'routes.outbound.t').map((a) => `${a.host}:${a.port}`)).toEqual(['fine.example.com:8443']);
  });

  test('never throws, whatever the input', () => {
    for (const text of ['', '~', '[', '{a: [}', '!!binary x', '%YAML 9.9\n---\na: 1', '\u0000', 'kind: ServiceEntry', 'kind: List\nitems: 3']) {
      expect(() => allowedByValues(text)).not.toThrow();
    }
  });
});

describe('notValuesFile: a file that is not values at all is named as such', () => {
  const ROOT = join(__dirname, '..', '..', '..');
  test.each([
    ['a passwd file', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n', /plain text, not a mapping/],
    ['a JSON array', '[{"host": "s3.amazonaws.com"}]', /a list, not a mapping/],
    [
      "Mattermost's config.json",
      readFileSync(join(ROOT, 'test', 'fixtures', 'mattermost', 'config.json'), 'utf8'),
      /Mattermost's configuration \(\w+Settings, \w+Settings, …\), which goes to --mattermost-config/,
    ],
    ['a Deployment', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: mattermost}\n', /a Kubernetes Deployment manifest/],
    ['a number', '42', /a single number/],
    ['a second document that is a list', 'istio: {}\n---\n- a\n', /document 2 is a list/],
  ])('%s', (_, text, why) => {
    expect(notValuesFile(text)).toMatch(why);
  });

  test.each([
    ['the sample umbrella values', readFileSync(join(ROOT, 'server', 'sample', 'values.yaml'), 'utf8')],
    ['an empty file', ''],
    ['only comments', '# nothing yet\n'],
    ['package values with an empty istio section', 'istio: {}\nimage:\n  tag: 9.11.0\n'],
    ['umbrella values with no istio section', 'domain: bigbang.dev\naddons:\n  mattermost:\n    enabled: true\n    values: {}\n'],
    [
      'ServiceEntry manifests',
      'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s3}\nspec: {hosts: [s3.amazonaws.com]}\n---\nkind: List\nitems: []\n',
    ],
  ])('%s is values', (_, text) => {
    expect(notValuesFile(text)).toBeNull();
  });
});
