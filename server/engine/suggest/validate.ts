// Istio's ValidateServiceEntry rules (pkg/config/validation), restated so that nothing we print would be
// refused by istiod's validating webhook or by `istioctl validate`. Written defensively: the input may be any
// parsed YAML, not only our own models.
import type {ServiceEntryModel} from '../types';
import {isIpAddress, parseCidr} from '../address';
import {schemaErrors} from './schema';

export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports: {number: number; name: string; protocol: string; targetPort?: number}[];
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'DYNAMIC_DNS';
  endpoints?: {address: string; ports?: Record<string, number>}[];
  exportTo?: string[];
}

export interface ValidationReport {
  errors: string[];
  /** What Istio accepts but warns about (istioctl analyze / webhook warnings). */
  warnings: string[];
}

const KNOWN_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS', 'UDP']);
const HTTP_FAMILY = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);
const TLS_FAMILY = new Set(['HTTPS', 'TLS']);
const TCP_FAMILY = new Set(['TCP', 'HTTPS', 'TLS', 'MONGO', 'REDIS', 'MYSQL']);
const RESOLUTIONS = new Set(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS']);

const LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(?:\*|\*?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;
const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/** The ServiceEntry spec a model stands for, as every output format renders it. */
export function toServiceEntrySpec(entry: ServiceEntryModel): ServiceEntrySpec {
  const spec: ServiceEntrySpec = {
    hosts: [...entry.hosts],
    location: entry.location,
    exportTo: ['.'],
    ports: entry.ports.map((p) => ({number: p.number, name: p.name, protocol: p.protocol})),
    resolution: entry.resolution,
  };
  if (entry.addresses !== undefined && entry.addresses.length > 0) {
    spec.addresses = [...entry.addresses];
  }
  if (entry.endpoints !== undefined && entry.endpoints.length > 0) {
    spec.endpoints = entry.endpoints.map((e) => ({address: e.address}));
  }
  return spec;
}

/** Istio's validation errors for a ServiceEntry spec; empty when istiod would accept it. */
export function validateServiceEntrySpec(spec: unknown, opts: {namespace?: string} = {}): string[] {
  return validateServiceEntry(spec, opts).errors;
}

/** Schema and Istio rules together: what every emitted entry must pass. */
export function checkServiceEntrySpec(spec: unknown, opts: {namespace?: string} = {}): string[] {
  return [...new Set([...schemaErrors(spec), ...validateServiceEntrySpec(spec, opts)])];
}

export function validateServiceEntry(spec: unknown, opts: {namespace?: string} = {}): ValidationReport {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!isRecord(spec)) {
    return {errors: ['spec must be a mapping'], warnings};
  }
  const hosts = stringList(spec.hosts, 'hosts', errors);
  const addresses = stringList(spec.addresses, 'addresses', errors);
  const exportTo = stringList(spec.exportTo, 'exportTo', errors);
  const ports = recordList(spec.ports, 'ports', errors);
  const endpoints = recordList(spec.endpoints, 'endpoints', errors);
  const resolution = spec.resolution === undefined ? 'NONE' : String(spec.resolution);
  const hasSelector = spec.workloadSelector !== undefined && spec.workloadSelector !== null;

  if (!RESOLUTIONS.has(resolution)) {
    errors.push(`unknown resolution ${JSON.stringify(resolution)}`);
  }
  if (spec.location !== undefined && spec.location !== 'MESH_EXTERNAL' && spec.location !== 'MESH_INTERNAL') {
    errors.push(`unknown location ${JSON.stringify(spec.location)}`);
  }

  // hosts
  if (hosts.length === 0) {
    errors.push('service entry must have at least one host');
  }
  if (hosts.length > 256) {
    errors.push(`service entry has ${hosts.length} hosts; at most 256 are allowed`);
  }
  for (const host of hosts) {
    if (host === '*') {
      errors.push('invalid host *');
      continue;
    }
    const problem = wildcardDomainProblem(host);
    if (problem !== null) {
      errors.push(problem);
    } else if (host.startsWith('*') && !host.startsWith('*.')) {
      warnings.push(`host ${JSON.stringify(host)} is a partial wildcard; only "*." is matched as a wildcard`);
    }
  }

  // addresses
  let cidrFound = false;
  for (const address of addresses) {
    cidrFound ||= address.includes('/');
    if (address.includes('/') ? parseCidr(address) === null : !isIpAddress(address)) {
      errors.push(`address ${JSON.stringify(address)} is not a valid IP address or CIDR`);
    }
  }
  if (cidrFound && resolution !== 'NONE' && resolution !== 'STATIC') {
    errors.push('CIDR addresses are allowed only when resolution is NONE or STATIC');
  }

  // ports
  const portNames = new Set<string>();
  const portNumbers = new Set<number>();
  const protocols: string[] = [];
  if (ports.length === 0) {
    errors.push('service entry must have at least one port');
  }
  for (const port of ports) {
    const name = typeof port.name === 'string' ? port.name : '';
    if (portNames.has(name)) {
      errors.push('service entry port names must be unique');
    }
    portNames.add(name);
    if (!DNS1123_LABEL.test(name) || name.length > 63) {
      errors.push(`invalid port name ${JSON.stringify(name)}: must be a DNS-1123 label`);
    }
    if (!isPortNumber(port.number)) {
      errors.push(`port number ${JSON.stringify(port.number)} must be between 1 and 65535`);
    } else {
      if (portNumbers.has(port.number)) {
        errors.push('service entry port numbers must be unique');
      }
      portNumbers.add(port.number);
    }
    if (port.targetPort !== undefined && !isPortNumber(port.targetPort)) {
      errors.push(`target port ${JSON.stringify(port.targetPort)} must be between 1 and 65535`);
    }
    const protocol = typeof port.protocol === 'string' ? port.protocol.toUpperCase() : '';
    if (!KNOWN_PROTOCOLS.has(protocol)) {
      errors.push(`unrecognized protocol ${JSON.stringify(port.protocol)}`);
    }
    protocols.push(protocol);
  }

  // resolution and endpoints
  if (hasSelector && endpoints.length > 0) {
    errors.push('only one of workloadSelector or endpoints can be set');
  }
  switch (resolution) {
    case 'NONE':
      if (endpoints.length > 0) {
        errors.push('no endpoints should be provided for resolution type NONE');
      }
      break;
    case 'STATIC':
      if (endpoints.length === 0 && !hasSelector) {
        errors.push('endpoints must be provided for resolution type STATIC');
      }
      for (const endpoint of endpoints) {
        const address = typeof endpoint.address === 'string' ? endpoint.address : '';
        if (!isIpAddress(address) && !address.startsWith('unix://')) {
          errors.push(`endpoint address ${JSON.stringify(address)} is not a valid IP address`);
        }
      }
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      if (endpoints.length === 0) {
        for (const host of hosts) {
          if (host.includes('*') || wildcardDomainProblem(host) !== null) {
            errors.push(`hosts must be FQDN if no endpoints are provided for resolution mode ${resolution}: ${JSON.stringify(host)}`);
          }
        }
      }
      if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
        errors.push('there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN');
      }
      for (const endpoint of endpoints) {
        const address = typeof endpoint.address === 'string' ? endpoint.address : '';
        if (!isIpAddress(address) && wildcardDomainProblem(address) !== null) {
          errors.push(`endpoint address ${JSON.stringify(address)} is not a valid IP address or FQDN`);
        }
      }
      break;
    case 'DYNAMIC_DNS':
      if (hosts.some((h) => !h.startsWith('*.'))) {
        errors.push('resolution DYNAMIC_DNS requires every host to be a wildcard');
      }
      if (addresses.length > 0 || endpoints.length > 0) {
        errors.push('resolution DYNAMIC_DNS does not allow addresses or endpoints');
      }
      if (protocols.some((p) => !HTTP_FAMILY.has(p) && !TLS_FAMILY.has(p))) {
        errors.push('resolution DYNAMIC_DNS supports only HTTP and TLS ports');
      }
      break;
    default:
      break;
  }
  for (const endpoint of endpoints) {
    if (endpoint.ports === undefined) {
      continue;
    }
    if (!isRecord(endpoint.ports)) {
      errors.push('endpoint ports must be a mapping of port name to number');
      continue;
    }
    for (const [name, number] of Object.entries(endpoint.ports)) {
      if (!portNames.has(name)) {
        errors.push(`endpoint port ${JSON.stringify(name)} is not defined by the service entry`);
      }
      if (!isPortNumber(number)) {
        errors.push(`endpoint port ${JSON.stringify(name)} has an invalid number`);
      }
    }
  }

  // Istio tells hosts apart on one port only by Host header (HTTP) or SNI (TLS).
  if (resolution !== 'NONE' && hosts.length > 1 && protocols.some((p) => !HTTP_FAMILY.has(p) && !TLS_FAMILY.has(p))) {
    errors.push('multiple hosts provided with non-HTTP, non-TLS ports');
  }
  if (addresses.length > 0 && hosts.length > 1 && protocols.some((p) => TCP_FAMILY.has(p))) {
    warnings.push('service entry can not have more than one host specified simultaneously with address and tcp port');
  }
  if (addresses.length === 0 && protocols.some((p) => p === 'TCP')) {
    warnings.push('TCP ports without addresses: every address on that port is sent to this entry (IST0134) unless Istio allocates an address');
  }

  errors.push(...exportToProblems(exportTo, opts.namespace));
  return {errors: [...new Set(errors)], warnings: [...new Set(warnings)]};
}

function wildcardDomainProblem(domain: string): string | null {
  const shown = JSON.stringify(domain);
  if (domain.length === 0 || domain.length > 255) {
    return `domain name ${shown} must be 1 to 255 characters long`;
  }
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) {
    return `domain name ${shown} invalid (label ${JSON.stringify(first)} invalid)`;
  }
  if (dot < 0) {
    return null;
  }
  const labels = domain.slice(dot + 1).split('.');
  const last = labels[labels.length - 1];
  if (/^[0-9]+$/.test(last)) {
    return `domain name ${shown} invalid (top level domain ${JSON.stringify(last)} cannot be all-numeric)`;
  }
  for (let i = 0; i < labels.length; i += 1) {
    const label = labels[i];
    if (i === labels.length - 1 && label === '' && labels.length > 1) {
      return null; // a trailing dot is allowed
    }
    if (label.length > 63 || !LABEL.test(label)) {
      return `domain name ${shown} invalid (label ${JSON.stringify(label)} invalid)`;
    }
  }
  return null;
}

function exportToProblems(exportTo: string[], namespace: string | undefined): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of exportTo) {
    // "." is the entry's own namespace: ".", "<own namespace>" is a duplicate.
    const key = e === '.' && namespace !== undefined ? namespace : e;
    if (seen.has(key)) {
      problems.push(
        key === e ? `duplicate entries in exportTo field ${JSON.stringify(e)}` : `duplicate entries in exportTo: . and current namespace ${namespace}`,
      );
      continue;
    }
    if (e !== '.' && e !== '*' && e !== '~' && !(DNS1123_LABEL.test(e) && e.length <= 63)) {
      problems.push(`exportTo value ${JSON.stringify(e)} is neither ".", "*", "~" nor a namespace name`);
      continue;
    }
    seen.add(key);
  }
  if (seen.has('*') && exportTo.length > 1) {
    problems.push('cannot have both public (*) and non-public exportTo values for a resource');
  }
  if (seen.has('~') && exportTo.length > 1) {
    problems.push('cannot export service entry to no one (~) and someone');
  }
  return problems;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPortNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

function stringList(v: unknown, field: string, errors: string[]): string[] {
  if (v === undefined || v === null) {
    return [];
  }
  if (!Array.isArray(v)) {
    errors.push(`${field} must be a list`);
    return [];
  }
  const strings = v.filter((x): x is string => typeof x === 'string');
  if (strings.length !== v.length) {
    errors.push(`${field} must contain only strings`);
  }
  return strings;
}

function recordList(v: unknown, field: string, errors: string[]): Record<string, unknown>[] {
  if (v === undefined || v === null) {
    return [];
  }
  if (!Array.isArray(v)) {
    errors.push(`${field} must be a list`);
    return [];
  }
  const records = v.filter(isRecord);
  if (records.length !== v.length) {
    errors.push(`${field} must contain only mappings`);
  }
  return records;
}
