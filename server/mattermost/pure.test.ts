import type {Command} from '@mattermost/types/integrations';

import {configHash} from './inventory';
import {fitMessage, MAX_MESSAGE_RUNES} from './posts';
import {COMMAND_AUTOCOMPLETE_HINT, COMMAND_DESCRIPTION, COMMAND_DISPLAY_NAME, desiredCommand, isOurCommand} from './setup';

describe('fitMessage', () => {
  test('leaves messages within the limit alone', () => {
    expect(fitMessage('hello')).toBe('hello');
  });

  test('cuts long messages under the limit and closes an open code block', () => {
    const long = `intro\n\`\`\`yaml\n${'key: value\n'.repeat(3000)}\`\`\`\nend`;
    const out = fitMessage(long);
    expect([...out].length).toBeLessThanOrEqual(MAX_MESSAGE_RUNES);
    expect(out.endsWith('… (truncated)')).toBe(true);
    const fences = out.split('\n').filter((l) => l.startsWith('```'));
    expect(fences.length % 2).toBe(0);
  });

  test('counts characters, not bytes', () => {
    const emoji = '😀'.repeat(MAX_MESSAGE_RUNES);
    expect(fitMessage(emoji)).toBe(emoji);
  });
});

describe('slash command identity', () => {
  const base: Command = {
    id: 'c1', token: 't', create_at: 1, update_at: 1, delete_at: 0, creator_id: 'admin1', team_id: 'team1', trigger: 'egress',
    method: 'P', username: '', icon_url: '', auto_complete: true, auto_complete_desc: '', auto_complete_hint: '', display_name: 'Other', description: '', url: 'http://x',
  };

  test('created by this identity, or carrying our display name', () => {
    expect(isOurCommand(base, 'admin1')).toBe(true);
    expect(isOurCommand({...base, creator_id: 'admin2', display_name: COMMAND_DISPLAY_NAME}, 'admin1')).toBe(true);
    expect(isOurCommand({...base, creator_id: 'admin2'}, 'admin1')).toBe(false);
    expect(isOurCommand({...base, trigger: 'other'}, 'admin1')).toBe(false);
    expect(isOurCommand({...base, delete_at: 5}, 'admin1')).toBe(false);
  });

  test('desired command fits Mattermost limits and lists the subcommands', () => {
    const cmd = desiredCommand('team1', 'http://egress-advisor.mm.svc:8080/api/v1/command');
    expect(cmd.method).toBe('P');
    expect(cmd.auto_complete).toBe(true);
    expect(COMMAND_DESCRIPTION.length).toBeLessThanOrEqual(128);
    expect(COMMAND_DISPLAY_NAME.length).toBeLessThanOrEqual(64);
    for (const sub of ['status', 'list', 'show <host>', 'snippet [host|all] [--format', 'ignore <host> [reason]', 'unignore <host>', 'help']) {
      expect(COMMAND_AUTOCOMPLETE_HINT).toContain(sub);
      expect(cmd.auto_complete_desc).toContain(sub);
    }
  });
});

describe('configHash', () => {
  test('ignores key order, sees value changes', () => {
    const a = {ServiceSettings: {SiteURL: 'http://a', AllowedUntrustedInternalConnections: ''}, FileSettings: {DriverName: 'local'}};
    const b = {FileSettings: {DriverName: 'local'}, ServiceSettings: {AllowedUntrustedInternalConnections: '', SiteURL: 'http://a'}};
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).not.toBe(configHash({...a, FileSettings: {DriverName: 'amazons3'}}));
    expect(configHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});
