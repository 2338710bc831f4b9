// Free text that ends up in YAML comments (feature names, configuration paths). YAML ends a comment only at a
// line break, so escaping line breaks keeps it a comment; backticks are escaped because the YAML is also shown
// inside Markdown code fences, which a "```" would close.
export const COMMENT_MAX = 160;

export function commentText(s: string, max: number = COMMENT_MAX): string {
  let out = '';
  for (const ch of String(s)) {
    const piece = /[\p{C}\p{Zl}\p{Zp}`\\]/u.test(ch) ? escape(ch) : ch;
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
