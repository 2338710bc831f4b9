import {destinationName, fitName, fnv1a, isDns1123Label, MAX_NAME_LENGTH, portName, slug, uniqueName} from './names';

describe('portName', () => {
  test('follows Big Bang for 443 and names the rest by protocol and number', () => {
    expect(portName(443, 'TLS')).toBe('https');
    expect(portName(80, 'HTTP')).toBe('http');
    expect(portName(8443, 'TLS')).toBe('tls-8443');
    expect(portName(587, 'TCP')).toBe('tcp-587');
    expect(portName(443, 'HTTP')).toBe('http-443');
    expect(portName(80, 'TLS')).toBe('tls-80');
  });

  test('is a DNS-1123 label and unique for every port and protocol', () => {
    const seen = new Set<string>();
    for (const protocol of ['HTTP', 'TLS', 'TCP'] as const) {
      for (const n of [1, 25, 80, 443, 587, 8080, 65535]) {
        const name = portName(n, protocol);
        expect(isDns1123Label(name)).toBe(true);
        seen.add(`${n}:${name}`);
      }
    }
    // Within one entry numbers are unique; no two numbers may share a name.
    const names = [...seen].map((s) => s.split(':')[1]);
    const byName = new Map<string, Set<string>>();
    [...seen].forEach((s, i) => byName.set(names[i], (byName.get(names[i]) ?? new Set()).add(s.split(':')[0])));
    for (const numbers of byName.values()) {
      expect(numbers.size).toBe(1);
    }
  });
});

describe('entry names', () => {
  test('slug turns a domain into a label', () => {
    expect(slug('s3.amazonaws.com')).toBe('s3-amazonaws-com');
    expect(slug('*.example.com')).toBe('wildcard---example-com');
    expect(slug('wildcard.example.com')).toBe('wildcard-example-com');
    expect(slug('a-b.example.com')).toBe('a--b-example-com');
    expect(destinationName('hooks.example.com', 443)).toBe('hooks-example-com-443');
  });

  test('long names are cut with a hash so that they stay unique and within the limit', () => {
    const a = `${'a'.repeat(60)}-one`;
    const b = `${'a'.repeat(60)}-two`;
    expect(fitName(a)).not.toBe(fitName(b));
    expect(fitName(a).length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(isDns1123Label(fitName(a))).toBe(true);
    expect(fitName('short')).toBe('short');
  });

  test('uniqueName counts up past taken names', () => {
    const taken = new Set(['example-com', 'example-com-2']);
    expect(uniqueName('example-com', taken)).toBe('example-com-3');
    expect(uniqueName('example-com', taken)).toBe('example-com-4');
    expect(taken.has('example-com-4')).toBe(true);
    const long = 'b'.repeat(MAX_NAME_LENGTH);
    const set = new Set([long]);
    const second = uniqueName(long, set);
    expect(second.endsWith('-2')).toBe(true);
    expect(second.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
  });

  test('fnv1a is the published 32-bit FNV-1a', () => {
    // Reference values of the FNV-1a test suite.
    expect(fnv1a('')).toBe('811c9dc5');
    expect(fnv1a('a')).toBe('e40c292c');
    expect(fnv1a('foobar')).toBe('bf9cf968');
  });
});
