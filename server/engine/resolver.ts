// The system resolver for the CLI and the bridge, kept apart so the engine's modules stay free of I/O.
// getaddrinfo (through dns.lookup) is what Mattermost's own Go resolver follows too: /etc/hosts, the pod's
// search domains, both address families.
import {lookup} from 'node:dns/promises';
import type {Resolver} from './types';

export const systemResolver: Resolver = async (host: string): Promise<string[]> => {
  const addresses = await lookup(host, {all: true, family: 0});
  return addresses.map((a) => a.address);
};
