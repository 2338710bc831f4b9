/*
 * The `/egress` command language. Mattermost hands over the text after the trigger exactly as typed
 * (on a phone: with autocorrected capitals, doubled spaces, smart quotes), so the parser forgives
 * all of that, and answers anything else with what was wrong plus the help text.
 */
import {MAX_REASON_CHARS} from '../../common/api';
import {CONNECTION_TEST_KINDS, type ConnectionTestKind} from '../../common/connection-tests';
import {SUGGESTION_FORMATS, type SuggestionFormat} from '../../common/types';
import {parseTestKind} from '../engine/connection-tests';
import {escapeMarkdown} from './markdown';

export type ListFilter = 'open' | 'blocked' | 'failing' | 'passthrough' | 'ignored' | 'all';

/** What `list` accepts; `open` (neither ignored nor resolved) is what a bare `list` shows. */
export const LIST_FILTERS: readonly ListFilter[] = ['blocked', 'failing', 'passthrough', 'ignored', 'all'];

export type EgressCommand =
  | {name: 'help'}
  | {name: 'status'}
  | {name: 'list'; filter: ListFilter}
  /** `target`: a host, an address, or host:port / a finding key; lower case. */
  | {name: 'show'; target: string}
  /** `target` null: every open finding. `format` null: the bridge's configured default. */
  | {name: 'snippet'; target: string | null; format: SuggestionFormat | null}
  | {name: 'ignore'; target: string; reason: string}
  | {name: 'unignore'; target: string}
  | {name: 'test'; kind: ConnectionTestKind}
  | {name: 'rehearse'};

/** A refusal carries what was wrong (plain text) and the whole Markdown reply: that, then the help. */
export type ParseResult = {ok: true; command: EgressCommand} | {ok: false; error: string; reply: string};

export {MAX_REASON_CHARS};
const MAX_TARGET_CHARS = 300;

const QUOTES: Record<string, string> = {'"': '"', "'": "'", '“': '”', '”': '”', '‘': '’', '’': '’', '«': '»', '„': '“', '`': '`'};

export const USAGE: Record<Exclude<EgressCommand['name'], 'help'>, string> = {
  status: '/egress status',
  list: `/egress list [${LIST_FILTERS.join('|')}]`,
  show: '/egress show <host>',
  snippet: `/egress snippet [host|all] [--format ${SUGGESTION_FORMATS.join('|')}]`,
  ignore: '/egress ignore <host> [reason]',
  unignore: '/egress unignore <host>',
  test: `/egress test <${CONNECTION_TEST_KINDS.join('|')}>`,
  rehearse: '/egress rehearse',
};

const SUBCOMMANDS = new Set<string>(['help', ...Object.keys(USAGE)]);

/** One argument and the text after it; quotes of any kind may group an argument. */
function nextToken(text: string): {token: string; rest: string} | null {
  const s = text.replace(/^\s+/, '');
  if (s === '') return null;
  const close = QUOTES[s[0]];
  if (close !== undefined) {
    const end = s.indexOf(close, 1);
    if (end > 0) return {token: s.slice(1, end), rest: s.slice(end + 1)};
  }
  const m = /^\S+/.exec(s);
  const token = m ? m[0] : s;
  return {token, rest: s.slice(token.length)};
}

function tokens(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  for (let t = nextToken(rest); t !== null; t = nextToken(rest)) {
    out.push(t.token);
    rest = t.rest;
  }
  return out;
}

/**
 * A host, address or key as typed or pasted: surrounding <…> (a pasted link), a scheme and a path
 * (a pasted URL) and a final dot are dropped; names compare in lower case.
 */
function normalizeTarget(raw: string): string | {error: string} {
  let s = raw.trim().replace(/^<(.*)>$/s, '$1');
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\/([^/?#]*).*$/is, '$1');
  s = s.replace(/\.$/, '').toLowerCase();
  if (s === '') return {error: 'The host is empty.'};
  if (s.length > MAX_TARGET_CHARS) return {error: `The host is longer than ${MAX_TARGET_CHARS} characters.`};
  if (/[\s\u0000-\u001F\u007F-\u009F]/.test(s)) return {error: 'The host cannot contain spaces or control characters.'};
  return s;
}

function reasonOf(rest: string): string | {error: string} {
  let s = rest.replace(/\s+/g, ' ').trim();
  const close = QUOTES[s[0] ?? ''];
  if (close !== undefined && s.length >= 2 && s.endsWith(close)) s = s.slice(1, -1).trim();
  if ([...s].length > MAX_REASON_CHARS) return {error: `The reason is longer than ${MAX_REASON_CHARS} characters.`};
  return s;
}

export function renderHelp(): string {
  return [
    '**/egress** shows the outbound connections of Mattermost that Istio blocks, and the ServiceEntry YAML that allows them.',
    '',
    `- \`${USAGE.status}\`: log sources, connection to Mattermost, hardening state`,
    `- \`${USAGE.list}\`: destinations (default: the open ones)`,
    `- \`${USAGE.show}\`: one destination, its log lines and what to do`,
    `- \`${USAGE.snippet}\`: the YAML to add (default: all of it, for the configured integrations at risk and all open destinations)`,
    `- \`${USAGE.ignore}\`: no more alerts for a destination`,
    `- \`${USAGE.unignore}\`: alerts for it again`,
    `- \`${USAGE.test}\`: Mattermost runs its own connection test of an integration, through its sidecar (the email test sends a real email to the bridge's user)`,
    `- \`${USAGE.rehearse}\`: before hardening (under ALLOW_ANY), runs the connection tests except the email one and lists what REGISTRY_ONLY would break, with the ServiceEntries to add`,
    '- `/egress help`: this text',
    '',
    '`<host>` may also be an IP address or `host:port`.',
  ].join('\n');
}

/** The error echoes what was typed, so it is escaped like anything else from outside. */
export function renderUsageError(error: string): string {
  return `${escapeMarkdown(error, {maxLength: 400})}\n\n${renderHelp()}`;
}

function refuse(error: string): ParseResult {
  return {ok: false, error, reply: renderUsageError(error)};
}

function usageError(name: keyof typeof USAGE, what: string): ParseResult {
  return refuse(`${what} Usage: ${USAGE[name]}`);
}

function parseSnippet(args: string[]): ParseResult {
  let target: string | null = null;
  let format: SuggestionFormat | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const flag = /^(?:--format|-f)(?:=(.*))?$/i.exec(a);
    if (flag) {
      const value = flag[1] ?? args[++i];
      if (value === undefined || value === '') return usageError('snippet', '--format needs a value.');
      const f = value.toLowerCase();
      if (!(SUGGESTION_FORMATS as readonly string[]).includes(f)) {
        return usageError('snippet', `Unknown format "${value}"; use one of ${SUGGESTION_FORMATS.join(', ')}.`);
      }
      format = f as SuggestionFormat;
      continue;
    }
    if (a.startsWith('-')) return usageError('snippet', `Unknown option "${a}".`);
    if (target !== null) return usageError('snippet', 'Give one host, or all.');
    const t = normalizeTarget(a);
    if (typeof t !== 'string') return usageError('snippet', t.error);
    target = t;
  }
  return {ok: true, command: {name: 'snippet', target: target === 'all' ? null : target, format}};
}

/** Parses the text after `/egress`. An empty text asks for help. */
export function parseCommand(text: string): ParseResult {
  const first = nextToken(String(text));
  if (first === null) return {ok: true, command: {name: 'help'}};
  const name = first.token.toLowerCase().replace(/^--?/, '');
  if (name === 'h' || name === '?') return {ok: true, command: {name: 'help'}};
  if (!SUBCOMMANDS.has(name)) return refuse(`Unknown subcommand "${first.token}".`);
  const args = tokens(first.rest);

  switch (name) {
    case 'help':
      return {ok: true, command: {name: 'help'}};
    case 'status':
      return args.length === 0 ? {ok: true, command: {name: 'status'}} : usageError('status', 'status takes no arguments.');
    case 'list': {
      if (args.length > 1) return usageError('list', 'list takes at most one filter.');
      if (args.length === 0) return {ok: true, command: {name: 'list', filter: 'open'}};
      const filter = args[0].toLowerCase();
      if (filter === 'open' || (LIST_FILTERS as readonly string[]).includes(filter)) {
        return {ok: true, command: {name: 'list', filter: filter as ListFilter}};
      }
      return usageError('list', `Unknown filter "${args[0]}".`);
    }
    case 'show':
    case 'unignore': {
      if (args.length !== 1) return usageError(name, `${name} needs exactly one host.`);
      const t = normalizeTarget(args[0]);
      if (typeof t !== 'string') return usageError(name, t.error);
      return {ok: true, command: {name, target: t}};
    }
    case 'snippet':
      return parseSnippet(args);
    case 'ignore': {
      const host = nextToken(first.rest);
      if (host === null) return usageError('ignore', 'ignore needs a host.');
      const t = normalizeTarget(host.token);
      if (typeof t !== 'string') return usageError('ignore', t.error);
      const reason = reasonOf(host.rest);
      if (typeof reason !== 'string') return usageError('ignore', reason.error);
      return {ok: true, command: {name: 'ignore', target: t, reason}};
    }
    case 'test': {
      if (args.length !== 1) return usageError('test', 'test needs exactly one integration.');
      const kind = parseTestKind(args[0]);
      if (kind === null) return usageError('test', `Unknown integration "${args[0]}".`);
      return {ok: true, command: {name: 'test', kind}};
    }
    case 'rehearse':
      return args.length === 0 ? {ok: true, command: {name: 'rehearse'}} : usageError('rehearse', 'rehearse takes no arguments.');
    default:
      return refuse(`Unknown subcommand "${first.token}".`);
  }
}
