// One error shape for every answer ({error, code}), whatever failed: our own checks, fastify's body
// parsing and schema validation, the store, or a bug. Messages say what to do; internals stay in the log.
import type {FastifyError, FastifyReply, FastifyRequest} from 'fastify';

import type {ApiError, ApiErrorCode} from '../../common/api';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly extra: {allowed?: string[]; headers?: Record<string, string>} = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendError(reply: FastifyReply, err: HttpError): FastifyReply {
  const body: ApiError = {error: err.message, code: err.code, requestId: String(reply.request.id)};
  if (err.extra.allowed) body.allowed = err.extra.allowed;
  for (const [name, value] of Object.entries(err.extra.headers ?? {})) void reply.header(name, value);
  return reply.code(err.statusCode).type('application/json').send(body);
}

interface ValidationItem {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** What a field with alternatives (anyOf) must be, where the schema's own words would not help. */
const SHAPES: Record<string, string> = {
  'body.keys': 'must be a list of 1 to 5000 finding keys, or "all"',
};

function describeValidation(items: readonly ValidationItem[], context: string | undefined): {message: string; allowed?: string[]} {
  const at = (i: ValidationItem): string => `${context ?? 'body'}${i.instancePath.replace(/\//g, '.')}`;
  // Ajv lists each alternative's failure before the anyOf itself; the anyOf says more.
  const alternatives = items.find((i) => i.keyword === 'anyOf' || i.keyword === 'oneOf');
  if (alternatives) return {message: `${at(alternatives)} ${SHAPES[at(alternatives)] ?? 'is not in an accepted form'}`};
  const item = items[0];
  const where = at(item);
  if (item.keyword === 'enum' && Array.isArray(item.params.allowedValues)) {
    const allowed = item.params.allowedValues.map(String);
    return {message: `${where} must be one of: ${allowed.join(', ')}`, allowed};
  }
  if (item.keyword === 'required') return {message: `${where} needs the field "${String(item.params.missingProperty)}"`};
  if (item.keyword === 'additionalProperties') {
    return {message: `${where} has an unknown field "${String(item.params.additionalProperty)}"`};
  }
  return {message: `${where} ${item.message ?? 'is not valid'}`};
}

/** Fastify's own errors, by code, as answers a person can act on. */
function fromFastify(err: FastifyError, request: FastifyRequest, accepts: string): HttpError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(
        415,
        'unsupported_media_type',
        `This endpoint accepts ${accepts} bodies only (got ${request.headers['content-type'] ?? 'no Content-Type'}).`,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'body_too_large', 'The request body is larger than this endpoint accepts.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'invalid_json', 'The body is empty; send a JSON object (or no Content-Type at all).');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      // secure-json-parse also refuses __proto__ and constructor.prototype keys here.
      return new HttpError(400, 'invalid_json', 'The body is not valid JSON (or uses __proto__ keys).');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, 'invalid_request', 'The body is shorter or longer than its Content-Length says.');
    default:
      return null;
  }
}

export function findingNotFound(key: string): HttpError {
  return new HttpError(404, 'finding_not_found', `No finding with key ${JSON.stringify(key.slice(0, 300))}; it may have been pruned.`);
}

/** Errors of the store that say something about the request rather than about the store. */
function fromStore(err: unknown): HttpError | null {
  const code = (err as {code?: unknown} | null)?.code;
  if (code === 'FINDING_NOT_FOUND') return findingNotFound(String((err as {key?: unknown}).key ?? ''));
  if (code === 'STORE_INPUT') return new HttpError(400, 'invalid_request', (err as Error).message);
  return null;
}

/** An error handler for one scope; `accepts` names the body type that scope parses. */
export function errorHandler(accepts: string) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (err instanceof HttpError) return sendError(reply, err);
    if (err.validation) {
      const {message, allowed} = describeValidation(err.validation as ValidationItem[], err.validationContext);
      return sendError(reply, new HttpError(400, 'invalid_request', message, allowed ? {allowed} : {}));
    }
    const known = fromFastify(err, request, accepts) ?? fromStore(err);
    if (known) return sendError(reply, known);
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, new HttpError(err.statusCode, 'invalid_request', err.message));
    }
    request.log.error({err}, 'request failed');
    return sendError(reply, new HttpError(500, 'internal', `The bridge failed to answer; its log has the details (request id ${request.id}).`));
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?')[0].slice(0, 200);
  return sendError(reply, new HttpError(404, 'not_found', `No ${request.method} ${path} on the Egress Advisor bridge.`));
}
