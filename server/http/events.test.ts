// The event stream over a real socket: inject() buffers whole answers, a stream never ends.
import type {FastifyInstance} from 'fastify';

import {buildHttpApp} from './app';
import {API, KEYS, seededStore, signed, testDeps, type TestDeps, type TestStore} from './testing/fixtures';
import {FINDINGS_CHANGED, type HttpOptions} from './types';

interface SseBlock {
  event?: string;
  data?: string;
  id?: string;
  retry?: string;
  comments: string[];
}

function parseBlock(block: string): SseBlock {
  const out: SseBlock = {comments: []};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) out.comments.push(line.slice(1).trim());
    const m = /^(event|data|id|retry): ?(.*)$/.exec(line);
    if (m) out[m[1] as 'event' | 'data' | 'id' | 'retry'] = m[2];
  }
  return out;
}

interface Stream {
  status: number;
  headers: Headers;
  /** The next block, or null when the server ended the stream. */
  next(timeoutMs?: number): Promise<SseBlock | null>;
  /** The next block that is an event (comments and retry skipped). */
  nextEvent(timeoutMs?: number): Promise<SseBlock | null>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string>): Promise<Stream> {
  const controller = new AbortController();
  const res = await fetch(url, {headers, signal: controller.signal});
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (timeoutMs = 3000): Promise<SseBlock | null> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return parseBlock(block);
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const {value, done} = await Promise.race([reader.read(), timeout]);
        if (done) return null;
        buffer += decoder.decode(value, {stream: true});
      } finally {
        clearTimeout(timer);
      }
    }
  };
  const nextEvent = async (timeoutMs?: number): Promise<SseBlock | null> => {
    for (;;) {
      const block = await next(timeoutMs);
      if (block === null || block.event !== undefined) return block;
    }
  };
  return {status: res.status, headers: res.headers, next, nextEvent, close: () => controller.abort()};
}

let db: TestStore;
let deps: TestDeps;
let app: FastifyInstance;
let base: string;
const streams: Stream[] = [];

async function start(options: HttpOptions = {}): Promise<void> {
  deps = testDeps(db.store, {options: {eventCoalesceMs: 0, ...options}});
  app = buildHttpApp(deps);
  base = await app.listen({host: '127.0.0.1', port: 0});
}

/** Headers of a call as the plugin signs it. */
const sig = (method: 'GET' | 'POST', path: string, payload?: unknown): Record<string, string> => signed(method, path, {payload}).headers;

async function open(headers: Record<string, string> = sig('GET', `${API}/events`)): Promise<Stream> {
  const s = await openStream(`${base}${API}/events`, headers);
  streams.push(s);
  return s;
}

beforeEach(async () => {
  db = await seededStore();
});

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await app.close();
  await db.cleanup();
});

test('an admin gets the current revision, then an event after findings-changed is published', async () => {
  await start();
  const stream = await open();
  expect(stream.status).toBe(200);
  expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  expect(stream.headers.get('x-accel-buffering')).toBe('no');
  expect(await stream.next()).toMatchObject({retry: '5000'});

  const hello = await stream.nextEvent();
  expect(hello?.event).toBe('revision');
  const initial = JSON.parse(hello!.data!).revision as number;
  expect(hello?.id).toBe(String(initial));

  deps.emitter.emit(FINDINGS_CHANGED, {keys: [KEYS.push]});
  const changed = await stream.nextEvent();
  expect(changed?.event).toBe('findings-changed');
  const data = JSON.parse(changed!.data!);
  expect(data).toEqual({revision: expect.any(Number), keys: [KEYS.push]});
  expect(data.revision).toBeGreaterThan(initial);

  // A change made through the API reaches the stream the same way; polling sees the same number.
  const res = await fetch(`${base}${API}/findings/${encodeURIComponent(KEYS.v6)}/ignore`, {
    method: 'POST',
    headers: sig('POST', `${API}/findings/${encodeURIComponent(KEYS.v6)}/ignore`, {reason: 'documentation range'}),
    body: JSON.stringify({reason: 'documentation range'}),
  });
  expect(res.status).toBe(200);
  const viaApi = JSON.parse((await stream.nextEvent())!.data!);
  expect(viaApi.keys).toEqual([KEYS.v6]);
  const polled = (await (await fetch(`${base}${API}/findings/revision`, {headers: sig('GET', `${API}/findings/revision`)})).json()) as {revision: number};
  expect(polled.revision).toBe(viaApi.revision);
});

test('changes without known keys, or too many, are announced as "any"', async () => {
  await start();
  const stream = await open();
  await stream.nextEvent();
  deps.emitter.emit(FINDINGS_CHANGED);
  expect(JSON.parse((await stream.nextEvent())!.data!).keys).toBeNull();
  deps.emitter.emit(FINDINGS_CHANGED, {keys: Array.from({length: 60}, (_, i) => `h${i}.example:443`)});
  expect(JSON.parse((await stream.nextEvent())!.data!).keys).toBeNull();
});

test('close changes reach the stream as one event carrying every key', async () => {
  await start({eventCoalesceMs: 200});
  const stream = await open();
  await stream.nextEvent();
  deps.emitter.emit(FINDINGS_CHANGED, {keys: ['a:1']});
  deps.emitter.emit(FINDINGS_CHANGED, {keys: ['b:2']});
  deps.emitter.emit(FINDINGS_CHANGED, {keys: ['c:3']});
  expect(JSON.parse((await stream.nextEvent())!.data!).keys).toEqual(['a:1']);
  expect(JSON.parse((await stream.nextEvent())!.data!).keys).toEqual(['b:2', 'c:3']);
});

test('heartbeat comments keep the stream alive', async () => {
  await start({heartbeatMs: 50});
  const stream = await open();
  await stream.nextEvent();
  const block = await stream.next();
  expect(block).toEqual({comments: ['heartbeat']});
});

test('without a signed call from the plugin there is no stream', async () => {
  await start();
  const none = await fetch(`${base}${API}/events`);
  expect(none.status).toBe(401);
  expect(((await none.json()) as {code: string}).code).toBe('signature_invalid');
});

test('streams beyond the limit are refused so the webapp polls instead', async () => {
  await start({maxEventStreams: 1});
  await open();
  const second = await fetch(`${base}${API}/events`, {headers: sig('GET', `${API}/events`)});
  expect(second.status).toBe(503);
  expect((await second.json()) as object).toMatchObject({code: 'too_many_streams', error: expect.stringContaining('findings/revision')});
});

test('closing the app ends open streams instead of waiting for them', async () => {
  await start();
  const stream = await open();
  await stream.nextEvent();
  const started = Date.now();
  await app.close();
  expect(Date.now() - started).toBeLessThan(2000);
  expect(await stream.next()).toBeNull();
});
