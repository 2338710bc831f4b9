// Free text that ends up in YAML comments (feature names, configuration paths). YAML ends a comment only at a
// line break, so escaping every line break keeps it a comment: YAML 1.1 readers (go-yaml, i.e. Helm and
// kubectl) also break lines at U+0085, U+2028 and U+2029, which \p{C}, \p{Zl} and \p{Zp} cover. Backticks are
// escaped because the YAML is also shown inside Markdown code fences, which "```" would close. Backslashes
// are kept so that sanitising twice changes nothing.
export const COMMENT_MAX = 160;

export function commentText(s: string, max: number = COMMENT_MAX): string {
  let out = '';
  for (const ch of String(s)) {
    const piece = /[\p{C}\p{Zl}\p{Zp}`]/u.test(ch) ? escape(ch) : ch;
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
