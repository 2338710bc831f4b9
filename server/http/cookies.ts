// Reading the two Mattermost cookies this layer needs. @fastify/cookie would do it, but it loads the ESM-only
// `cookie` package with a dynamic import that jest's CommonJS runtime cannot run; reading is all we need.

/** Longest Cookie header looked at; browsers send at most a few KiB per site. */
const MAX_HEADER_CHARS = 16 * 1024;

/**
 * The value of the first cookie called `name` (RFC 6265: browsers send the most specific path first),
 * percent-decoded when it decodes, with optional surrounding quotes removed.
 */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header;
  if (typeof text !== 'string' || text === '') return undefined;
  for (const part of text.slice(0, MAX_HEADER_CHARS).split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}
