// Logs of the HTTP layer must never carry a credential: the plugin's signature, and any token, cookie or
// CSRF header a misdirected client may still send. Redaction is applied on the HTTP layer's own child logger, so it
// holds whatever the parent logger was configured with.
import pino, {type DestinationStream, type Logger, type LoggerOptions, type SerializerFn} from 'pino';

import {scrubSecrets} from '../mattermost/errors';

const CENSOR = '[redacted]';

/** Field paths (pino redact syntax) that may hold a credential wherever they appear in a log object. */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-csrf-token"]',
  'headers["x-egress-advisor-signature"]',
  'headers["set-cookie"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-csrf-token"]',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'cookies',
  '*.cookies',
  'token',
  '*.token',
  '*.*.token',
  'csrf',
  '*.csrf',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'bridgesecret',
  '*.bridgesecret',
];

const SECRET_QUERY = /([?&](?:token|access_token|csrf|t|mmauthtoken|mmcsrf)=)[^&#]*/gi;

/** The request line as logged: the query values that could be credentials replaced. */
export function scrubUrl(url: string): string {
  return url.replace(SECRET_QUERY, `$1${CENSOR}`);
}

interface LoggableRequest {
  method?: string;
  url?: string;
  ip?: string;
  headers?: Record<string, string | string[] | undefined>;
}

/** Only fields that cannot hold a credential; never the headers as a whole. */
const reqSerializer: SerializerFn = (req: LoggableRequest) => ({
  method: req.method,
  url: typeof req.url === 'string' ? scrubUrl(req.url) : undefined,
  remoteAddress: req.ip,
  userAgent: req.headers?.['user-agent'],
});

/** Error messages and stacks may quote what failed, which may include a header or a URL. */
const errSerializer: SerializerFn = (err: unknown) => {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (typeof out.message === 'string') out.message = scrubSecrets(out.message);
  if (typeof out.stack === 'string') out.stack = scrubSecrets(out.stack);
  return out;
};

export const SERIALIZERS: Record<string, SerializerFn> = {req: reqSerializer, err: errSerializer};

const REDACT = {paths: [...REDACT_PATHS], censor: CENSOR};

/** The HTTP layer's logger: a child of the bridge's with redaction and safe serializers. */
export function httpLogger(parent: Logger): Logger {
  return parent.child({component: 'http'}, {redact: REDACT, serializers: SERIALIZERS});
}

/** A root logger for the bridge with the same protections, for start-up code that has none yet. */
export function createBridgeLogger(opts: {level?: string; destination?: DestinationStream} = {}): Logger {
  const options: LoggerOptions = {level: opts.level ?? 'info', redact: REDACT, serializers: SERIALIZERS};
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
