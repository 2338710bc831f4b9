// GET /api/v1/namespaces/<ns>/pods/<pod>/log, authenticated the way the client's other calls are (its agent and
// headers), with an AbortSignal that works from the start. client-node's Log.log hands out its AbortController
// only once the response has begun, and a kubelet begins a followed response with the log's first byte: the
// request for a container whose log is still empty could not be cancelled, so a released stream leaked it and
// a stopping bridge never exited.
import {request as httpRequest, type Agent, type IncomingMessage} from 'node:http';
import {request as httpsRequest} from 'node:https';
import type {Writable} from 'node:stream';
import type {KubeConfig, LogOptions} from '@kubernetes/client-node';

export interface LogRequester {
  /**
   * Resolves once the response began (status 200; its body is then piped into `stream`); rejects with the
   * API server's Status (`code`, `body`) otherwise, or with the network error. Aborting `signal` ends the
   * request at any point.
   */
  log(namespace: string, pod: string, container: string, stream: Writable, options: LogOptions, signal: AbortSignal): Promise<void>;
}

/** An HTTP error answer, shaped like client-node's ApiException where describeError and httpStatusOf look. */
class LogRequestError extends Error {
  constructor(
    readonly code: number,
    readonly body: unknown,
  ) {
    super(`HTTP-Code: ${code}`);
  }
}

export function logRequester(config: KubeConfig): LogRequester {
  return {
    async log(namespace, pod, container, stream, options, signal) {
      const cluster = config.getCurrentCluster();
      if (cluster === null) throw new Error('no Kubernetes cluster is configured');
      const url = new URL(`${cluster.server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`);
      url.searchParams.set('container', container);
      url.searchParams.set('follow', String(options.follow === true));
      url.searchParams.set('timestamps', String(options.timestamps === true));
      if (options.sinceTime !== undefined) url.searchParams.set('sinceTime', options.sinceTime);
      if (options.sinceSeconds !== undefined) url.searchParams.set('sinceSeconds', String(options.sinceSeconds));
      const init = await config.applyToFetchOptions({});
      const headers: Record<string, string> = {};
      (init.headers as {forEach(fn: (value: string, key: string) => void): void} | undefined)?.forEach((value, key) => (headers[key] = value));
      signal.throwIfAborted();
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise<void>((resolve, reject) => {
        const req = request(url, {method: 'GET', agent: init.agent as Agent | undefined, headers, signal}, (res: IncomingMessage) => {
          if (res.statusCode === 200) {
            res.pipe(stream);
            resolve();
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // not a Status: keep the text
            }
            reject(new LogRequestError(res.statusCode ?? 0, body));
          });
        });
        req.on('error', reject);
        req.end();
      });
    },
  };
}
