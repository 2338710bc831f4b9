import fc from 'fast-check';

import {codeBlock, escapeMarkdown, inlineCode} from './markdown';

const ZWSP = '\u200B';

/** What a reader sees: backslash escapes and entities resolved, zero-width spaces invisible. */
function rendered(md: string): string {
  return md
    .replace(/\\([\\`*{}[\]()#+\-.!_>~|])/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&amp;/g, '&')
    .split(ZWSP)
    .join('')
    .replace(/ {2}\n/g, '\n');
}

describe('escapeMarkdown', () => {
  test('escapes every character that can start Markdown syntax', () => {
    expect(escapeMarkdown('*bold* _it_ `code` [a](b) ![i](u) # h ~~s~~ > q | t')).toBe(
      '\\*bold\\* \\_it\\_ \\`code\\` \\[a\\]\\(b\\) \\!\\[i\\]\\(u\\) \\# h \\~\\~s\\~\\~ \\> q \\| t',
    );
  });

  test('mentions are broken for the server and the renderer', () => {
    const out = escapeMarkdown('ping @channel and @all and @here, also \\@channel');
    expect(out).not.toMatch(/@(channel|all|here)/);
    expect(rendered(out)).toBe('ping @channel and @all and @here, also \\@channel');
  });

  test('URLs and schemes are not autolinked', () => {
    const out = escapeMarkdown('see http://evil.example/x and www.evil.example and evil.example/path <http://x>');
    expect(out).not.toMatch(/https?:\/\//);
    expect(out).not.toMatch(/www\./);
    expect(out).not.toMatch(/[a-z]\.[a-z]{2,4}\//);
    expect(out).not.toContain('<');
    expect(rendered(out)).toBe('see http://evil.example/x and www.evil.example and evil.example/path <http://x>');
  });

  test('a colon gets a zero-width space only where a scheme could end: not in prose, not in a time', () => {
    expect(escapeMarkdown('Reason: not needed, seen at 12:00:05 UTC on port :443.')).toBe('Reason: not needed, seen at 12:00:05 UTC on port :443\\.');
    expect(escapeMarkdown('Why:')).toBe('Why:');
    for (const link of ['mailto:a', 'tel:+1', 'mattermost://x', 'javascript:alert(1)', 'x:y']) {
      expect(escapeMarkdown(link)).toMatch(new RegExp(`^[a-z]+:${ZWSP}`));
    }
  });

  test('newlines fold to spaces unless multiline, and cannot start blocks', () => {
    expect(escapeMarkdown('a\n# heading\n- item\n    code')).toBe('a \\# heading \\- item code');
    const multi = escapeMarkdown('a\n# heading\n===\n    code\n1. x', {multiline: true});
    expect(multi.split('  \n')).toEqual(['a', '\\# heading', `${ZWSP}===`, 'code', '1\\. x']);
  });

  test('control and bidi characters are removed', () => {
    expect(escapeMarkdown('evil\u202Egnp.exe\u0000\u0007')).toBe('evilgnp\\.exe');
  });

  test('maxLength cuts with an ellipsis', () => {
    expect(escapeMarkdown('abcdefghij', {maxLength: 5})).toBe('abcd…');
  });

  test('what is rendered is what was given (printable single-line text)', () => {
    fc.assert(
      fc.property(fc.string({unit: 'grapheme-ascii', maxLength: 80}), (s) => {
        const input = s
          .replace(/[\u0000-\u001F\u007F]/g, '')
          .replace(/^\s+/, '')
          .replace(/ +$/, '');
        expect(rendered(escapeMarkdown(input))).toBe(input);
      }),
    );
  });
});

describe('inlineCode', () => {
  test('plain host', () => {
    expect(inlineCode('api.github.com')).toBe('`api.github.com`');
  });

  test('backticks inside get a longer fence and padding', () => {
    expect(inlineCode('a`b')).toBe('``a`b``');
    expect(inlineCode('``x')).toBe('``` ``x ```');
    expect(inlineCode('`')).toBe('`` ` ``');
  });

  test('newlines are folded so the span cannot end', () => {
    expect(inlineCode('a\n\nb')).toBe('`a b`');
  });

  test('empty value stays a code span', () => {
    expect(inlineCode('')).toBe('` `');
  });

  test('the fence is always longer than any backtick run inside', () => {
    fc.assert(
      fc.property(fc.string({maxLength: 40}), (s) => {
        const out = inlineCode(s);
        const fence = /^`+/.exec(out)![0];
        const inner = out.slice(fence.length, out.length - fence.length);
        expect(out.endsWith(fence)).toBe(true);
        const runs = inner.match(/`+/g) ?? [];
        for (const run of runs) expect(run.length).toBeLessThan(fence.length);
      }),
    );
  });
});

describe('codeBlock', () => {
  test('uses three backticks for ordinary content', () => {
    expect(codeBlock('a: 1\n', 'yaml')).toBe('```yaml\na: 1\n```');
  });

  test('content cannot close the block', () => {
    const hostile = 'x\n```\n@channel\n````\n~~~';
    const out = codeBlock(hostile);
    expect(out.startsWith('`````\n')).toBe(true);
    expect(out.endsWith('\n`````')).toBe(true);
    const body = out.slice(6, -6);
    expect(body).toBe(hostile);
    for (const line of body.split('\n')) expect(line).not.toBe('`````');
  });

  test('language tag is reduced to safe characters', () => {
    expect(codeBlock('x', 'yaml\n```evil')).toBe('```yamlevil\nx\n```');
  });

  test('no run of backticks inside is as long as the fence', () => {
    fc.assert(
      fc.property(fc.string({maxLength: 60}), (s) => {
        const out = codeBlock(s);
        const fence = /^`+/.exec(out)![0];
        const body = out.slice(fence.length + 1, out.length - fence.length - 1);
        for (const run of body.match(/`+/g) ?? []) expect(run.length).toBeLessThan(fence.length);
      }),
    );
  });
});
