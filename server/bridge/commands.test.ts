/*
 * The alert buttons as the bridge handles them, on a real SQLite store with contexts the alert renderer
 * signed. Mattermost's part (delivering the click, naming the post and the user) is what the plugin
 * forwards; here the request is built as it arrives, and the user lookup (adminCaller) answers as
 * Mattermost would for an admin and for anyone else. The round trip through the real Mattermost and
 * plugin is in test/bridge/bridge.integration.test.ts.
 */
import {randomBytes} from 'node:crypto';

import type {AlertActionContext} from '../../common/alert';
import type {ActionRequest} from '../http/types';
import {sealContext} from '../present/hmac';
import {renderAlertProps} from '../present/props';
import {BUTTON_ELSEWHERE, BUTTON_REFUSAL, BUTTON_TOO_OLD, BUTTON_UNRECORDED} from '../present/replies';
import {openSqliteStore, type SqliteStore} from '../store/sqlite';
import {obs} from '../store/testing/support';
import type {Actor} from '../store/types';
import {CommandHandler, type CommandDeps} from './commands';

const KEY = randomBytes(32);
const ALICE: Actor = {userId: 'a1a1a1a1a1a1a1a1a1a1a1a1a1', username: 'alice'};
const BOB: Actor = {userId: 'b2b2b2b2b2b2b2b2b2b2b2b2b2', username: 'bob'};
const MALLORY = 'm3m3m3m3m3m3m3m3m3m3m3m3m3';
const A = '203.0.113.1:443';
const B = '203.0.113.2:443';
const POST = 'p0p0p0p0p0p0p0p0p0p0p0p0p0';
const OTHER_POST = 'q9q9q9q9q9q9q9q9q9q9q9q9q9';

let store: SqliteStore;
let handler: CommandHandler;

beforeEach(async () => {
  store = openSqliteStore(':memory:');
  await store.applyBatch({sourceId: 's', from: null, position: '1', observations: [obs(A, 3), obs(B, 2)]});
  handler = handlerWith({});
});

afterEach(() => store.closeSync());

/** The handler on the test's store; Mattermost's user lookup answers for ALICE and BOB unless told otherwise. */
function handlerWith(deps: Partial<CommandDeps>): CommandHandler {
  return new CommandHandler({
    store,
    adminCaller: async (id) => [ALICE, BOB].find((a) => a.userId === id) ?? null,
    status: () => Promise.reject(new Error('not used')),
    format: () => 'bigbang',
    suggestContext: () => ({}),
    hmacKey: () => KEY,
    connectionTest: () => Promise.reject(new Error('not used')),
    rehearse: () => Promise.reject(new Error('not used')),
    ...deps,
  });
}

/** The alert as the bridge draws it, then posted as POST: the contexts of its buttons by button id. */
async function drawAlert(): Promise<Record<string, AlertActionContext>> {
  const findings = (await store.listFindings()).items;
  const decisions = new Map<string, number>();
  for (const f of findings)
    decisions.set(f.key, (await store.listDecisions(f.key)).filter((d) => d.action !== 'resolve' && d.action !== 'reopen').at(-1)?.id ?? 0);
  const props = renderAlertProps({
    findings,
    suggestionYaml: '',
    format: 'bigbang',
    actionUrl: 'http://x',
    hmacKey: KEY,
    now: new Date(),
    digestId: 'digest-1',
    decisions,
  });
  for (const f of findings) await store.setAlertPostId(f.key, POST);
  const out: Record<string, AlertActionContext> = {};
  for (const a of props.attachments) for (const b of a.actions) out[b.id] = b.integration!.context;
  return out;
}

function click(context: unknown, opts: {userId?: string; username?: string; postId?: string} = {}): Promise<string> {
  const req: ActionRequest = {
    userId: opts.userId ?? ALICE.userId,
    username: opts.username ?? ALICE.username,
    channelId: 'c',
    channelName: '',
    teamId: 't',
    teamDomain: '',
    postId: opts.postId ?? POST,
    triggerId: '',
    type: '',
    dataSource: '',
    context: context as Record<string, unknown>,
  };
  return handler.action(req).then((r) => r.ephemeral_text ?? '');
}

test('Ignore on its own alert ignores, as the user Mattermost names (not the username in the request)', async () => {
  const buttons = await drawAlert();
  expect(buttons.ignore0.decided).toBe('0');
  expect(await click(buttons.ignore0, {username: 'someone-else'})).toContain('Ignored');
  const f = await store.getFinding(buttons.ignore0.key!);
  expect(f?.status).toBe('ignored');
  expect(f?.ignored?.by).toEqual(ALICE);
});

test('a context is bound to its post: clicked on another post, or copied into one, it changes nothing', async () => {
  const buttons = await drawAlert();
  expect(await click(buttons.ignore0, {postId: OTHER_POST})).toBe(BUTTON_ELSEWHERE);
  expect(await click(buttons.show0, {postId: OTHER_POST})).toBe(BUTTON_ELSEWHERE);
  expect(await click(buttons.showall, {postId: OTHER_POST})).toBe(BUTTON_ELSEWHERE);
  expect((await store.getFinding(buttons.ignore0.key!))?.status).toBe('open');
  // The same buttons on their own post work.
  expect(await click(buttons.show0)).toContain('for `203.0.113.1:443`');
});

test('a destination announced by another alert cannot be changed from this one', async () => {
  const buttons = await drawAlert();
  await store.setAlertPostId(buttons.ignore1.key!, OTHER_POST);
  expect(await click(buttons.ignore1)).toBe(BUTTON_ELSEWHERE);
  expect(await click(buttons.showall)).toBe(BUTTON_ELSEWHERE);
  expect(await click(buttons.ignore1, {postId: OTHER_POST})).toContain('Ignored');
});

test('an alert whose post the bridge has not recorded yet asks to try again', async () => {
  const buttons = await drawAlert();
  await store.setAlertPostId(buttons.ignore0.key!, null);
  expect(await click(buttons.ignore0)).toBe(BUTTON_UNRECORDED);
  expect((await store.getFinding(buttons.ignore0.key!))?.status).toBe('open');
});

test('an older decision never overrides a newer one: a replayed Ignore after an un-ignore is refused, and says why', async () => {
  const buttons = await drawAlert();
  const key = buttons.ignore0.key!;
  expect(await click(buttons.ignore0)).toContain('Ignored');
  await store.unignore(key, BOB, 'we want to hear about it');
  const reply = await click(buttons.ignore0);
  expect(reply).toMatch(/^Not changed: `203\.0\.113\.1:443` was un-ignored by bob at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, after this alert was posted/);
  expect(reply).toContain('To ignore it now: `/egress ignore 203.0.113.1`');
  expect((await store.getFinding(key))?.status).toBe('open');
  expect((await store.listDecisions(key)).map((d) => d.action)).toEqual(['ignore', 'unignore']);
  // A second click on the same button after it worked is refused the same way, naming the ignore.
  expect(await store.ignore(key, BOB, 'by command')).toMatchObject({status: 'ignored'});
  expect(await click(buttons.ignore0)).toMatch(/was ignored by bob/);
  // An alert drawn after the latest decision may decide again.
  await store.unignore(key, BOB);
  const fresh = await drawAlert();
  expect(await click(fresh.ignore0)).toContain('Ignored');
});

test('an Ignore context without the decision it was drawn on (an older bridge) is refused; so are forged and foreign callers', async () => {
  const buttons = await drawAlert();
  const old = sealContext(KEY, {action: 'ignore', key: A, digest_id: 'digest-1'}, new Date());
  expect(await click(old)).toBe(BUTTON_TOO_OLD);
  // Changing the decision it carries breaks the signature.
  expect(await click({...buttons.ignore0, decided: '999'})).toBe('This button could not be verified.');
  expect(await click(buttons.ignore0, {userId: MALLORY})).toBe(BUTTON_REFUSAL);
  expect(await click(buttons.ignore0, {userId: 'me'})).toBe(BUTTON_REFUSAL);
  expect((await store.getFinding(A))?.status).toBe('open');
});

test('a caller who cannot be looked up (the link to Mattermost is broken) is told why, not that they are no admin', async () => {
  const buttons = await drawAlert();
  const broken = handlerWith({adminCaller: async () => null, lookupProblem: () => 'Mattermost rejected the token (HTTP 401).'});
  const req = {
    userId: ALICE.userId,
    username: 'alice',
    channelId: 'c',
    channelName: '',
    teamId: 't',
    teamDomain: '',
    postId: POST,
    triggerId: '',
    type: '',
    dataSource: '',
  };
  const text = (await broken.action({...req, context: buttons.ignore0 as unknown as Record<string, unknown>})).ephemeral_text;
  expect(text).toMatch(/^Egress Advisor cannot check your roles in Mattermost right now, so it did nothing: Mattermost rejected the token /);
  expect((await broken.slash({userId: ALICE.userId, username: 'alice', text: 'status', channelId: 'c', teamId: 't'} as never)).text).toContain(
    'rejected the token',
  );
  expect((await store.getFinding(A))?.status).toBe('open');
});
