import fc from 'fast-check';

import {breakMentions, codeBlock, escapeMarkdown, fitMarkdown, inlineCode, plainText, runeLength} from './markdown';

const Z = '\u200B';

describe('present/markdown', () => {
  test('escapeMarkdown is the shared implementation', () => {
    expect(escapeMarkdown('[a](http://x) @here')).toBe(`\\[a\\]\\(http:${Z}//x\\) @${Z}here`);
  });

  test('code spans and blocks keep text literal but break mentions', () => {
    expect(inlineCode('s3.amazonaws.com')).toBe('`s3.amazonaws.com`');
    expect(inlineCode('@channel')).toBe(`\`@${Z}channel\``);
    expect(codeBlock('a: 1\n# @all\n', 'yaml')).toBe(`\`\`\`yaml\na: 1\n# @${Z}all\n\`\`\``);
    expect(breakMentions('a@b@@c')).toBe(`a@${Z}b@${Z}@${Z}c`);
  });

  test('a cut code span never separates an @ from its zero-width space', () => {
    fc.assert(
      fc.property(fc.string({maxLength: 60}), fc.integer({min: 1, max: 40}), (s, max) => {
        expect(inlineCode(s, max)).not.toMatch(/@(?!\u200B)/);
      }),
    );
    expect(inlineCode('abcdef@channel', 7)).toBe(`\`abcdef…\``);
  });

  test('plainText: one line, no controls or overrides, bounded', () => {
    expect(plainText('Ignore evil\u202E.example\n@all\u0000', 100)).toBe(`Ignore evil .example @${Z}all`);
    expect(plainText('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  test('runeLength counts code points as Mattermost does', () => {
    expect(runeLength('abc')).toBe(3);
    expect(runeLength('😀😀')).toBe(2);
    expect(runeLength('\uD800x')).toBe(2);
    expect(runeLength(Z)).toBe(1);
  });

  test('fitMarkdown: unchanged when it fits; else cut on a line, open block closed, note last', () => {
    expect(fitMarkdown('a\nb', 10)).toBe('a\nb');
    const md = ['head', '````text', ...Array.from({length: 50}, (_, i) => `line ${i} \`\`\``), '````', 'tail'].join('\n');
    const out = fitMarkdown(md, 200, '… cut');
    expect(runeLength(out)).toBeLessThanOrEqual(200);
    const lines = out.split('\n');
    expect(lines.slice(-3)).toEqual(['````', '', '… cut']);
    expect(lines[1]).toBe('````text');
  });

  test('fitMarkdown property: within the limit, every block closed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({maxLength: 30}), fc.constant('```'), fc.constant('```yaml')), {maxLength: 40}),
        fc.integer({min: 40, max: 300}),
        (lines, max) => {
          const blocks = lines.map((l) => codeBlock(l, 'text'));
          const out = fitMarkdown(['start', ...blocks].join('\n'), max);
          expect(runeLength(out)).toBeLessThanOrEqual(max);
          let open: string | null = null;
          for (const line of out.split('\n')) {
            if (open === null) {
              const m = /^(`{3,})/.exec(line);
              if (m) open = m[1];
            } else if (line === open) open = null;
          }
          expect(open).toBeNull();
        },
      ),
    );
  });
});
