/*
 * Putting untrusted text into Mattermost Markdown. Host names come from network traffic and free
 * text from people, so both must render as the literal characters and must not mention anyone,
 * link anywhere, load images or end the surrounding structure.
 *
 * The rules follow what Mattermost actually parses: the web app's renderer is a fork of marked
 * 0.3 in GFM mode (backslash escapes only for \ ` * { } [ ] ( ) # + - . ! _ > ~ |, URLs detected in
 * plain text, `<…>` autolinks), and the server finds @-mentions in the text nodes of its own
 * Markdown parse, where a backslash does not stop `\@channel` from notifying the whole channel.
 */

const ZWSP = '\u200B';

/** C0/C1 controls (but tab and newline), and the bidirectional overrides used to disguise text. */
const UNSAFE_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/** Characters the renderer honours a backslash escape for, i.e. the ones that can start syntax. */
const ESCAPABLE = /[\\`*{}[\]()#+\-.!_>~|]/g;

export interface EscapeOptions {
  /** Keep line breaks (each line escaped on its own). Default: newlines become spaces. */
  multiline?: boolean;
  /** Cut the result to about this many characters of input, with an ellipsis. */
  maxLength?: number;
}

/**
 * Escapes free text for a Markdown context (a paragraph, a list item, a table cell, a heading).
 * The result shows exactly the input's visible characters.
 */
export function escapeMarkdown(text: string, opts: EscapeOptions = {}): string {
  let s = clean(text, opts.maxLength);
  if (!opts.multiline) s = s.replace(/\s*\n\s*/g, ' ');
  return s
    .split('\n')
    .map((line) => escapeLine(line))
    .join('  \n');
}

function escapeLine(line: string): string {
  // Leading spaces would turn a line into an indented code block; the text keeps one space.
  let s = line.replace(/^[ \t]+/, '').replace(/\t/g, ' ');
  s = s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  s = s.replace(ESCAPABLE, (c) => `\\${c}`);
  // A zero-width space is invisible and splits the words the server's mention parser and the
  // renderer's URL and scheme detection look for; ':' and '@' have no backslash escape.
  s = s.replace(/@/g, `@${ZWSP}`);
  // Only a colon with something right after it can end a scheme (http:, mailto:, a custom one); before a
  // space, a digit (a port, a time of day) or the end no link can start, so prose such as "Reason: x" and
  // times stay free of invisible characters and copy as they read.
  s = s.replace(/:(?=[^\s0-9])/g, `:${ZWSP}`);
  // '=' has no escape either, and a line of them under text makes a heading.
  if (/^=+$/.test(s)) s = `${ZWSP}${s}`;
  // Trailing spaces would add a line break of their own.
  return s.replace(/ +$/, '');
}

/**
 * Inline code (for host names, IPs, setting values): literal, never a mention or link. Backticks in
 * the value are fenced by a longer backtick run; newlines are folded because a code span must stay
 * on one line to stay a code span in every client.
 */
export function inlineCode(text: string, maxLength?: number): string {
  const s = clean(text, maxLength).replace(/\s*\n\s*/g, ' ');
  if (s === '') return '` `';
  const fence = '`'.repeat(longestRun(s, '`') + 1);
  // A space on each side when the content touches the fence, else the backticks would merge.
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/**
 * A fenced code block that its content cannot close: the fence is one backtick longer than the
 * longest backtick run anywhere in the content (the renderer closes on the same fence string even
 * mid-line). `lang` is reduced to the characters a language tag may hold.
 */
export function codeBlock(content: string, lang = ''): string {
  const body = clean(content).replace(/\n+$/, '');
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  const tag = lang.replace(/[^A-Za-z0-9_+.-]/g, '').slice(0, 32);
  return `${fence}${tag}\n${body}\n${fence}`;
}

function clean(text: string, maxLength?: number): string {
  let s = String(text).replace(/\r\n?/g, '\n').replace(UNSAFE_CHARS, '');
  if (maxLength !== undefined && maxLength > 0 && [...s].length > maxLength) {
    s = `${[...s].slice(0, Math.max(1, maxLength - 1)).join('')}…`;
  }
  return s;
}

function longestRun(s: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of s) {
    run = c === ch ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}
