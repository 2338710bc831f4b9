// A large, deterministic, realistic istio-proxy log of a Mattermost pod (Istio 1.2x default TEXT format):
// mostly inbound API and WebSocket traffic and in-mesh PostgreSQL connections, some registered external
// calls, and blocked lines: a few ("quiet", a hardened installation that works) or one in a thousand to
// about 1,500 destinations ("noisy", an installation whose integrations are mostly blocked).
import {createWriteStream} from 'node:fs';

/** mulberry32: tiny, fast, and the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = [
  '/api/v4/users/me',
  '/api/v4/users/me/teams',
  '/api/v4/channels/{id}/posts?page=0&per_page=30',
  '/api/v4/users/status/ids',
  '/api/v4/posts/{id}/thread',
  '/api/v4/system/ping',
  '/api/v4/channels/members/me/view',
  '/api/v4/users/{id}/teams/{id}/channels/members',
  '/api/v4/files/{id}/preview',
  '/static/main.js',
  '/api/v4/posts',
];
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mattermost Mobile/2.22.0+596 (Android; 14; Pixel 8)',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Mattermost/5.10.0 Chrome/128.0 Electron/32.2.0 Safari/537.36',
];

export interface GeneratedLog {
  lines: number;
  bytes: number;
  blockedLines: number;
}

function hex(r: () => number, n: number): string {
  let s = '';
  while (s.length < n)
    s += Math.floor(r() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, n);
}

function uuid(r: () => number): string {
  const h = hex(r, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

export type LogProfile = 'quiet' | 'noisy';

const NOISY_PORTS = [443, 587, 9200, 5432, 389, 636, 8443, 25];

/** One of about 1,500 IP-only destinations on the ports that stay IP-only under Big Bang. */
function noisyBlocked(k: number, ts: string, pod: string, lines: number): string {
  const d = k % 1500;
  const port = NOISY_PORTS[d % NOISY_PORTS.length];
  return `[${ts}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - ${3 + (d % 7)}.${(d >> 3) & 255}.${d & 7}.${17 + (d % 200)}:${port} ${pod}:${40000 + (lines % 20000)} - -`;
}

/** Writes at least `targetBytes`; by default one blocked line in every 200,000 (quiet) or 1,000 (noisy) lines. */
export async function generateLog(
  path: string,
  targetBytes: number,
  profile: LogProfile = 'quiet',
  blockedEvery = profile === 'quiet' ? 200_000 : 1000,
): Promise<GeneratedLog> {
  // The noisy installation's traffic is mostly its users' API calls: the lines a scan must skip cheaply.
  const inboundShare = profile === 'quiet' ? 0.62 : 0.8;
  const r = prng(20261128);
  const out = createWriteStream(path, {highWaterMark: 4 * 1024 * 1024});
  let bytes = 0;
  let lines = 0;
  let blockedLines = 0;
  let t = Date.parse('2026-11-28T00:00:00.000Z');
  const pods = ['10.42.1.17', '10.42.2.31'];
  let batch = '';
  const push = (line: string): void => {
    batch += line + '\n';
    lines += 1;
  };
  while (bytes < targetBytes) {
    for (let i = 0; i < 5000; i++) {
      t += Math.floor(r() * 30);
      const ts = new Date(t).toISOString();
      const pod = pods[Math.floor(r() * 2)];
      const kind = r();
      if (lines % blockedEvery === blockedEvery - 1) {
        blockedLines += 1;
        const which = blockedLines % 3;
        if (profile === 'noisy') push(noisyBlocked(Math.floor(r() * 1e9), ts, pod, lines));
        else if (which === 0)
          push(
            `[${ts}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 52.92.${blockedLines % 250}.18:443 ${pod}:${40000 + (lines % 20000)} - -`,
          );
        else if (which === 1)
          push(
            `[${ts}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 34.231.24.224:443 ${pod}:${40000 + (lines % 20000)} push.mattermost.com -`,
          );
        else
          push(
            `[${ts}] "PUT /latest/api/token HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "aws-sdk-go/1.55.5 (go1.23.4; linux; amd64)" "${uuid(r)}" "169.254.169.254" "-" - - 169.254.169.254:80 ${pod}:${40000 + (lines % 20000)} - block_all`,
          );
      } else if (kind < inboundShare) {
        const path = PATHS[Math.floor(r() * PATHS.length)].replace(/\{id\}/g, () => hex(r, 26));
        const method = path === '/api/v4/posts' ? 'POST' : 'GET';
        const code = r() < 0.97 ? 200 : r() < 0.5 ? 404 : 403;
        const dur = Math.floor(r() * 120);
        push(
          `[${ts}] "${method} ${path} HTTP/1.1" ${code} - via_upstream - "-" ${method === 'POST' ? Math.floor(r() * 4000) : 0} ${Math.floor(r() * 60000)} ${dur} ${Math.max(dur - 1, 0)} "10.42.0.${Math.floor(r() * 250)}" "${UAS[Math.floor(r() * UAS.length)]}" "${uuid(r)}" "chat.example.mil" "${pod}:8065" inbound|8065|| 127.0.0.6:${30000 + Math.floor(r() * 30000)} ${pod}:8065 10.42.0.${Math.floor(r() * 250)}:${30000 + Math.floor(r() * 30000)} outbound_.8065_._.mattermost.mattermost.svc.cluster.local default`,
        );
      } else if ((kind - inboundShare) / (1 - inboundShare) < 0.74) {
        push(
          `[${ts}] "- - -" 0 - - - "-" ${Math.floor(r() * 90000)} ${Math.floor(r() * 900000)} ${Math.floor(r() * 60000)} - "-" "-" "-" "-" "10.43.12.5:5432" outbound|5432||mattermost-postgresql.mattermost.svc.cluster.local ${pod}:${40000 + Math.floor(r() * 20000)} 10.43.12.5:5432 ${pod}:${40000 + Math.floor(r() * 20000)} - -`,
        );
      } else if ((kind - inboundShare) / (1 - inboundShare) < 0.92) {
        push(
          `[${ts}] "GET /api/v4/websocket?connection_id=${hex(r, 26)}&sequence_number=${Math.floor(r() * 900)} HTTP/1.1" 101 - via_upstream - "-" 0 ${Math.floor(r() * 2000000)} ${Math.floor(r() * 3600000)} - "10.42.0.${Math.floor(r() * 250)}" "${UAS[Math.floor(r() * UAS.length)]}" "${uuid(r)}" "chat.example.mil" "${pod}:8065" inbound|8065|| 127.0.0.6:${30000 + Math.floor(r() * 30000)} ${pod}:8065 10.42.0.${Math.floor(r() * 250)}:${30000 + Math.floor(r() * 30000)} outbound_.8065_._.mattermost.mattermost.svc.cluster.local default`,
        );
      } else {
        push(
          `[${ts}] "- - -" 0 - - - "-" ${Math.floor(r() * 4000)} ${Math.floor(r() * 9000)} ${Math.floor(r() * 400)} - "-" "-" "-" "-" "52.6.${Math.floor(r() * 250)}.7:443" outbound|443||notices.mattermost.com ${pod}:${40000 + Math.floor(r() * 20000)} 240.240.0.3:443 ${pod}:${40000 + Math.floor(r() * 20000)} notices.mattermost.com -`,
        );
      }
    }
    const buf = Buffer.from(batch);
    batch = '';
    bytes += buf.length;
    if (!out.write(buf)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return {lines, bytes, blockedLines};
}
