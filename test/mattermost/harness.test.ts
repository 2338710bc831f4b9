/*
 * Smoke test of the real-Mattermost harness: one server through its whole life. It needs the
 * binary from build.sh and a running PostgreSQL, and fails (never skips) without them.
 */
import {Client as PgClient} from 'pg';

import {DB_PREFIX, startMattermost, type MattermostServer} from './harness';

jest.setTimeout(180_000);

async function databaseExists(dbName: string): Promise<boolean> {
  const pg = new PgClient({connectionString: process.env.EGRESS_ADVISOR_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres'});
  await pg.connect();
  try {
    const {rowCount} = await pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    return rowCount === 1;
  } finally {
    await pg.end();
  }
}

describe('real Mattermost harness', () => {
  let mm: MattermostServer | undefined;

  afterAll(async () => {
    // Only reached with a server still up when an assertion failed half-way.
    await mm?.stop();
  });

  test('starts, survives a restart and cleans up after itself', async () => {
    mm = await startMattermost();
    const server = mm;

    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.dbName.startsWith(DB_PREFIX)).toBe(true);
    expect(await databaseExists(server.dbName)).toBe(true);

    const adminMe = await server.client(server.adminToken).getMe();
    expect(adminMe.id).toBe(server.admin.id);
    expect(adminMe.roles.split(' ')).toContain('system_admin');

    const userMe = await server.client(server.userToken).getMe();
    expect(userMe.id).toBe(server.user.id);
    expect(userMe.roles.split(' ')).not.toContain('system_admin');
    expect(userMe.id).not.toBe(adminMe.id);

    const members = await server.client().getTeamMembers(server.team.id);
    expect(members.map((m) => m.user_id).sort()).toEqual([server.admin.id, server.user.id].sort());

    // Something created through the API must outlive the process.
    const channel = await server.client().createChannel({
      team_id: server.team.id,
      name: 'survives-restart',
      display_name: 'Survives restart',
      type: 'O',
    });

    await server.stopProcess();
    expect(server.running).toBe(false);
    await expect(fetch(`${server.url}/api/v4/system/ping`)).rejects.toThrow();

    await server.startProcess();
    expect(server.running).toBe(true);
    // Sessions live in the database, so the tokens from before the restart still work.
    const again = await server.client(server.userToken).getMe();
    expect(again.id).toBe(server.user.id);
    const found = await server.client().getChannelByName(server.team.id, 'survives-restart');
    expect(found.id).toBe(channel.id);

    await server.restart();
    expect((await server.client().getTeam(server.team.id)).name).toBe(server.team.name);

    await server.stop();
    mm = undefined;
    expect(server.running).toBe(false);
    expect(await databaseExists(server.dbName)).toBe(false);
    await expect(fetch(`${server.url}/api/v4/system/ping`)).rejects.toThrow();
  });
});
