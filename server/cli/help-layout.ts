// How help text is laid out: at the terminal's width, with words kept whole and commands never wrapped.
import {Help} from 'commander';

/** The width used when the output is not a terminal (a pipe, a file, a test). */
export const DEFAULT_HELP_WIDTH = 80;
/** Narrower terminals still get lines this long: shorter ones would break almost every word group. */
export const MIN_HELP_WIDTH = 40;

/** The terminal's width when writing to one (process.stdout.columns), else the default. */
export function helpWidth(out: {isTTY?: boolean; columns?: number}): number {
  const columns = out.isTTY === true ? out.columns : undefined;
  if (columns === undefined || !Number.isInteger(columns) || columns <= 0) return DEFAULT_HELP_WIDTH;
  return Math.max(MIN_HELP_WIDTH, columns);
}

function helper(width: number): Help {
  const h = new Help();
  h.helpWidth = width;
  // Commander leaves a column narrower than 40 unwrapped; narrow columns are laid out under the term instead.
  h.minWidthToWrap = 1;
  return h;
}

/** Prose wrapped at `width`, each line after `indent` spaces; line breaks already in it are kept. */
export function wrapParagraph(text: string, width: number, indent = 0): string {
  const pad = ' '.repeat(indent);
  return helper(width)
    .boxWrap(text, Math.max(MIN_HELP_WIDTH - indent, width - indent))
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n');
}

/**
 * One row of term and description, as commander lays out options: the description in a column beside the
 * term while that column is wide enough to read, otherwise under the term, indented. Commander's own layout
 * leaves a narrow column unwrapped, so this replaces it (configureHelp).
 */
export function formatItem(term: string, termWidth: number, description: string, width: number): string {
  if (description === '') return `  ${term}`;
  if (width - termWidth - 4 >= MIN_HELP_WIDTH) {
    const h = helper(width);
    return h.formatItem(term, termWidth, description, h);
  }
  return `  ${term}\n${wrapParagraph(description, width, 6)}`;
}

/** Rows of term and description (see formatItem). */
export function formatTable(rows: readonly (readonly [string, string])[], width: number): string {
  const termWidth = Math.max(...rows.map(([t]) => t.length));
  return rows.map(([t, d]) => formatItem(t, termWidth, d, width)).join('\n');
}
