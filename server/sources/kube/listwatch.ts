// Keeps a local copy of a collection current, the way client-go's Reflector does: list, then watch from
// the list's resourceVersion; a watch that ends is resumed from the last version seen (an event's or a
// BOOKMARK's); a watch refused with 410 Gone ("too old resource version", sent either as the HTTP status or
// as an ERROR event inside a 200 stream) means the history is gone, so the collection is listed again and
// whatever changed meanwhile is found by comparing the two copies.
import {backoffDelayMs, type BackoffPolicy} from '../../store/backoff';
import {Waker} from '../wake';
import {describeError, httpStatusOf} from './library';

export interface KubeObject {
  metadata?: {name?: string; namespace?: string; uid?: string; resourceVersion?: string};
}

export interface WatchLike {
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    event: (type: string, object: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController>;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface ListWatchHandlers<T> {
  /** The whole collection, after every (re)list. */
  synced(items: T[]): void;
  added(item: T): void;
  modified(item: T): void;
  deleted(item: T): void;
  /** Listing or watching failed; the loop retries after a backoff. Called once per failure in a row. */
  failed(err: unknown, what: 'list' | 'watch', attempt: number): void;
  /** The first success after failures. */
  recovered?(): void;
}

export interface ListWatchOptions<T> {
  list(): Promise<ListResult<T>>;
  /** The collection's path, e.g. /api/v1/namespaces/mattermost/pods; asked again before every watch. */
  path: string | (() => string);
  /** labelSelector and the like; watch, resourceVersion and allowWatchBookmarks are added. */
  query?: Record<string, string>;
  watch: WatchLike;
  handlers: ListWatchHandlers<T>;
  /**
   * Asked of the server, which then ends the watch cleanly; a watch that outlives it by a minute is
   * presumed stuck on a dead connection and is abandoned. Default 300.
   */
  timeoutSeconds?: number;
  backoff?: BackoffPolicy;
}

export interface ListWatchStats {
  resourceVersion: string | null;
  lists: number;
  watches: number;
  expired: number;
  bookmarks: number;
  lastError: string | null;
}

const DEFAULT_BACKOFF: BackoffPolicy = {baseMs: 500, factor: 2, maxMs: 30_000, jitter: 0.2};
const STUCK_GRACE_MS = 60_000;

type WatchEnd = {kind: 'closed'} | {kind: 'expired'} | {kind: 'failed'; err: unknown};

export class ListWatch<T extends KubeObject> {
  readonly stats: ListWatchStats = {resourceVersion: null, lists: 0, watches: 0, expired: 0, bookmarks: 0, lastError: null};
  private readonly waker = new Waker();
  private readonly timeoutSeconds: number;
  private readonly backoff: BackoffPolicy;
  private running = false;
  private loop: Promise<void> | null = null;
  private current: AbortController | null = null;
  /** Ends the current watch attempt at once, even one whose request has not been answered yet. */
  private cancel: (() => void) | null = null;
  private failures = 0;
  private firstList: {promise: Promise<void>; resolve: () => void};

  constructor(private readonly opts: ListWatchOptions<T>) {
    this.timeoutSeconds = Math.max(1, Math.floor(opts.timeoutSeconds ?? 300));
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.firstList = {promise, resolve};
  }

  /** Resolves after the first list attempt, successful or not; the loop goes on in the background. */
  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      this.loop = this.run();
    }
    return this.firstList.promise;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.current?.abort();
    this.cancel?.();
    this.waker.wake();
    await this.loop;
    this.loop = null;
    this.firstList.resolve();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let rv: string;
      try {
        const listed = await this.opts.list();
        rv = listed.resourceVersion;
        this.stats.lists += 1;
        this.stats.resourceVersion = rv;
        if (!this.running) break;
        this.succeeded();
        this.opts.handlers.synced(listed.items);
      } catch (err) {
        this.firstList.resolve();
        if (!this.running) break;
        await this.fail(err, 'list');
        continue;
      }
      this.firstList.resolve();
      await this.watchFrom(rv);
    }
    this.firstList.resolve();
  }

  /** Watches until the history is gone (then the caller lists again) or the loop stops. */
  private async watchFrom(start: string): Promise<void> {
    let rv = start;
    while (this.running) {
      const end = await this.watchOnce(rv, (next) => {
        rv = next;
      });
      if (!this.running) return;
      if (end.kind === 'expired') {
        this.stats.expired += 1;
        // Expired before anything arrived: a server that keeps doing that must not be listed in a tight loop.
        if (rv === start) await this.waker.wait(this.backoff.baseMs);
        return;
      }
      if (end.kind === 'failed') {
        await this.fail(end.err, 'watch');
        continue;
      }
      this.succeeded();
    }
  }

  private watchOnce(rv: string, seen: (rv: string) => void): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let settled = false;
      let stuck: NodeJS.Timeout | null = null;
      const finish = (end: WatchEnd): void => {
        if (settled) return;
        settled = true;
        if (stuck !== null) clearTimeout(stuck);
        this.current?.abort();
        this.current = null;
        this.cancel = null;
        resolve(end);
      };
      this.cancel = () => finish({kind: 'closed'});
      const onEvent = (type: string, object: unknown): void => {
        if (settled) return;
        const obj = object as (T & {code?: unknown; message?: unknown}) | null;
        const version = obj?.metadata?.resourceVersion;
        switch (type) {
          case 'ADDED':
          case 'MODIFIED':
          case 'DELETED':
            if (typeof version === 'string') {
              rv = version;
              seen(version);
              this.stats.resourceVersion = version;
            }
            if (type === 'ADDED') this.opts.handlers.added(obj as T);
            else if (type === 'MODIFIED') this.opts.handlers.modified(obj as T);
            else this.opts.handlers.deleted(obj as T);
            break;
          case 'BOOKMARK':
            // Carries nothing but the version up to which everything has been sent.
            if (typeof version === 'string') {
              rv = version;
              seen(version);
              this.stats.resourceVersion = version;
              this.stats.bookmarks += 1;
            }
            break;
          case 'ERROR':
            // A Status object: 410 is the expired history; anything else is a failure of this watch only.
            if (obj?.code === 410) finish({kind: 'expired'});
            else finish({kind: 'failed', err: new Error(`the watch reported: ${typeof obj?.message === 'string' ? obj.message : JSON.stringify(object)}`)});
            break;
          default:
            break;
        }
      };
      const onDone = (err: unknown): void => {
        if (!this.running) return finish({kind: 'closed'});
        if (err === null || err === undefined) return finish({kind: 'closed'});
        if (httpStatusOf(err) === 410) return finish({kind: 'expired'});
        finish({kind: 'failed', err});
      };
      this.stats.watches += 1;
      const query = {...this.opts.query, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: this.timeoutSeconds};
      stuck = setTimeout(() => finish({kind: 'closed'}), this.timeoutSeconds * 1000 + STUCK_GRACE_MS);
      const path = typeof this.opts.path === 'function' ? this.opts.path() : this.opts.path;
      this.opts.watch.watch(path, query, onEvent, onDone).then(
        (controller) => {
          if (settled) controller.abort();
          else this.current = controller;
        },
        (err: unknown) => onDone(err),
      );
    });
  }

  private succeeded(): void {
    if (this.failures > 0) this.opts.handlers.recovered?.();
    this.failures = 0;
    this.stats.lastError = null;
  }

  private async fail(err: unknown, what: 'list' | 'watch'): Promise<void> {
    this.failures += 1;
    this.stats.lastError = `${what}: ${describeError(err)}`;
    this.opts.handlers.failed(err, what, this.failures);
    await this.waker.wait(backoffDelayMs(this.failures, Math.random(), this.backoff));
  }
}
