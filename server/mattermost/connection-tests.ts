/*
 * Asks Mattermost to run one of its own connection tests, with the bridge's admin token, and reads the
 * answer. The test runs inside Mattermost's pod, so its connection goes through Mattermost's own
 * istio-proxy: the very path the mesh may block.
 *
 * The saved configuration, never one of ours. What each endpoint of the pinned server does with its body
 * (channels/api4/system.go, elasticsearch.go, ldap.go):
 * - POST /email/test, /file/s3_test, /elasticsearch/test decode the body as a whole config and fall back
 *   to the saved one (`c.App.Config()`) when it decodes to nothing. The body sent is JSON `null`: it decodes
 *   cleanly to no config, so the server tests its saved settings (an empty body works too but makes the
 *   server log a decode warning on every test). Sending back the config read from GET /api/v4/config
 *   would not be the same thing: secrets come back masked and other fields could be stale.
 * - POST /ldap/test takes no body and tests the saved LdapSettings. /ldap/test_connection and
 *   /ldap/test_diagnostics test only the settings in their body, so they are not used.
 * - POST /site_url/test requires `{"site_url": …}` and has no saved-config variant: the bridge sends
 *   ServiceSettings.SiteURL exactly as GET /api/v4/config returned it, so the server still tests its saved
 *   value.
 * LDAP and Elasticsearch need an Enterprise licence; without one the server answers 501, reported as
 * "not-available" rather than as a failure of the connection.
 */
import type {Client4} from '@mattermost/client';
import type {ConnectionTestKind} from '../../common/connection-tests';
import type {MattermostClient} from './client';
import {isMattermostError} from './errors';

/** Long enough for Mattermost's own dial and TLS timeouts (S3's is 30 s by default) to answer first. */
export const TEST_TIMEOUT_MS = 60_000;

export type ConnectionTestAnswer = {outcome: 'passed'; httpStatus: number} | {outcome: 'failed' | 'not-available'; httpStatus: number | null; message: string};

/** The shape of @mattermost/client's ClientError; matched by shape, as errors.ts does. */
interface ServerAnswer {
  status_code: number;
  message?: unknown;
  detailed_error?: unknown;
  server_error_id?: unknown;
}

function serverAnswer(err: unknown): ServerAnswer | null {
  if (!(err instanceof Error) || !('status_code' in err)) return null;
  const status = (err as {status_code?: unknown}).status_code;
  return typeof status === 'number' ? (err as unknown as ServerAnswer) : null;
}

function call(api: Client4, kind: ConnectionTestKind, siteUrl: string | null): Promise<unknown> {
  // Client4 serialises its argument with JSON.stringify: null becomes the body `null` (see above).
  const saved = null as unknown as Parameters<Client4['testS3Connection']>[0];
  switch (kind) {
    case 's3':
      return api.testS3Connection(saved);
    case 'smtp':
      return api.testEmail(saved);
    case 'elasticsearch':
      return api.testElasticsearch(saved);
    case 'ldap':
      return api.testLdap();
    case 'site-url':
      return api.testSiteURL(siteUrl ?? '');
  }
}

/**
 * Runs the test and says what Mattermost answered. When Mattermost itself could not be asked (away, timed
 * out) the outcome is not-available: that says nothing about the integration.
 */
export async function runConnectionTest(
  client: MattermostClient,
  kind: ConnectionTestKind,
  opts: {siteUrl?: string | null; timeoutMs?: number} = {},
): Promise<ConnectionTestAnswer> {
  try {
    return await client.call(
      `test ${kind}`,
      async (api) => {
        try {
          await call(api, kind, opts.siteUrl ?? null);
          return {outcome: 'passed' as const, httpStatus: 200};
        } catch (err) {
          const answer = serverAnswer(err);
          if (answer === null) throw err;
          const text = [answer.message, answer.detailed_error].filter((s): s is string => typeof s === 'string' && s !== '').join(' — ');
          const message = client.scrub(text || `HTTP ${answer.status_code}`);
          // 501: an Enterprise feature this server has no licence (or engine) for; 403: the bridge's identity may not run it.
          const unavailable = answer.status_code === 501 || answer.status_code === 403;
          return {outcome: unavailable ? ('not-available' as const) : ('failed' as const), httpStatus: answer.status_code, message};
        }
      },
      {timeoutMs: opts.timeoutMs ?? TEST_TIMEOUT_MS},
    );
  } catch (err) {
    if (isMattermostError(err)) return {outcome: 'not-available', httpStatus: err.status ?? null, message: err.message};
    throw err;
  }
}
