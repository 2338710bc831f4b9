// /etc/hosts syntax ("address name [name…]", # comments): the cluster's view of DNS captured once, for
// configured hosts the workstation or the bridge cannot resolve itself.
import type {Resolver} from './types';

export function parseHostsFile(text: string): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || names.length === 0) continue;
    for (const name of names) {
      const host = name.toLowerCase();
      table.set(host, [...(table.get(host) ?? []), address]);
    }
  }
  return table;
}

/** Answers from the table first; hosts it does not know go to `fallback` (real DNS, or nothing). */
export function tableResolver(table: ReadonlyMap<string, readonly string[]>, fallback: Resolver | null): Resolver {
  return async (host) => {
    const fixed = table.get(host.toLowerCase());
    if (fixed) return [...fixed];
    return fallback ? fallback(host) : [];
  };
}
