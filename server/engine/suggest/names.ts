// Names of generated entries and of their ports. Both must be DNS-1123 labels, and the same input must always
// produce the same names so that a suggestion can be compared, reviewed and re-applied.
import type {PortProtocol} from '../types';

/**
 * Longest entry name we generate. bb-common names the object of route "<name>" "<name>-external"; keeping the
 * route name to 54 characters keeps that object name a valid 63-character DNS-1123 label too.
 */
export const MAX_NAME_LENGTH = 54;

const DNS1123_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDns1123Label(s: string): boolean {
  return DNS1123_LABEL.test(s);
}

/**
 * Port names follow Big Bang's own convention for the common case (443 → "https", as in the package's
 * default route, even with protocol TLS) and are "<protocol>-<number>" otherwise ("tcp-587", "tls-8443",
 * "http-8080"). Within one entry port numbers are unique, so these names are unique too.
 */
export function portName(number: number, protocol: PortProtocol): string {
  if (number === 443 && protocol === 'TLS') {
    return 'https';
  }
  if (number === 80 && protocol === 'HTTP') {
    return 'http';
  }
  return `${protocol.toLowerCase()}-${number}`;
}

/**
 * "s3.amazonaws.com" → "s3-amazonaws-com", and no two hosts share a slug: a dot becomes one hyphen, a
 * hyphen inside a label two, and a leading "*." "wildcard---" (a label neither starts nor ends with a
 * hyphen, so three in a row come from nothing else). Input is a host name that passed checkHost.
 */
export function slug(hostOrDomain: string): string {
  const s = hostOrDomain
    .toLowerCase()
    .replace(/-/g, '--')
    .replace(/^\*\./, 'wildcard---')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s === '' ? 'entry' : s;
}

/**
 * The name of the entry that allows one destination: "hooks.example.com" port 443 → "hooks-example-com-443".
 * It depends on nothing but the destination, so every post, command, page and scan names it the same, and
 * pasting entries one alert at a time gives the same values as all of them at once; the slug is one-to-one
 * and the port closes the name, so two destinations never share one (a cut name keeps a hash of the whole).
 */
export function destinationName(host: string, port: number): string {
  return fitName(`${slug(host)}-${port}`);
}

/** Caps a name at `max` characters; a cut name gets a hash of the whole name so that it stays unique. */
export function fitName(name: string, max: number = MAX_NAME_LENGTH): string {
  if (name.length <= max) {
    return name;
  }
  const hash = fnv1a(name);
  const stem = name.slice(0, max - hash.length - 1).replace(/-+$/, '');
  return `${stem}-${hash}`;
}

/**
 * A name not in `taken` (which it then joins): `base` itself, else base-2, base-3, … The caller iterates in
 * a deterministic order, so the same input always gets the same numbers.
 */
export function uniqueName(base: string, taken: Set<string>): string {
  let candidate = fitName(base);
  for (let n = 2; taken.has(candidate); n += 1) {
    const suffix = `-${n}`;
    candidate = `${fitName(base, MAX_NAME_LENGTH - suffix.length)}${suffix}`;
  }
  taken.add(candidate);
  return candidate;
}

/** 32-bit FNV-1a as 8 hex digits: stable across runs and platforms, enough to tell cut names apart. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i += 1) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
