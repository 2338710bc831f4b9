// Probes and metrics for Kubernetes and Prometheus. They sit outside the webapp prefix, so the ingress in
// front of Mattermost never routes them: only the cluster reaches them, without a session. They log at
// warn level only, since probes and scrapes would otherwise fill the log.
import type {FastifyInstance} from 'fastify';

import type {ApiError} from '../../common/api';
import type {HttpDeps, Readiness} from './types';

export const HEALTHZ_PATH = '/healthz';
export const READYZ_PATH = '/readyz';
export const METRICS_PATH = '/metrics';

export function opsRoutes(deps: Pick<HttpDeps, 'ready' | 'alive' | 'metrics'>) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const quiet = {logLevel: 'warn' as const};

    // Alive unless the bridge is wedged where only a restart helps (a store write that never settles); an
    // outage of Mattermost or of the database is readiness, never liveness, so it does not restart the pod.
    app.get(HEALTHZ_PATH, quiet, async (_request, reply) => {
      const state = deps.alive?.() ?? {alive: true, reasons: []};
      if (state.alive) return {status: 'ok'};
      const body: ApiError & {status: string; reasons: string[]} = {
        error: `Not alive: ${state.reasons.join('; ')}`,
        code: 'not_alive',
        status: 'wedged',
        reasons: state.reasons,
      };
      return reply.code(503).send(body);
    });

    app.get(READYZ_PATH, quiet, async (request, reply) => {
      let state: Readiness;
      try {
        state = deps.ready();
      } catch (err) {
        request.log.error({err}, 'readiness check failed');
        state = {ready: false, reasons: ['the readiness check itself failed; see the bridge log']};
      }
      // A degraded bridge (Mattermost's link broken) still serves the plugin, which is how the page and /egress
      // show the reason: taking the pod out of the Service would replace it with "cannot reach the bridge".
      const degraded = state.degraded ?? [];
      if (state.ready) return {ready: true, reasons: [], degraded};
      const body: ApiError & Readiness = {
        error: `Not ready: ${state.reasons.join('; ') || 'no reason given'}`,
        code: 'not_ready',
        ready: false,
        reasons: state.reasons,
        degraded,
      };
      return reply.code(503).send(body);
    });

    app.get(METRICS_PATH, quiet, async (_request, reply) => {
      const text = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).send(text);
    });
  };
}
