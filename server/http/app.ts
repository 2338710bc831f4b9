// The bridge's HTTP server: the webapp API and the Mattermost callbacks, both reached only through the
// plugin's signed calls (signature.ts), and the operational endpoints, each in its own fastify scope so that
// body parsers, auth and error shapes never leak from one to another.
import Fastify, {type FastifyBaseLogger, type FastifyInstance} from 'fastify';

import {API_BASE_PATH} from '../../common/api';
import {errorHandler, notFoundHandler} from './errors';
import {EventStreams} from './events';
import {httpLogger} from './logging';
import {mattermostRoutes} from './mattermost';
import {createBridgeMetrics} from './metrics';
import {opsRoutes} from './ops';
import {RevisionTracker} from './revision';
import type {HttpDeps} from './types';
import {webappApi} from './webapp';

const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_STREAMS = 100;
const DEFAULT_COALESCE_MS = 250;
const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Destination keys reach 1000 characters; URL-encoded, up to three times that. */
const MAX_PARAM_LENGTH = 3300;

export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const opts = deps.options ?? {};
  const clock = opts.clock ?? Date.now;
  const metrics = createBridgeMetrics(deps.metrics);

  const app = Fastify({
    // Typed as fastify's logger so that the instance is a plain FastifyInstance for callers.
    loggerInstance: httpLogger(deps.logger) as FastifyBaseLogger,
    bodyLimit: DEFAULT_BODY_LIMIT,
    routerOptions: {maxParamLength: MAX_PARAM_LENGTH},
    // Bounds how long a client may take to send its request (not how long a response may stream).
    requestTimeout: 30_000,
    ajv: {
      // Refuse rather than repair: a body with unknown fields or wrong types is a client bug to surface.
      customOptions: {removeAdditional: false, coerceTypes: false, useDefaults: true},
    },
  });

  const verify = {secret: deps.pluginSecret, windowMs: opts.signatureWindowMs, clock, onVerified: deps.onSignedCall};
  const tracker = new RevisionTracker(deps.events, opts.eventCoalesceMs ?? DEFAULT_COALESCE_MS, clock);
  const streams = new EventStreams({
    tracker,
    heartbeatMs: opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    maxStreams: opts.maxEventStreams ?? DEFAULT_MAX_STREAMS,
    onCountChange: (open) => metrics.eventStreams.set(open),
  });

  app.setErrorHandler(errorHandler('application/json'));
  app.setNotFoundHandler(notFoundHandler);

  app.addHook('onResponse', async (request, reply) => {
    // The route template, never the path: paths carry destination keys, an unbounded label set.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequestDuration.observe({method: request.method, route, status_code: String(reply.statusCode)}, reply.elapsedTime / 1000);
  });
  // Open event streams would keep the server from closing.
  app.addHook('preClose', async () => streams.closeAll());
  app.addHook('onClose', async () => tracker.close());

  void app.register(opsRoutes(deps));
  void app.register(mattermostRoutes(deps, metrics, verify));
  // The same path as on Mattermost's side: the plugin forwards /plugins/egress-advisor/api/v1/… unchanged.
  void app.register(webappApi({deps, verify, tracker, streams}), {prefix: API_BASE_PATH});
  return app;
}
