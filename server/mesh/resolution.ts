// When a blocked destination counts as fixed: a ServiceEntry the Mattermost pods can see now covers it, and
// no connection to it has been blocked since that entry appeared. Pure; the bridge's leader runs it.
import type {Finding} from '../../common/types';
import {coveringAllowance, type AllowedHost} from '../engine/suggest/allowed';

export interface ResolutionTiming {
  /**
   * Blocked lines this long after the entry appeared still count as before it: the proxies get the new
   * configuration a few seconds after the API server stores it. Default 60 s.
   */
  propagationMs: number;
  /** How long after the entry appeared, and after the last blocked line, before resolving. Default 60 s. */
  graceMs: number;
}

export const DEFAULT_RESOLUTION_TIMING: ResolutionTiming = {propagationMs: 60_000, graceMs: 60_000};

/**
 * Since when each allowance has been in the mesh, as this process saw it. An entry that existed before the
 * process started counts from the first reading: later than the truth, so resolution errs on the late side.
 */
export class CoverageClock {
  private since = new Map<string, number>();

  observe(allowed: readonly AllowedHost[], nowMs: number): void {
    const next = new Map<string, number>();
    for (const a of allowed) {
      const id = idOf(a);
      next.set(id, this.since.get(id) ?? nowMs);
    }
    this.since = next;
  }

  sinceOf(a: AllowedHost): number | undefined {
    return this.since.get(idOf(a));
  }
}

function idOf(a: AllowedHost): string {
  return `${a.source}\u0000${a.host}\u0000${a.port}\u0000${a.addresses.join(',')}`;
}

export type ResolutionCandidate = Pick<Finding, 'key' | 'verdict' | 'destination' | 'attribution' | 'lastSeen'> & {
  status: string;
  /** The store's time of the last change: stands in for lastSeen when the lines carried no time. */
  updatedAt: string;
};

export interface Resolution {
  key: string;
  /** What the administrator reads in the finding's history and the alert's thread. */
  reason: string;
  /** The ServiceEntry (or other allowance) that covers it. */
  allowedBy: string;
}

export interface PendingResolution {
  key: string;
  allowedBy: string;
  /** Lines came after the entry had time to apply: the entry does not do what it should. */
  stillBlocked: boolean;
  /** Why it is not resolved (yet). */
  why: string;
}

/** Which open blocked or passthrough findings the mesh now lets out, and which it covers but still blocks. */
export function resolutions(
  findings: readonly ResolutionCandidate[],
  allowed: readonly AllowedHost[],
  clock: CoverageClock,
  nowMs: number,
  timing: ResolutionTiming = DEFAULT_RESOLUTION_TIMING,
): {resolve: Resolution[]; pending: PendingResolution[]} {
  const resolve: Resolution[] = [];
  const pending: PendingResolution[] = [];
  for (const f of findings) {
    if (f.status !== 'open' || (f.verdict !== 'blocked' && f.verdict !== 'passthrough')) continue;
    const name = f.attribution.host ?? f.destination.host;
    const a =
      (name !== null ? coveringAllowance(allowed, name, f.destination.port) : null) ??
      (f.destination.ip !== null ? coveringAllowance(allowed, f.destination.ip, f.destination.port) : null);
    if (a === null) continue;
    const since = clock.sinceOf(a);
    const last = Date.parse(f.lastSeen ?? f.updatedAt);
    if (since === undefined || !Number.isFinite(last)) continue;
    const sinceIso = new Date(since).toISOString();
    if (last > since + timing.propagationMs) {
      pending.push({
        key: f.key,
        allowedBy: a.source,
        stillBlocked: true,
        why: `${a.source} covers it (in the mesh since ${sinceIso}), yet a connection was ${f.verdict === 'blocked' ? 'blocked' : 'passed unregistered'} at ${new Date(last).toISOString()}: check its ports, protocol and exportTo, and the Sidecar's egress hosts`,
      });
      continue;
    }
    if (nowMs < Math.max(since, last) + timing.graceMs) {
      pending.push({key: f.key, allowedBy: a.source, stillBlocked: false, why: `${a.source} covers it; waiting to see no ${f.verdict} line after it`});
      continue;
    }
    resolve.push({
      key: f.key,
      allowedBy: a.source,
      reason: `allowed by ${a.source} (in the mesh since ${sinceIso}); no ${f.verdict === 'blocked' ? 'blocked' : 'unregistered'} connection since`,
    });
  }
  return {resolve, pending};
}
