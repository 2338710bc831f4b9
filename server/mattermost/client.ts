/*
 * The bridge's handle on one Mattermost identity: Client4 from @mattermost/client with a timeout on
 * every request, errors classified (see errors.ts) and credentials kept out of every message.
 */
import {AsyncLocalStorage} from 'node:async_hooks';
import {inspect} from 'node:util';

import {Client4} from '@mattermost/client';
import type {Options} from '@mattermost/types/client4';

import {classifyError, MattermostError, scrubSecrets} from './errors';

export const DEFAULT_TIMEOUT_MS = 15_000;
const USER_AGENT = 'egress-advisor-bridge';

export interface MattermostClientOptions {
  /** Base URL of Mattermost, e.g. `http://mattermost.mattermost.svc.cluster.local:8065`. */
  url: string;
  /** A personal access token, bot token or session token. */
  token: string;
  /** Per-call timeout; each call may override it. Default 15 s. */
  timeoutMs?: number;
}

export interface CallOptions {
  timeoutMs?: number;
}

/** The signal of the call in progress, carried to `getOptions` through the async context. */
const callSignal = new AsyncLocalStorage<AbortSignal>();

/**
 * Client4 has no per-request timeout and calls the global fetch itself; its `getOptions` is the one
 * place every request passes through, so the signal of the current call is added there.
 */
class TimedClient4 extends Client4 {
  override getOptions(options: Options): ReturnType<Client4['getOptions']> {
    const out = super.getOptions(options);
    const signal = callSignal.getStore();
    return signal ? {...out, signal} : out;
  }
}

export class MattermostClient {
  readonly url: string;
  readonly timeoutMs: number;
  readonly #token: string;
  readonly #api: TimedClient4;

  constructor(opts: MattermostClientOptions) {
    const url = opts.url.trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/@]+$|^https?:\/\/[^/@]+\/[^@]*$/i.test(url)) {
      // fetch refuses URLs with user:password@, and such a URL would put a secret in every message.
      throw new MattermostError({
        kind: 'invalid',
        operation: 'configure',
        message: 'Mattermost URL must be an http(s) URL without user:password@ (the token authenticates)',
      });
    }
    if (!opts.token) {
      throw new MattermostError({kind: 'invalid', operation: 'configure', message: 'Mattermost token is empty'});
    }
    this.url = url;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#token = opts.token;
    this.#api = new TimedClient4();
    this.#api.setUrl(url);
    this.#api.setToken(opts.token);
    // Without a browser there is no cookie jar, and Mattermost must see only the bearer token.
    this.#api.setIncludeCookies(false);
    this.#api.setUserAgent(USER_AGENT);
  }

  /**
   * Runs one or more Client4 calls under a single deadline. Whatever fails is rethrown as a
   * `MattermostError` whose message never contains the token.
   *
   *   const me = await client.call('getMe', (api) => api.getMe());
   */
  async call<T>(operation: string, fn: (api: Client4) => Promise<T>, opts: CallOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await callSignal.run(signal, () => fn(this.#api));
    } catch (err) {
      throw classifyError(err, {operation, baseUrl: this.#api.getUrl(), secrets: [this.#token], timeoutMs});
    }
  }

  /** A client for another identity (e.g. the bot) on the same server with the same timeout. */
  withToken(token: string): MattermostClient {
    return new MattermostClient({url: this.#api.getUrl(), token, timeoutMs: this.timeoutMs});
  }

  /** Removes this client's token (and anything token-shaped) from text. */
  scrub(text: string): string {
    return scrubSecrets(text, [this.#token]);
  }

  /** Version of the server as reported by its last answer (`X-Version-Id`), empty before any call. */
  get serverVersion(): string {
    return this.#api.getServerVersion();
  }

  toJSON(): {url: string; timeoutMs: number} {
    return {url: this.url, timeoutMs: this.timeoutMs};
  }

  [inspect.custom](): string {
    return `MattermostClient { url: '${this.url}', timeoutMs: ${this.timeoutMs} }`;
  }
}
