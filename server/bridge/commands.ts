// What /egress and the alert buttons do. Mattermost lets every team member run a custom command and
// click a button, so the caller's roles are checked here, on every call.
import type {ConnectionTestKind, ConnectionTestResponse, RehearsalResponse} from '../../common/connection-tests';
import type {SuggestionFormat} from '../../common/types';
import type {SuggestContext, SuggestResult} from '../engine/suggest';
import {verifyContext} from '../present/hmac';
import {parseCommand, type EgressCommand} from '../present/command';
import {
  BUTTON_ELSEWHERE,
  BUTTON_REFUSAL,
  BUTTON_TOO_OLD,
  BUTTON_UNRECORDED,
  renderCommandReply,
  renderDecidedSince,
  renderUnchecked,
  type CommandReply,
  type FindingView,
  type StatusInput,
} from '../present/replies';
import type {ActionRequest, ActionResponse, CommandResponse, SlashCommandRequest} from '../http/types';
import {StaleDecisionError} from '../store/errors';
import type {Actor, OutboxInput, StatusChangeOptions, Store, StoredFinding} from '../store/types';
import {allFindings} from './pages';
import {suggestAmongOpen, type Configured} from './suggestions';

export interface CommandDeps {
  store: Store;
  /**
   * Looks the caller up in Mattermost (caller.ts): the user as Mattermost names them when a system admin; null
   * for anyone else, or when they cannot be checked.
   */
  adminCaller(userId: string): Promise<Actor | null>;
  /**
   * Why callers cannot be looked up now (the link to Mattermost is broken or down), or null. A caller who
   * could not be looked up is then told that, not that they are no admin.
   */
  lookupProblem?(): string | null;
  status(): Promise<StatusInput>;
  format(): SuggestionFormat;
  suggestContext(): SuggestContext;
  /** The configured integrations held against the open findings (MeshLink.configured), for the one patch. */
  configured?: Configured;
  hmacKey(): Buffer;
  /** Outbox items that tell the alert's thread about an ignore or un-ignore (AlertWorker.statusChanged). */
  notifyStatusChange?: (finding: StoredFinding, change: 'ignore' | 'unignore') => OutboxInput[];
  /** Has Mattermost run one of its connection tests (see connection-tests.ts), for the person who asked. */
  connectionTest(kind: ConnectionTestKind, by: {userId: string; username: string}): Promise<ConnectionTestResponse>;
  /** Under ALLOW_ANY: the tests, and what REGISTRY_ONLY would break (see rehearsal.ts). */
  rehearse(by: {userId: string; username: string}): Promise<RehearsalResponse>;
}

const ephemeral = (text: string): CommandResponse => ({response_type: 'ephemeral', text});

const IGNORED_FROM_ALERT = 'ignored from the alert';

/** A finding named the way people type it: its key, its host, host:port, or its address. */
export async function findTargets(store: Store, target: string): Promise<StoredFinding[]> {
  const t = target.toLowerCase().replace(/^\[|\]$/g, '');
  const all = await allFindings(store);
  const exact = all.filter((f) => f.key === t);
  if (exact.length > 0) return exact;
  return all.filter((f) => {
    const d = f.destination;
    return d.host === t || d.ip === t || `${d.host}:${d.port}` === t || `${d.ip}:${d.port}` === t || f.attribution.candidates.includes(t);
  });
}

function byFilter(filter: string, f: StoredFinding): boolean {
  switch (filter) {
    case 'open':
      return f.status === 'open';
    case 'blocked':
      return f.status === 'open' && f.verdict === 'blocked';
    case 'failing':
      return f.status === 'open' && f.verdict === 'external-failed';
    case 'passthrough':
      return f.status === 'open' && f.verdict === 'passthrough';
    case 'ignored':
      return f.status === 'ignored';
    default:
      return true;
  }
}

export class CommandHandler {
  constructor(private readonly deps: CommandDeps) {}

  async slash(req: SlashCommandRequest): Promise<CommandResponse> {
    const by = await this.deps.adminCaller(req.userId);
    if (by === null) return ephemeral(this.unchecked() ?? renderCommandReply({kind: 'refused'}));
    const parsed = parseCommand(req.text);
    if (!parsed.ok) return ephemeral(parsed.reply);
    return ephemeral(renderCommandReply(await this.run(parsed.command, by)));
  }

  /**
   * The one patch (null: `snippet all`), or some findings' part of it, so that names and entries are the same
   * as in `snippet all` and on the page.
   */
  private suggestFor(only: readonly StoredFinding[] | null, format: SuggestionFormat): Promise<SuggestResult> {
    return suggestAmongOpen(this.deps.store, only, format, this.deps.suggestContext(), this.deps.configured);
  }

  private notify(change: 'ignore' | 'unignore', decidedUpTo?: number): StatusChangeOptions {
    const n = this.deps.notifyStatusChange;
    return {...(n === undefined ? {} : {notify: (f: StoredFinding) => n(f, change)}), ...(decidedUpTo === undefined ? {} : {decidedUpTo})};
  }

  private async one(target: string): Promise<StoredFinding | CommandReply> {
    const matches = await findTargets(this.deps.store, target);
    if (matches.length === 0) return {kind: 'not-found', target};
    if (matches.length > 1) return {kind: 'ambiguous', target, matches: matches as FindingView[]};
    return matches[0];
  }

  private async run(cmd: EgressCommand, by: {userId: string; username: string}): Promise<CommandReply> {
    const {store} = this.deps;
    switch (cmd.name) {
      case 'help':
        return {kind: 'help'};
      case 'status':
        return {kind: 'status', status: await this.deps.status()};
      case 'list': {
        const findings = (await allFindings(store)).filter((f) => byFilter(cmd.filter, f));
        return {kind: 'list', list: {filter: cmd.filter, findings, total: findings.length}};
      }
      case 'show': {
        const f = await this.one(cmd.target);
        if ('kind' in f) return f;
        const s = await this.suggestFor([f], this.deps.format());
        return {kind: 'show', finding: f, plan: s.plans[0]};
      }
      case 'snippet': {
        const format = cmd.format ?? this.deps.format();
        let only: StoredFinding[] | null = null;
        if (cmd.target !== null) {
          const f = await this.one(cmd.target);
          if ('kind' in f) return f;
          only = [f];
        }
        const s = await this.suggestFor(only, format);
        return {kind: 'snippet', snippet: {target: cmd.target, format, yaml: s.yaml, skipped: s.skipped, notes: s.notes, plans: s.plans}};
      }
      case 'ignore': {
        const f = await this.one(cmd.target);
        if ('kind' in f) return f;
        const updated = await store.ignore(f.key, by, cmd.reason, this.notify('ignore'));
        return {kind: 'ignored', finding: updated, reason: cmd.reason};
      }
      case 'test':
        return {kind: 'test', test: await this.deps.connectionTest(cmd.kind, by)};
      case 'rehearse':
        return {kind: 'rehearsal', rehearsal: await this.deps.rehearse(by)};
      case 'unignore': {
        const f = await this.one(cmd.target);
        if ('kind' in f) return f;
        const wasIgnored = f.status === 'ignored';
        const updated = wasIgnored ? await store.unignore(f.key, by, undefined, this.notify('unignore')) : f;
        return {kind: 'unignored', finding: updated, wasIgnored};
      }
    }
  }

  private unchecked(): string | null {
    const problem = this.deps.lookupProblem?.() ?? null;
    return problem === null ? null : renderUnchecked(problem);
  }

  /**
   * A button. Its context must carry the bridge's HMAC, the caller must be a system admin (looked up, see
   * caller.ts), and the destinations it names must have been announced by the very post it was clicked on,
   * so a context copied into another post, or sent with another post's id, changes nothing.
   */
  async action(req: ActionRequest): Promise<ActionResponse> {
    const checked = verifyContext(this.deps.hmacKey(), req.context, new Date());
    if (!checked.ok) {
      return {
        ephemeral_text: checked.reason === 'expired' ? 'This alert is too old for its buttons; use `/egress list`.' : 'This button could not be verified.',
      };
    }
    const by = await this.deps.adminCaller(req.userId);
    if (by === null) return {ephemeral_text: this.unchecked() ?? BUTTON_REFUSAL};
    const fields = checked.fields;
    const keys = typeof fields.key === 'string' ? [fields.key] : Array.isArray(fields.keys) ? [...fields.keys] : [];
    const found = (await Promise.all(keys.map((k) => this.deps.store.getFinding(k)))).filter((f): f is StoredFinding => f !== null);
    if (found.some((f) => f.alertPostId === null)) return {ephemeral_text: BUTTON_UNRECORDED};
    if (found.some((f) => f.alertPostId !== req.postId)) return {ephemeral_text: BUTTON_ELSEWHERE};
    if (fields.action === 'ignore') {
      const decided = typeof fields.decided === 'string' && /^(0|[1-9][0-9]{0,14})$/.test(fields.decided) ? Number(fields.decided) : null;
      if (decided === null) return {ephemeral_text: BUTTON_TOO_OLD};
      const replies: string[] = [];
      for (const key of keys) {
        const f = found.find((x) => x.key === key);
        if (f === undefined) {
          replies.push(renderCommandReply({kind: 'not-found', target: key}));
          continue;
        }
        try {
          const updated = await this.deps.store.ignore(key, by, IGNORED_FROM_ALERT, this.notify('ignore', decided));
          replies.push(renderCommandReply({kind: 'ignored', finding: updated, reason: IGNORED_FROM_ALERT}));
        } catch (err) {
          if (!(err instanceof StaleDecisionError)) throw err;
          replies.push(renderDecidedSince(f, {action: err.latest, by: err.by, at: err.at}));
        }
      }
      return {ephemeral_text: replies.join('\n\n')};
    }
    if (fields.action === 'show-snippet') {
      const format = this.deps.format();
      const s = await this.suggestFor(found, format);
      const target = found.length === 1 ? (found[0].destination.host ?? found[0].key) : null;
      return {
        ephemeral_text: renderCommandReply({kind: 'snippet', snippet: {target, format, yaml: s.yaml, skipped: s.skipped, notes: s.notes, plans: s.plans}}),
      };
    }
    return {ephemeral_text: 'This button does nothing any more.'};
  }
}
