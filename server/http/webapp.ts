// The API the System Console page calls, under API_BASE_PATH. JSON in and out, reached only through the
// plugin (a system admin, signed: signature.ts), and every change published as "findings-changed" so that
// other open consoles refresh.
import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';

import {
  MAX_REASON_CHARS,
  MAX_SUGGESTION_KEYS,
  type FindingDetail,
  type FindingSummary,
  type FindingsPage,
  type FindingsRevision,
  type IgnoreRequest,
  type IntegrationsResponse,
  type StatusReport,
  type SuggestionsRequest,
  type SuggestionsResponse,
  type UnignoreRequest,
} from '../../common/api';
import {CONNECTION_TEST_KINDS, type ConnectionTestRequest, type ConnectionTestResponse, type RehearsalResponse} from '../../common/connection-tests';
import {notRunReport} from '../engine/rehearsal';
import {SUGGESTION_FORMATS} from '../../common/types';
import {errorHandler, findingNotFound, HttpError, notFoundHandler} from './errors';
import type {EventStreams} from './events';
import {copyPlan, searchFindings, toDetail, toSummary} from './findings';
import {parseFindingsQuery} from './query';
import type {RevisionTracker} from './revision';
import {callerOf, requireSignature, type VerifyOptions} from './signature';
import {FINDINGS_CHANGED, type HttpDeps} from './types';

/** Keys longer than this cannot be in the store (it cuts text from traffic at 1000 characters). */
const MAX_KEY_CHARS = 1100;
const SMALL_BODY = 16 * 1024;
const SUGGESTIONS_BODY = 2 * 1024 * 1024;

export interface WebappContext {
  deps: HttpDeps;
  verify: VerifyOptions;
  tracker: RevisionTracker;
  streams: EventStreams;
}

const keyParams = {
  type: 'object',
  properties: {key: {type: 'string', minLength: 1, maxLength: MAX_KEY_CHARS}},
  required: ['key'],
} as const;

// The reason is optional, as for /egress ignore and the alert's button (which has nowhere to type one).
const ignoreBody = {
  type: ['object', 'null'],
  properties: {reason: {type: 'string', maxLength: MAX_REASON_CHARS}},
  additionalProperties: false,
} as const;

const unignoreBody = {
  type: ['object', 'null'],
  properties: {reason: {type: 'string', maxLength: MAX_REASON_CHARS}},
  additionalProperties: false,
} as const;

const suggestionsBody = {
  type: 'object',
  properties: {
    keys: {
      anyOf: [{type: 'array', minItems: 1, maxItems: MAX_SUGGESTION_KEYS, items: {type: 'string', minLength: 1, maxLength: MAX_KEY_CHARS}}, {const: 'all'}],
    },
    format: {type: 'string', enum: [...SUGGESTION_FORMATS]},
  },
  required: ['keys', 'format'],
  additionalProperties: false,
} as const;

const NO_TESTS = 'This bridge runs no connection tests.';

const testBody = {
  type: 'object',
  properties: {kind: {type: 'string', enum: [...CONNECTION_TEST_KINDS]}},
  required: ['kind'],
  additionalProperties: false,
} as const;

type KeyRoute = {Params: {key: string}};

function responseHeaders(_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, p: unknown) => void): void {
  // Findings name internal hosts and pods: no shared cache may keep them.
  void reply.header('cache-control', 'no-store');
  void reply.header('x-content-type-options', 'nosniff');
  // Client4's own fetch helpers parse a body as JSON only for exactly "application/json" (JSON is UTF-8 anyway).
  const type = reply.getHeader('content-type');
  if (typeof type === 'string' && type.startsWith('application/json')) void reply.header('content-type', 'application/json');
  done(null, payload);
}

export function webappApi(ctx: WebappContext) {
  const {deps, tracker, streams} = ctx;
  const {store} = deps;

  const changed = (key: string): void => {
    deps.events.emit(FINDINGS_CHANGED, {keys: [key]});
  };

  return async function routes(app: FastifyInstance): Promise<void> {
    // JSON only; the body's bytes are part of the signature.
    requireSignature(app, {...ctx.verify, requireUser: true});
    app.setErrorHandler(errorHandler('application/json'));
    app.setNotFoundHandler(notFoundHandler);
    app.addHook('onSend', responseHeaders);

    app.get('/findings', async (request): Promise<FindingsPage> => {
      const {filter, q, limit, offset} = parseFindingsQuery(request.query as Record<string, unknown>);
      // Read before the query: a change made meanwhile shows up as a newer revision, never as a missed one.
      const revision = tracker.revision;
      const [found, counts] = await Promise.all([
        q === null
          ? store.listFindings({...filter, limit, offset}).then((page) => ({...page, truncated: false}))
          : searchFindings(store, filter, q, {limit, offset}),
        store.countFindings(),
      ]);
      return {
        items: found.items.map(toSummary),
        total: found.total,
        limit,
        offset,
        revision,
        counts: {byStatus: {...counts.byStatus}, openByVerdict: {...counts.openByVerdict}},
        searchTruncated: found.truncated,
      };
    });

    app.get('/findings/revision', async (): Promise<FindingsRevision> => ({revision: tracker.revision}));

    app.get<KeyRoute>('/findings/:key', {schema: {params: keyParams}}, async (request): Promise<FindingDetail> => {
      const {key} = request.params;
      const finding = await store.getFinding(key);
      if (finding === null) throw findingNotFound(key);
      const [history, decisions, tests, suggestion] = await Promise.all([
        store.getHistory(key),
        store.listDecisions(key),
        deps.connectionTests?.forFinding(finding),
        deps.suggest([key], deps.suggestionFormat()),
      ]);
      const plan = suggestion.plans.find((p) => p.key === key) ?? null;
      return {...toDetail(finding, history, decisions, plan), ...(tests ? {tests} : {})};
    });

    app.post<KeyRoute & {Body: IgnoreRequest | null | undefined}>(
      '/findings/:key/ignore',
      {bodyLimit: SMALL_BODY, schema: {params: keyParams, body: ignoreBody}},
      async (request): Promise<FindingSummary> => {
        const {key} = request.params;
        const reason = (request.body?.reason ?? '').trim();
        const admin = callerOf(request);
        const notify = deps.notifyStatusChange;
        const finding = await store.ignore(key, {userId: admin.userId, username: admin.username}, reason, {
          notify: notify ? (f) => notify(f, 'ignore') : undefined,
        });
        request.log.info({userId: admin.userId, username: admin.username, key, action: 'ignore'}, 'finding ignored');
        changed(key);
        return toSummary(finding);
      },
    );

    app.post<KeyRoute & {Body: UnignoreRequest | null | undefined}>(
      '/findings/:key/unignore',
      {bodyLimit: SMALL_BODY, schema: {params: keyParams, body: unignoreBody}},
      async (request): Promise<FindingSummary> => {
        const {key} = request.params;
        const reason = (request.body?.reason ?? '').trim();
        const admin = callerOf(request);
        const before = await store.getFinding(key);
        if (before === null) throw findingNotFound(key);
        const notify = deps.notifyStatusChange;
        const finding = await store.unignore(key, {userId: admin.userId, username: admin.username}, reason, {
          notify: notify ? (f) => notify(f, 'unignore') : undefined,
        });
        if (finding.revision !== before.revision) {
          request.log.info({userId: admin.userId, username: admin.username, key, action: 'unignore'}, 'finding unignored');
          changed(key);
        }
        return toSummary(finding);
      },
    );

    app.post<{Body: SuggestionsRequest}>(
      '/suggestions',
      {bodyLimit: SUGGESTIONS_BODY, schema: {body: suggestionsBody}},
      async (request): Promise<SuggestionsResponse> => {
        const {keys, format} = request.body;
        const result = await deps.suggest(keys === 'all' ? 'all' : [...new Set(keys)], format);
        return copySuggestions(result);
      },
    );

    app.get('/status', async (): Promise<StatusReport> => deps.status());

    app.get('/integrations', async (): Promise<IntegrationsResponse> => {
      const [answer, tests, rehearsal] = await Promise.all([deps.integrations(), deps.connectionTests?.report(), deps.connectionTests?.rehearsal()]);
      // Always there, so the page can say "not run yet" rather than nothing.
      return {...answer, ...(tests ? {tests} : {}), rehearsal: rehearsal ?? notRunReport('unknown', NO_TESTS)};
    });

    // "Rehearse REGISTRY_ONLY": under ALLOW_ANY, the tests run and the answer lists what hardening would break.
    app.post('/integrations/rehearse', {bodyLimit: SMALL_BODY}, async (request): Promise<RehearsalResponse> => {
      const tests = deps.connectionTests;
      if (!tests) throw new HttpError(404, 'not_found', NO_TESTS);
      const admin = callerOf(request);
      return tests.rehearse({userId: admin.userId, username: admin.username});
    });

    // "Test now": Mattermost runs its own connection test; the answer comes when it is done (or refused by the rate limit).
    app.post<{Body: ConnectionTestRequest}>(
      '/integrations/test',
      {bodyLimit: SMALL_BODY, schema: {body: testBody}},
      async (request): Promise<ConnectionTestResponse> => {
        const tests = deps.connectionTests;
        if (!tests) throw new HttpError(404, 'not_found', NO_TESTS);
        const admin = callerOf(request);
        return tests.run(request.body.kind, {userId: admin.userId, username: admin.username});
      },
    );

    // HEAD would open a stream with no body to read.
    app.get('/events', {exposeHeadRoute: false}, (request, reply) => {
      streams.handle(request, reply);
    });
  };
}

/** Only the documented fields, whatever the suggestion stage returns besides. */
function copySuggestions(r: SuggestionsResponse): SuggestionsResponse {
  const out: SuggestionsResponse = {
    format: r.format,
    yaml: r.yaml,
    entries: r.entries.map((e) => ({
      name: e.name,
      hosts: [...e.hosts],
      ports: e.ports.map((p) => ({number: p.number, name: p.name, protocol: p.protocol})),
      resolution: e.resolution,
      ...(e.addresses ? {addresses: [...e.addresses]} : {}),
      ...(e.endpoints ? {endpoints: e.endpoints.map((x) => ({address: x.address}))} : {}),
      covers: [...e.covers],
      ...(e.comment !== undefined ? {comment: e.comment} : {}),
    })),
    skipped: r.skipped.map((s) => ({host: s.host, reason: s.reason})),
    plans: r.plans.map(copyPlan),
    sections: r.sections.map((sec) => ({id: sec.id, title: sec.title, entries: [...sec.entries]})),
  };
  if (r.notes) out.notes = [...r.notes];
  return out;
}
