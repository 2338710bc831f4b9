import {isIpAddress} from './address';
import {checkHost, hostMatches, printable} from './hostname';

function reason(raw: unknown): string {
  const r = checkHost(raw);
  if (r.ok) {
    throw new Error(`expected ${JSON.stringify(raw)} to be rejected, got ${r.host}`);
  }
  return r.rejected.reason;
}

describe('checkHost', () => {
  test.each([
    ['s3.amazonaws.com', 's3.amazonaws.com'],
    ['SMTP.Office365.COM', 'smtp.office365.com'],
    ['api.github.com.', 'api.github.com'],
    ['*.example.com', '*.example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.c-d.example', 'a-b.c-d.example'],
    ['minio', 'minio'],
    ['1password.com', '1password.com'],
    ['a.b.c.d.e.f.example.co.uk', 'a.b.c.d.e.f.example.co.uk'],
  ])('accepts %j as %j', (raw, host) => {
    expect(checkHost(raw)).toEqual({ok: true, host});
  });

  test('accepts the longest legal name and labels of exactly 63 characters', () => {
    const label63 = 'a'.repeat(63);
    const name253 = [label63, label63, label63, 'b'.repeat(61)].join('.');
    expect(name253.length).toBe(253);
    expect(checkHost(name253).ok).toBe(true);
    expect(checkHost(`${name253}.`).ok).toBe(true); // the root dot does not count
  });

  test.each([
    ['', /empty/],
    ['evil.com\nhosts: ["*"]', /control characters/],
    ['a\u0000b.com', /control characters/],
    ['bad\u202e.com', /invisible/],
    ['a b.com', /spaces/],
    ['52.1.2.3', /IP address/],
    ['2600:1f18::1', /IP address/],
    ['[::1]', /IP address/],
    ['bücher.example', /non-ASCII/],
    ['ехаmple.com', /non-ASCII/],
    ['*', /bare "\*"/],
    ['host:8080', /":"/],
    ['my_bucket.s3.amazonaws.com', /"_"/],
    ['`rm`.com', /YAML, Markdown or HTML/],
    ['[x](evil)', /YAML, Markdown or HTML/],
    ['<script>.com', /YAML, Markdown or HTML/],
    ['a.*.example.com', /leading/],
    ['*example.com', /leading/],
    ['**.example.com', /leading/],
    ['*.', /bare "\*"/],
    ['*..', /no labels/],
    ['a..b.com', /empty label/],
    ['.example.com', /empty label/],
    ['example.com..', /empty label/],
    ['-a.example.com', /starts or ends with "-"/],
    ['a-.example.com', /starts or ends with "-"/],
    [`${'a'.repeat(64)}.com`, /label of 64 characters/],
    [`${'a.'.repeat(127)}com`, /at most 253/],
    ['1.2.3.4.5', /all-numeric/],
    ['host.123', /all-numeric/],
  ])('rejects %j', (raw, why) => {
    expect(reason(raw)).toMatch(why);
  });

  test('rejects what is not text', () => {
    expect(reason(null)).toMatch(/not text/);
    expect(reason(42)).toMatch(/not text/);
  });

  test('the printable form of a rejected host carries no raw control characters', () => {
    const r = checkHost('evil.com\n  - "*"\u001b[31m<b>');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.rejected.printable).toBe('evil.com\\x0a  - "*"\\x1b[31m<b>');
    }
  });
});

describe('printable', () => {
  test('keeps plain names and escapes everything else', () => {
    expect(printable('api.github.com:443')).toBe('api.github.com:443');
    expect(printable('a\tb')).toBe('a\\x09b');
    // Markup is the renderers' business: printable keeps ASCII punctuation as it is.
    expect(printable('**bold** _x_ [l](u) <i> & "q" `c` |t|')).toBe('**bold** _x_ [l](u) <i> & "q" `c` |t|');
    expect(printable('\u202egnp.exe')).toBe('\\u{202e}gnp.exe');
    expect(printable('é')).toBe('\\xe9');
  });

  test('caps the length without splitting an escape', () => {
    const s = printable('\n'.repeat(100), 30);
    expect(s.length).toBeLessThanOrEqual(30);
    expect(s.endsWith('...')).toBe(true);
    expect(s.slice(0, -3)).toMatch(/^(\\x0a)+$/);
    expect(printable('x'.repeat(500)).length).toBe(120);
  });

  test('is idempotent, so text already made printable is not escaped twice', () => {
    for (const s of ['evil\n<b>', '\u0000'.repeat(80), 'plain.example.com', '\\x41 {x}']) {
      const once = printable(s);
      expect(printable(once)).toBe(once);
    }
  });
});

describe('isIpAddress', () => {
  test.each(['1.2.3.4', '::1', '[2600::1]', 'fe80::1%eth0', '::ffff:10.0.0.1'])('%j is an address', (s) => {
    expect(isIpAddress(s)).toBe(true);
  });
  test.each(['example.com', '1.2.3', '256.1.1.1', 'fe80::1%<b>', '', '1.2.3.4:80'])('%j is not', (s) => {
    expect(isIpAddress(s)).toBe(false);
  });
});

describe('hostMatches', () => {
  test('a wildcard covers subdomains at any depth but not the apex', () => {
    expect(hostMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'badexample.com')).toBe(false);
    expect(hostMatches('*.example.com', '*.a.example.com')).toBe(true);
    expect(hostMatches('*.a.example.com', '*.example.com')).toBe(false);
  });
  test('an exact host covers only itself', () => {
    expect(hostMatches('a.example.com', 'a.example.com')).toBe(true);
    expect(hostMatches('a.example.com', 'b.a.example.com')).toBe(false);
  });
});
