/*
 * Escaping for everything this layer renders. The rules themselves live in
 * server/mattermost/markdown.ts (one implementation for the whole bridge); this module adds the one
 * guarantee that one leaves to the reader of a code span or block: text from traffic never carries
 * a working `@` in the raw message, not even inside code, so no parser (server, web, mobile, push)
 * can ever take it for a mention.
 */
import {codeBlock as baseCodeBlock, escapeMarkdown as baseEscapeMarkdown, inlineCode as baseInlineCode, type EscapeOptions} from '../mattermost/markdown';

export type {EscapeOptions};

const ZWSP = '\u200B';

/**
 * An invisible zero-width space after every `@`. Host names and pod names that pass validation
 * never hold an `@`, so what an administrator copies from a valid name is unchanged.
 */
export function breakMentions(text: string): string {
  return String(text).replace(/@/g, `@${ZWSP}`);
}

/** Free text in a paragraph or list item: shows the literal characters, links and mentions nothing. */
export function escapeMarkdown(text: string, opts: EscapeOptions = {}): string {
  return baseEscapeMarkdown(text, opts);
}

/** A code span for a host, address, pod or setting: literal, copyable, on one line. */
export function inlineCode(text: string, maxLength?: number): string {
  // Cut before breaking mentions, so a cut never separates an '@' from its zero-width space.
  return baseInlineCode(breakMentions(maxLength === undefined ? String(text) : cutText(String(text), maxLength)));
}

function cutText(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, Math.max(1, max - 1)).join('')}…` : text;
}

/** A fenced block its content cannot close (the fence outgrows every backtick run inside). */
export function codeBlock(content: string, lang = ''): string {
  return baseCodeBlock(breakMentions(content), lang);
}

/**
 * Plain text for places Mattermost shows without Markdown (notification fallbacks, button labels):
 * one line, no control or direction-override characters, no working mention, at most `max` characters.
 */
export function plainText(text: string, max: number): string {
  const s = String(text)
    .replace(/[\u0000-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return breakMentions(cutText(s, max));
}

/** Mattermost counts a message's length in code points, not UTF-16 units. */
export function runeLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Cuts Markdown that would exceed `max` runes at a line boundary, closing a code block the cut
 * leaves open (so the note after it is not swallowed into code), and says it was cut. Relies on
 * the shape codeBlock() gives blocks: an opening fence line, a closing line that is the bare fence.
 */
export function fitMarkdown(message: string, max: number, note = '… (cut: too long for one post)'): string {
  if (runeLength(message) <= max) return message;
  const kept: string[] = [];
  let fence: string | null = null;
  // Room for the note, the blank line before it and a closing fence.
  let used = runeLength(note) + 2;
  for (const line of message.split('\n')) {
    const n = runeLength(line) + 1;
    const opening: string | undefined = fence === null ? /^(`{3,})/.exec(line)?.[1] : undefined;
    const reserve = (opening ?? fence ?? '').length + 1;
    if (used + n + reserve > max) break;
    kept.push(line);
    used += n;
    if (opening !== undefined) fence = opening;
    else if (fence !== null && line === fence) fence = null;
  }
  if (fence !== null) kept.push(fence);
  return [...kept, '', note].join('\n');
}

/**
 * Prose that quotes commands and names in backticks (the engine's plans and notes): the quoted parts
 * become code spans exactly as they run, the rest is escaped like any free text.
 */
export function proseWithCode(text: string, maxLength?: number): string {
  const s = maxLength === undefined ? String(text) : cutText(String(text), maxLength);
  const out: string[] = [];
  const re = /`([^`\n]+)`/g;
  let last = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    out.push(escapePart(s.slice(last, m.index)), inlineCode(m[1]));
    last = m.index + m[0].length;
  }
  out.push(escapePart(s.slice(last)));
  return out.join('');
}

/** Escapes a piece between code spans, keeping the spaces at its ends that separate it from them. */
function escapePart(piece: string): string {
  if (piece === '') return '';
  const lead = /^\s/.test(piece) ? ' ' : '';
  const trail = /\s$/.test(piece) && piece.trim() !== '' ? ' ' : '';
  const body = escapeMarkdown(piece);
  return body === '' ? (lead === '' && trail === '' ? '' : ' ') : `${lead}${body}${trail}`;
}
