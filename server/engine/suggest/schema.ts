// A JSON Schema of the networking.istio.io/v1 ServiceEntry `spec`, written from the API's field list
// (networking/v1alpha3/service_entry.proto). It checks shape and value domains; the cross-field rules that
// Istio's validating webhook enforces live in validate.ts.
import type {ValidateFunction} from 'ajv';

const dnsLabel = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const port = {type: 'integer', minimum: 1, maximum: 65535} as const;
const stringMap = {type: 'object', additionalProperties: {type: 'string'}} as const;

export const SERVICE_ENTRY_SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    hosts: {
      type: 'array',
      minItems: 1,
      maxItems: 256,
      items: {type: 'string', minLength: 1, maxLength: 255, pattern: '^[*A-Za-z0-9]([-*A-Za-z0-9.]*[A-Za-z0-9.])?$'},
    },
    addresses: {
      type: 'array',
      maxItems: 256,
      items: {type: 'string', minLength: 2, maxLength: 64, pattern: '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$'},
    },
    ports: {
      type: 'array',
      maxItems: 256,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['number', 'name', 'protocol'],
        properties: {
          number: port,
          name: {type: 'string', minLength: 1, maxLength: 63, pattern: dnsLabel},
          protocol: {
            type: 'string',
            enum: ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS', 'UDP'],
          },
          targetPort: port,
        },
      },
    },
    location: {type: 'string', enum: ['MESH_EXTERNAL', 'MESH_INTERNAL']},
    resolution: {type: 'string', enum: ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS']},
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          address: {type: 'string', minLength: 1, maxLength: 255},
          ports: {type: 'object', additionalProperties: port},
          labels: stringMap,
          network: {type: 'string'},
          locality: {type: 'string'},
          weight: {type: 'integer', minimum: 0, maximum: 4294967295},
          serviceAccount: {type: 'string'},
        },
      },
    },
    workloadSelector: {
      type: 'object',
      additionalProperties: false,
      properties: {labels: stringMap},
    },
    exportTo: {
      type: 'array',
      items: {type: 'string', minLength: 1, maxLength: 63, pattern: '^([.*~]|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$'},
    },
    subjectAltNames: {type: 'array', items: {type: 'string'}},
  },
} as const;

// Compiled once, on first use: loading and compiling ajv costs more than a small scan, and a scan that finds
// nothing to suggest never needs it.
let compiled: ValidateFunction | null = null;
function specValidator(): ValidateFunction {
  if (compiled === null) {
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    compiled = new Ajv({allErrors: true, strict: true}).compile(SERVICE_ENTRY_SPEC_SCHEMA);
  }
  return compiled;
}

/** Schema violations of a ServiceEntry spec, as "spec.<path> <message>" sentences; empty when it conforms. */
export function schemaErrors(spec: unknown): string[] {
  const validateSpecShape = specValidator();
  if (validateSpecShape(spec)) {
    return [];
  }
  return (validateSpecShape.errors ?? []).map((e) => {
    const path = e.instancePath === '' ? 'spec' : `spec${e.instancePath.replace(/\//g, '.')}`;
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as {additionalProperty?: unknown}).additionalProperty)})` : '';
    return `${path} ${e.message ?? 'is invalid'}${extra}`;
  });
}
