import {configHash} from './inventory';
import {fitMessage, MAX_MESSAGE_RUNES} from './posts';

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

describe('configHash', () => {
  test('ignores key order, sees value changes', () => {
    const a = {ServiceSettings: {SiteURL: 'http://a', AllowedUntrustedInternalConnections: ''}, FileSettings: {DriverName: 'local'}};
    const b = {FileSettings: {DriverName: 'local'}, ServiceSettings: {AllowedUntrustedInternalConnections: '', SiteURL: 'http://a'}};
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).not.toBe(configHash({...a, FileSettings: {DriverName: 'amazons3'}}));
    expect(configHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});
