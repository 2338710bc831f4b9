// Free text that ends up in YAML comments (feature names, configuration paths). YAML ends a comment only at a
// line break, so escaping every line break keeps it a comment: YAML 1.1 readers (go-yaml, i.e. Helm and
// kubectl) also break lines at U+0085, U+2028 and U+2029, which \p{C}, \p{Zl} and \p{Zp} cover. Backticks are
// escaped because the YAML is also shown inside Markdown code fences, which "```" would close. Backslashes
// are kept so that sanitising twice changes nothing.
export const COMMENT_MAX = 160;

const NEEDS_ESCAPE = /[\p{C}\p{Zl}\p{Zp}`]/u;

export function commentText(s: string, max: number = COMMENT_MAX): string {
  const text = String(s);
  // Most text needs no escaping: cut it whole, at a code point boundary, as the loop below would.
  if (!NEEDS_ESCAPE.test(text)) {
    if (text.length <= max) return text;
    const high = text.charCodeAt(max - 1);
    return `${text.slice(0, high >= 0xd800 && high <= 0xdbff ? max - 1 : max)}...`;
  }
  let out = '';
  for (const ch of text) {
    const piece = NEEDS_ESCAPE.test(ch) ? escape(ch) : ch;
    if (out.length + piece.length > max) {
      return `${out}...`;
    }
    out += piece;
  }
  return out;
}

function escape(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}
