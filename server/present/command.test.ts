import fc from 'fast-check';

import {MAX_REASON_CHARS, parseCommand, renderHelp, type EgressCommand} from './command';

const OK: Array<[string, EgressCommand]> = [
  ['', {name: 'help'}],
  ['   ', {name: 'help'}],
  ['help', {name: 'help'}],
  ['HELP', {name: 'help'}],
  ['--help', {name: 'help'}],
  ['-h', {name: 'help'}],
  ['?', {name: 'help'}],
  ['status', {name: 'status'}],
  ['  Status  ', {name: 'status'}],
  ['list', {name: 'list', filter: 'open'}],
  ['list blocked', {name: 'list', filter: 'blocked'}],
  ['List   FAILING', {name: 'list', filter: 'failing'}],
  ['list passthrough', {name: 'list', filter: 'passthrough'}],
  ['list ignored', {name: 'list', filter: 'ignored'}],
  ['list all', {name: 'list', filter: 'all'}],
  ['list open', {name: 'list', filter: 'open'}],
  ['show s3.amazonaws.com', {name: 'show', target: 's3.amazonaws.com'}],
  ['show  S3.AmazonAWS.com.', {name: 'show', target: 's3.amazonaws.com'}],
  ['show s3.amazonaws.com:443', {name: 'show', target: 's3.amazonaws.com:443'}],
  ['show 203.0.113.9', {name: 'show', target: '203.0.113.9'}],
  ['show [2001:db8::1]:443', {name: 'show', target: '[2001:db8::1]:443'}],
  ['show `push.mattermost.com`', {name: 'show', target: 'push.mattermost.com'}],
  ['show "push.mattermost.com"', {name: 'show', target: 'push.mattermost.com'}],
  ['show <https://push.mattermost.com/api/v1/send>', {name: 'show', target: 'push.mattermost.com'}],
  ['show https://push.mattermost.com:443/x', {name: 'show', target: 'push.mattermost.com:443'}],
  ['snippet', {name: 'snippet', target: null, format: null}],
  ['snippet all', {name: 'snippet', target: null, format: null}],
  ['snippet ALL --format serviceentry', {name: 'snippet', target: null, format: 'serviceentry'}],
  ['snippet --format=bigbang-legacy', {name: 'snippet', target: null, format: 'bigbang-legacy'}],
  ['snippet --format Package-Legacy push.mattermost.com', {name: 'snippet', target: 'push.mattermost.com', format: 'package-legacy'}],
  ['snippet push.mattermost.com -f package', {name: 'snippet', target: 'push.mattermost.com', format: 'package'}],
  ['snippet push.mattermost.com --FORMAT bigbang', {name: 'snippet', target: 'push.mattermost.com', format: 'bigbang'}],
  ['ignore 203.0.113.9', {name: 'ignore', target: '203.0.113.9', reason: ''}],
  ['ignore 203.0.113.9 test   traffic from a probe', {name: 'ignore', target: '203.0.113.9', reason: 'test traffic from a probe'}],
  ['ignore api.github.com "plugin is disabled; it\'s fine"', {name: 'ignore', target: 'api.github.com', reason: "plugin is disabled; it's fine"}],
  ["ignore api.github.com 'quoted with single'", {name: 'ignore', target: 'api.github.com', reason: 'quoted with single'}],
  ['ignore api.github.com “smart quotes from a phone”', {name: 'ignore', target: 'api.github.com', reason: 'smart quotes from a phone'}],
  ["ignore api.github.com it's not ours", {name: 'ignore', target: 'api.github.com', reason: "it's not ours"}],
  ['ignore "api.github.com" because\nreasons', {name: 'ignore', target: 'api.github.com', reason: 'because reasons'}],
  ['IGNORE Api.GitHub.com We Keep Case', {name: 'ignore', target: 'api.github.com', reason: 'We Keep Case'}],
  ['unignore api.github.com', {name: 'unignore', target: 'api.github.com'}],
  ['\tunignore\t api.github.com \n', {name: 'unignore', target: 'api.github.com'}],
];

const ERRORS: Array<[string, RegExp]> = [
  ['frobnicate', /^Unknown subcommand "frobnicate"\.$/],
  ['status now', /status takes no arguments\. Usage: \/egress status$/],
  ['list everything', /Unknown filter "everything"\. Usage: \/egress list \[blocked\|failing\|passthrough\|ignored\|all\]$/],
  ['list blocked ignored', /list takes at most one filter/],
  ['show', /show needs exactly one host\. Usage: \/egress show <host>$/],
  ['show a b', /show needs exactly one host/],
  ['show ""', /The host is empty/],
  ['show .', /The host is empty/],
  [`show ${'a'.repeat(400)}`, /longer than 300 characters/],
  ['show "a\u0007b"', /cannot contain spaces or control characters/],
  ['show "a b"', /cannot contain spaces/],
  ['unignore', /unignore needs exactly one host/],
  ['ignore', /ignore needs a host/],
  [`ignore a.example ${'x'.repeat(MAX_REASON_CHARS + 1)}`, new RegExp(`reason is longer than ${MAX_REASON_CHARS} characters`)],
  ['snippet --format', /--format needs a value/],
  ['snippet --format yaml', /Unknown format "yaml"; use one of bigbang, bigbang-legacy, package, package-legacy, serviceentry\./],
  ['snippet --output json', /Unknown option "--output"/],
  ['snippet a.example b.example', /Give one host, or all/],
];

describe('parseCommand', () => {
  test('a refusal reply escapes what was typed', () => {
    const r = parseCommand('@channel [x](http://evil.example)');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reply.split('\n')[0]).toBe('Unknown subcommand "@\u200Bchannel"\\.');
  });

  test.each(OK)('%j', (text, command) => {
    expect(parseCommand(text)).toEqual({ok: true, command});
  });

  test.each(ERRORS)('%j is refused', (text, error) => {
    const r = parseCommand(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatch(error);
      expect(r.reply).toContain('**/egress** shows the outbound connections');
    }
  });

  test('property: never throws, and a target is never empty or spaced', () => {
    fc.assert(
      fc.property(fc.string({maxLength: 200}), (text) => {
        const r = parseCommand(text);
        if (r.ok && 'target' in r.command && r.command.target !== null) {
          expect(r.command.target).not.toBe('');
          expect(r.command.target).not.toMatch(/\s/);
        }
      }),
    );
  });
});

describe('/egress test', () => {
  test('names one integration, by kind or by the words people use', () => {
    expect(parseCommand('test s3')).toEqual({ok: true, command: {name: 'test', kind: 's3'}});
    expect(parseCommand('Test Email')).toEqual({ok: true, command: {name: 'test', kind: 'smtp'}});
  });

  test('an unknown or missing integration is refused with the usage', () => {
    const unknown = parseCommand('test push');
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error).toContain('/egress test <s3|smtp|ldap|elasticsearch|site-url>');
    expect(parseCommand('test').ok).toBe(false);
  });
});

describe('/egress rehearse', () => {
  test('takes no arguments, and the help says what it does', () => {
    expect(parseCommand('rehearse')).toEqual({ok: true, command: {name: 'rehearse'}});
    expect(parseCommand('Rehearse')).toEqual({ok: true, command: {name: 'rehearse'}});
    const extra = parseCommand('rehearse now');
    expect(extra.ok).toBe(false);
    if (!extra.ok) expect(extra.error).toContain('Usage: /egress rehearse');
    expect(renderHelp()).toContain('`/egress rehearse`: before hardening (under ALLOW_ANY)');
  });
});
