// Whatever a log holds, the alert and the replies stay inert Markdown of an acceptable size.
import fc from 'fast-check';

import type {Finding} from '../../common/types';
import {MAX_ALERT_LINES, MAX_ALERT_YAML_DESTINATIONS, renderAlert, renderThreadUpdate} from './alert';
import {suggest} from '../engine/suggest';
import {codeBlock, runeLength} from './markdown';
import {renderList, renderShow} from './replies';
import {KEY, NOW} from './testing';
import {MAX_POST_RUNES} from './text';

const HOSTILE = [
  '@channel',
  '@here',
  '@all',
  '@alice',
  '\\@channel',
  '[x](http://evil.example)',
  '![i](https://evil.example/i.png)',
  '<http://evil.example>',
  '<img src=x>',
  'http://evil.example/x',
  'www.evil.example',
  'mailto:a@b.example',
  'user@evil.example',
  '```',
  '````',
  '~~~',
  '# heading',
  '===',
  '---',
  '> quote',
  '\n',
  '\r\n',
  '\u202E',
  '\u0000',
  '`',
  '*',
  '**',
  '_',
  ':',
  '.',
  '|',
  '&lt;',
  '    ',
  '😀',
  'evil.example',
];

const hostile = fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({maxLength: 6})), {maxLength: 12}).map((parts) => parts.join(''));
const time = fc.oneof(
  fc.constant(null),
  hostile,
  fc.date({min: new Date(0), max: new Date(4e12), noInvalidDate: true}).map((d) => d.toISOString()),
);

const finding: fc.Arbitrary<Finding> = fc
  .record({
    key: hostile,
    destination: fc.record({host: fc.option(hostile), ip: fc.option(hostile), port: fc.integer({min: 1, max: 65535})}),
    verdict: fc.constantFrom('blocked', 'external-failed', 'passthrough'),
    protocol: fc.constantFrom('HTTP', 'TLS', 'TCP'),
    count: fc.nat(),
    firstSeen: time,
    lastSeen: time,
    pods: fc.array(hostile, {maxLength: 8}),
    samples: fc.array(hostile, {maxLength: 5}),
    attribution: fc.record({
      host: fc.option(hostile),
      candidates: fc.array(hostile, {maxLength: 5}),
      method: fc.constantFrom('sni', 'authority', 'cluster', 'app-log', 'dns', 'well-known', 'none'),
      confidence: fc.constantFrom('certain', 'likely', 'ambiguous', 'unknown'),
      note: hostile,
    }),
    features: fc.array(fc.record({id: hostile, name: hostile, configPath: hostile}), {maxLength: 6}),
    rejectedHost: fc.option(fc.record({printable: hostile, reason: hostile}), {nil: undefined}),
  })
  .map((f) => {
    if (f.rejectedHost === undefined) delete f.rejectedHost;
    return f as Finding;
  });

interface Parsed {
  /** Lines outside fenced blocks, with code spans removed. */
  text: string[];
  blocks: Array<{fence: string; lang: string; body: string; closed: boolean}>;
}

/** Splits Markdown the way a CommonMark renderer finds fenced blocks and code spans. */
function parse(md: string): Parsed {
  const text: string[] = [];
  const blocks: Parsed['blocks'] = [];
  let open: {fence: string; lang: string; lines: string[]} | null = null;
  for (const line of md.split('\n')) {
    if (open) {
      const close = /^ {0,3}(`+)\s*$/.exec(line);
      if (close && close[1].length >= open.fence.length) {
        blocks.push({fence: open.fence, lang: open.lang, body: open.lines.join('\n'), closed: true});
        open = null;
      } else {
        open.lines.push(line);
      }
      continue;
    }
    const start = /^ {0,3}(`{3,})([^`]*)$/.exec(line) ?? /^ {0,3}(~{3,})(.*)$/.exec(line);
    if (start) {
      open = {fence: start[1], lang: start[2].trim(), lines: []};
      continue;
    }
    text.push(stripCodeSpans(line));
  }
  if (open) blocks.push({fence: open.fence, lang: open.lang, body: open.lines.join('\n'), closed: false});
  return {text, blocks};
}

function stripCodeSpans(line: string): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    if (line[i] !== '`' || (i > 0 && line[i - 1] === '\\')) {
      out += line[i++];
      continue;
    }
    let k = i;
    while (line[k] === '`') k++;
    const run = k - i;
    let j = k;
    let end = -1;
    while (j < line.length) {
      if (line[j] === '`') {
        let m = j;
        while (line[m] === '`') m++;
        if (m - j === run) {
          end = m;
          break;
        }
        j = m;
      } else j++;
    }
    if (end < 0) {
      out += line.slice(i, k);
      i = k;
    } else {
      out += '«code»';
      i = end;
    }
  }
  return out;
}

const ALLOWED_LINE =
  /^(|\*\*.*|- .*|\d+\. «code» .*|… and \d+ more(, see \/egress list| destinations?: «code»)|Add to .*|Apply with .*|Details: «code»|The YAML for .*|The suggested YAML .*|More activity .*|\d+ destinations? of this alert (is|are) no longer blocked:)$/;

function checkInert(md: string): void {
  // No working mention anywhere, code included: every '@' is followed by a zero-width space.
  expect(md).not.toMatch(/@(?!\u200B)/);
  const {text, blocks} = parse(md);
  for (const b of blocks) {
    expect(b.closed).toBe(true);
    // The web renderer closes a block on its fence string even mid-line.
    for (const run of b.body.match(/`+/g) ?? []) expect(run.length).toBeLessThan(b.fence.length);
  }
  for (const line of text) {
    expect(line).toMatch(ALLOWED_LINE);
    expect(line).not.toMatch(/\]\(|!\[|<|:\/\/|www\.|(^|[^\\])\[|mailto:(?!\u200B)/i);
  }
}

describe('alert properties', () => {
  test('for any findings and any YAML: inert, fenced, within the limits', () => {
    fc.assert(
      fc.property(fc.array(finding, {maxLength: 12}), hostile, fc.constantFrom('bigbang', 'serviceentry'), (findings, yaml, format) => {
        const plans = suggest(findings, {format}).plans;
        const {message, props} = renderAlert({
          findings,
          plans,
          suggestionYaml: yaml,
          format,
          actionUrl: 'http://b/actions',
          hmacKey: KEY,
          now: NOW,
          digestId: 'd',
        });
        expect(runeLength(message)).toBeLessThanOrEqual(MAX_POST_RUNES);
        checkInert(message);
        // The YAML block is exactly the one codeBlock() made, so nothing in the YAML ended it early.
        const yamlBlocks = parse(message).blocks.filter((b) => b.lang === 'yaml');
        if (findings.length > 0 && findings.length <= MAX_ALERT_YAML_DESTINATIONS && yaml.trim() !== '' && runeLength(yaml) <= 4000) {
          expect(yamlBlocks).toHaveLength(1);
          const expected = codeBlock(yaml, 'yaml').split('\n').slice(1, -1).join('\n');
          expect(yamlBlocks[0].body).toBe(expected);
        } else {
          expect(yamlBlocks).toHaveLength(0);
        }
        expect(JSON.stringify(props).length).toBeLessThanOrEqual(64 * 1024);
        for (const a of props.attachments) {
          expect(a.fallback).not.toMatch(/@(?!\u200B)|[\u0000-\u001F]/);
          for (const b of a.actions) expect(b.name).not.toMatch(/@(?!\u200B)|[\u0000-\u001F]/);
        }
      }),
      {numRuns: 300},
    );
  });

  test('many large hostile findings: still under the length limit, cut with a pointer', () => {
    const big = hostile.map((s) => s.repeat(20));
    const bigFinding = finding.chain((f) =>
      fc.record({pods: fc.array(big, {minLength: 5, maxLength: 20}), note: big}).map((x) => ({
        ...f,
        pods: x.pods,
        attribution: {...f.attribution, note: x.note},
      })),
    );
    fc.assert(
      fc.property(fc.array(bigFinding, {minLength: 20, maxLength: 40}), big, (findings, yaml) => {
        const plans = suggest(findings, {format: 'bigbang'}).plans;
        const {message} = renderAlert({
          findings,
          plans,
          suggestionYaml: yaml,
          format: 'bigbang',
          actionUrl: 'http://b/a',
          hmacKey: KEY,
          now: NOW,
          digestId: 'd',
        });
        expect(runeLength(message)).toBeLessThanOrEqual(MAX_POST_RUNES);
        checkInert(message);
        const shown = (message.match(/^\d+\. /gm) ?? []).length;
        expect(shown).toBeLessThanOrEqual(MAX_ALERT_LINES);
        const more = /^… and (\d+) more destinations?: `\/egress list`$/m.exec(message);
        expect(shown).toBeGreaterThan(0);
        expect(shown + (more ? Number(more[1]) : 0)).toBe(findings.length);
      }),
      {numRuns: 20},
    );
  });

  test('thread updates are inert and bounded', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record(
            {
              finding,
              previousCount: fc.nat(),
              previousPods: fc.array(hostile, {maxLength: 3}),
              reopened: fc.boolean(),
              resolution: fc.option(hostile, {nil: undefined}),
            },
            {requiredKeys: ['finding', 'previousCount', 'previousPods', 'reopened']},
          ),
          {maxLength: 60},
        ),
        (entries) => {
          const {message} = renderThreadUpdate({digestId: 'd', entries});
          expect(runeLength(message)).toBeLessThanOrEqual(MAX_POST_RUNES);
          checkInert(message);
        },
      ),
    );
  });
});

describe('reply properties', () => {
  const REPLY_LINE = /^(|\*\*.*|- .*|The first .* log lines? kept .*|The YAML: .*|Details: .*|… \(cut: too long for one reply\))$/;

  test('show and list: inert and bounded for any finding', () => {
    fc.assert(
      fc.property(fc.array(finding, {minLength: 1, maxLength: 10}), (findings) => {
        const plans = suggest(findings, {format: 'bigbang'}).plans;
        for (const md of [renderShow(findings[0], plans[0]), renderList({filter: 'all', findings})]) {
          expect(runeLength(md)).toBeLessThanOrEqual(MAX_POST_RUNES);
          expect(md).not.toMatch(/@(?!\u200B)/);
          const {text, blocks} = parse(md);
          for (const b of blocks) expect(b.closed).toBe(true);
          for (const line of text) {
            expect(line).toMatch(REPLY_LINE);
            expect(line).not.toMatch(/\]\(|!\[|<|:\/\/|www\.|(^|[^\\])\[|mailto:(?!\u200B)/i);
          }
        }
      }),
      {numRuns: 200},
    );
  });
});
