/*
 * What Mattermost is configured to call, fetched for the engine's inventory
 * (server/engine/inventory.ts): the config document, the outgoing webhooks and the custom slash
 * commands of every team. The tokens of other people's integrations are removed on the way in:
 * the bridge needs their URLs, never their secrets, and the inventory travels to logs and the
 * System Console.
 */
import {createHash} from 'node:crypto';

import type {AdminConfig} from '@mattermost/types/config';
import type {Command, OutgoingWebhook} from '@mattermost/types/integrations';
import type {Team, TeamsWithCount} from '@mattermost/types/teams';

import type {MattermostClient} from './client';
import {isMattermostError} from './errors';

/** Mattermost's maximum page size for these lists. */
const PER_PAGE = 200;
/** Bound on pages, so a server answering full pages forever cannot keep the bridge busy. */
const MAX_PAGES = 500;

export interface IntegrationInventory {
  fetchedAt: number;
  config: AdminConfig;
  /** See `configHash`. */
  configHash: string;
  teams: Team[];
  /** Of all teams; `token` blanked. */
  outgoingWebhooks: OutgoingWebhook[];
  /** Custom slash commands of all teams; `token` blanked. */
  commands: Command[];
  /** Why a part is empty or incomplete (a feature switched off, a team that could not be read). */
  notes: string[];
}

export async function fetchInventory(client: MattermostClient): Promise<IntegrationInventory> {
  const notes: string[] = [];
  const config = await fetchConfig(client);
  const teams = await fetchAllTeams(client);
  const outgoingWebhooks = await fetchOutgoingWebhooks(client, notes);
  const commands = await fetchCommands(client, teams, notes);
  return {fetchedAt: Date.now(), config, configHash: configHash(config), teams, outgoingWebhooks, commands, notes};
}

export async function fetchConfig(client: MattermostClient): Promise<AdminConfig> {
  return client.call('getConfig', (api) => api.getConfig());
}

/**
 * A digest of the config document that is the same for the same settings whatever the key order
 * of the JSON. Secrets come back masked from the API, so a changed secret does not change it;
 * every endpoint setting does.
 */
export function configHash(config: unknown): string {
  return createHash('sha256').update(stableJson(config)).digest('hex');
}

export interface ConfigChange {
  changed: boolean;
  hash: string;
  config: AdminConfig;
}

/**
 * Fetches the config and tells whether it differs from the one `previousHash` was computed from.
 * Mattermost offers no ETag or version for the config, so one GET and a hash is the cheapest test.
 */
export async function checkConfigChanged(client: MattermostClient, previousHash: string | undefined): Promise<ConfigChange> {
  const config = await fetchConfig(client);
  const hash = configHash(config);
  return {changed: hash !== previousHash, hash, config};
}

async function fetchAllTeams(client: MattermostClient): Promise<Team[]> {
  const teams: Team[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const batch = await client.call('getTeams', (api) => api.getTeams(page, PER_PAGE));
    const list = Array.isArray(batch) ? batch : (batch as TeamsWithCount).teams;
    teams.push(...list.filter((t) => !t.delete_at));
    if (list.length < PER_PAGE) break;
  }
  return teams;
}

async function fetchOutgoingWebhooks(client: MattermostClient, notes: string[]): Promise<OutgoingWebhook[]> {
  const hooks: OutgoingWebhook[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    let batch: OutgoingWebhook[];
    try {
      // Without team_id the server lists the hooks of all teams for an identity that may manage others' hooks.
      batch = await client.call('getOutgoingWebhooks', (api) => api.getOutgoingWebhooks('', '', page, PER_PAGE));
    } catch (err) {
      if (isMattermostError(err) && err.status === 501) {
        notes.push('outgoing webhooks are disabled (ServiceSettings.EnableOutgoingWebhooks=false)');
        return [];
      }
      throw err;
    }
    hooks.push(...batch.filter((h) => !h.delete_at).map(withoutToken));
    if (batch.length < PER_PAGE) break;
  }
  return hooks;
}

async function fetchCommands(client: MattermostClient, teams: Team[], notes: string[]): Promise<Command[]> {
  const commands: Command[] = [];
  for (const team of teams) {
    try {
      const list = await client.call('getCustomTeamCommands', (api) => api.getCustomTeamCommands(team.id));
      commands.push(...list.filter((c) => !c.delete_at).map(withoutToken));
    } catch (err) {
      if (!isMattermostError(err) || err.kind === 'unreachable') throw err;
      if (err.status === 501) {
        notes.push('custom slash commands are disabled (ServiceSettings.EnableCommands=false)');
        return [];
      }
      notes.push(`custom slash commands of team "${team.name}" could not be read: ${err.message}`);
    }
  }
  return commands;
}

function withoutToken<T extends {token: string}>(item: T): T {
  return {...item, token: ''};
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
