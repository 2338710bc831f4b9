/*
 * istio-proxy access-log lines in Istio's default TEXT format, as `kubectl logs --prefix` prints them
 * (the layout of server/sample/istio-proxy.log). Addresses are documentation and benchmarking ranges
 * (RFC 5737, RFC 2544); host names are under example.com/.org/.net or real public API hosts.
 */
export const PODS = ['mattermost-6c8f9d7b54-2xq8k', 'mattermost-6c8f9d7b54-p7wzn'] as const;

const POD_IPS: Record<string, string> = {[PODS[0]]: '10.42.1.23', [PODS[1]]: '10.42.2.17'};

let sourcePort = 37_500;
function nextSourcePort(): number {
  sourcePort = sourcePort >= 60_999 ? 37_500 : sourcePort + 1;
  return sourcePort;
}

export interface LineOptions {
  pod?: string;
  at?: Date;
}

function head(opts: LineOptions): {head: string; podIp: string} {
  const pod = opts.pod ?? PODS[0];
  return {head: `[pod/${pod}/istio-proxy] [${(opts.at ?? new Date()).toISOString()}]`, podIp: POD_IPS[pod] ?? '10.42.9.9'};
}

/** A TLS connection REGISTRY_ONLY sent to BlackHoleCluster; the SNI names the host. */
export function blockedTls(ip: string, port: number, sni: string, opts: LineOptions = {}): string {
  const {head: h, podIp} = head(opts);
  return `${h} "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - ${ip}:${port} ${podIp}:${nextSourcePort()} ${sni} -`;
}

/** A plain-HTTP request REGISTRY_ONLY answered with 502 from the block_all route. */
export function blockedHttp(ip: string, authority: string, opts: LineOptions & {path?: string} = {}): string {
  const {head: h, podIp} = head(opts);
  const requestId = `5d61d207-4608-4fc4-893e-${String(nextSourcePort()).padStart(12, '0')}`;
  return `${h} "PUT ${opts.path ?? '/'} HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "Go-http-client/1.1" "${requestId}" "${authority}" "-" - - ${ip}:80 ${podIp}:${nextSourcePort()} - block_all`;
}

/** An ordinary inbound API request: not egress, makes no finding. */
export function inboundOk(opts: LineOptions = {}): string {
  const {head: h, podIp} = head(opts);
  return `${h} "GET /api/v4/users/me HTTP/1.1" 200 - via_upstream - "-" 0 1875 7 6 "10.10.12.8" "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0" "648673e9-a99e-4edb-a8bc-9bf0a8c091c5" "chat.dev.bigbang.mil" "${podIp}:8065" inbound|8065|| 127.0.0.6:59536 ${podIp}:8065 10.42.0.31:${nextSourcePort()} outbound_.8065_._.mattermost.mattermost.svc.cluster.local default`;
}

/** Mattermost's database connection through the mesh: registered, internal, no finding. */
export function internalPostgres(opts: LineOptions = {}): string {
  const {head: h, podIp} = head(opts);
  return `${h} "- - -" 0 - - - "-" 119445 1740546 300769 - "-" "-" "-" "-" "10.42.3.8:5432" outbound|5432||mattermost-postgresql.mattermost.svc.cluster.local ${podIp}:${nextSourcePort()} 10.43.88.14:5432 ${podIp}:${nextSourcePort()} - -`;
}
