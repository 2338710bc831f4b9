// The recorded API shapes under test/fixtures/kubernetes (see its README for where each comes from), read
// once and filled in: "{pod}" and the like are placeholders in the recorded Status messages.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';

export const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'kubernetes');

export type Json = Record<string, unknown>;

export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function fixture<T = Json>(name: string, fill: Record<string, string> = {}): T {
  return substitute(JSON.parse(fixtureText(name)), fill) as T;
}

function substitute(v: unknown, fill: Record<string, string>): unknown {
  if (typeof v === 'string') return v.replace(/\{(\w+)\}/g, (m, k: string) => fill[k] ?? m);
  if (Array.isArray(v)) return v.map((x) => substitute(x, fill));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, fill)]));
  return v;
}

/** Lines of a recorded `timestamps=true` log: the kubelet's stamp, a space, the line. */
export function stampedLines(name: string): {ts: string; text: string}[] {
  return fixtureText(name)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const space = l.indexOf(' ');
      return {ts: l.slice(0, space), text: l.slice(space + 1)};
    });
}
