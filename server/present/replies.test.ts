import type {Finding, Plan} from '../../common/types';
import {refusalsSentence} from '../bridge/status';
import {suggest} from '../engine/suggest';
import type {StoredFinding} from '../store/types';
import {USAGE} from './command';
import {runeLength} from './markdown';
import {REFUSAL, renderCommandReply, renderRehearsal, renderShow, renderSnippet, type FindingView, type StatusInput} from './replies';
import {FINDINGS, GITHUB_FAILING, NOW, PUSH, S3, UNNAMED, YAML} from './testing';
import {MAX_POST_RUNES} from './text';

const Z = '\u200B';

const STATUS: StatusInput = {
  now: NOW,
  version: '0.1.0',
  sources: [
    {name: 'kubernetes mattermost/mattermost-6c8f9d7b54-2xq8k', state: 'running', lastLineAt: '2026-11-28T09:56:00Z', lines: 18234},
    {name: 'file /var/log/istio/proxy.log', state: 'error', lastLineAt: null, error: 'ENOENT: no such file'},
  ],
  mattermost: {ok: true, detail: 'bot egress-advisor posts in ~egress-advisor', serverVersion: '10.5.1'},
  hardening: {state: 'registry-only'},
  plugin: {connected: false, reason: 'No call from the Egress Advisor plugin yet: enable it in System Console > Plugins.'},

  counts: {open: 4, ignored: 1, resolved: 2, openByVerdict: {blocked: 3, 'external-failed': 1}},
  outboxDepth: 2,
};

// Compile-time: the store's findings are what the bridge will hand over, as they are.
const storedFits: StoredFinding extends FindingView ? true : never = true;

function planOf(f: Finding): Plan {
  return suggest([f], {format: 'bigbang'}).plans[0];
}

describe('replies', () => {
  test('a stored finding is a FindingView', () => {
    expect(storedFits).toBe(true);
  });

  test('help lists every subcommand', () => {
    const help = renderCommandReply({kind: 'help'});
    for (const usage of Object.values(USAGE)) expect(help).toContain(`\`${usage}\``);
    expect(help).toContain('`/egress help`');
    expect(help).not.toContain('|\n|');
  });

  test('refusal for non-admins', () => {
    expect(renderCommandReply({kind: 'refused'})).toBe('Only system administrators can use /egress.');
    expect(REFUSAL).toBe('Only system administrators can use /egress.');
  });

  test('usage error: what was wrong (escaped), then the help', () => {
    const out = renderCommandReply({kind: 'usage-error', error: 'Unknown subcommand "@channel".'});
    expect(out.startsWith(`Unknown subcommand "@${Z}channel"\\.\n\n**/egress**`)).toBe(true);
  });

  test('status: the mesh, the configured integrations and a standby replica', () => {
    const out = renderCommandReply({
      kind: 'status',
      status: {
        ...STATUS,
        mesh: {mode: 'ALLOW_ANY', source: 'Sidecar mattermost/default'},
        integrations: {'will-be-blocked': 2, blocked: 1, allowed: 5, unknown: 3},
        standby: true,
      },
    });
    expect(out).toContain('- Mesh: outbound mode `ALLOW_ANY`, from Sidecar mattermost/default');
    expect(out).toContain(
      '- Configured integrations: 1 blocked now, 2 will be blocked, 3 not known, 5 allowed, 0 in the cluster (their ServiceEntries: the System Console page); not known: nothing (mesh or values file) tells yet what is allowed',
    );
    expect(out).toContain('- This replica is on standby: another one reads the logs and posts the alerts.');
    const plain = renderCommandReply({kind: 'status', status: {...STATUS, integrations: {allowed: 1}}});
    expect(plain).not.toContain('Mesh:');
    expect(plain).not.toContain('standby');
    expect(plain).toContain('- Configured integrations: 0 blocked now, 0 will be blocked, 0 not known, 1 allowed, 0 in the cluster\n');
  });

  test('status: calls Mattermost refused itself, in the sentence the bridge makes of them', () => {
    const refusals = refusalsSentence([
      {url: 'http://10.0.0.40/preview', host: '10.0.0.40', count: 2, lastAt: null, advice: 'x'},
      {url: 'http://[fd00::1]/hook', host: 'fd00::1', count: 1, lastAt: null, advice: 'y'},
    ]);
    const out = renderCommandReply({kind: 'status', status: {...STATUS, refusals}});
    // Escaped as Markdown, as every text in the reply is.
    expect(out).toContain(
      '- Refused by Mattermost: Mattermost refused calls to 2 addresses itself \\(10\\.0\\.0\\.40, fd00:\u200b:1\\): the address is internal and ServiceSettings\\.AllowedUntrustedInternalConnections does not list it\\.',
    );
    expect(renderCommandReply({kind: 'status', status: STATUS})).not.toContain('Refused by Mattermost');
  });

  test('status: golden', () => {
    expect(renderCommandReply({kind: 'status', status: STATUS})).toBe(
      [
        '**Egress Advisor status** (0\\.1\\.0)',
        '',
        '- Findings: 4 open (3 blocked, 1 failing), 1 ignored, 2 resolved',
        '- Istio egress: `REGISTRY_ONLY`, unregistered hosts are blocked',
        '- Mattermost: connected (server 10\\.5\\.1): bot egress\\-advisor posts in \\~egress\\-advisor',
        '- Plugin: not connected yet: No call from the Egress Advisor plugin yet: enable it in System Console \\> Plugins\\.',
        '- Notifications waiting: 2',
        '',
        '**Log sources**',
        '- `kubernetes mattermost/mattermost-6c8f9d7b54-2xq8k` running, last line 4 min ago (2026-11-28 09:56:00 UTC), 18,234 lines',
        `- \`file /var/log/istio/proxy.log\` error, no line yet: ENOENT: no such file`,
      ].join('\n'),
    );
  });

  test('status: ALLOW_ANY, nothing configured, Mattermost down, plugin connected', () => {
    const out = renderCommandReply({
      kind: 'status',
      status: {
        ...STATUS,
        version: undefined,
        sources: [],
        mattermost: {ok: false, detail: 'connect ECONNREFUSED 10.43.0.12:8065'},
        hardening: {state: 'allow-any'},
        plugin: {connected: true, reason: 'The plugin carries every call in.'},
        counts: {open: 0, ignored: 0, resolved: 0, openByVerdict: {}},
        outboxDepth: 0,
      },
    });
    expect(out).toContain('**Egress Advisor status**\n');
    expect(out).toContain('- Findings: 0 open, 0 ignored, 0 resolved');
    expect(out).toContain('- Istio egress: `ALLOW_ANY`, nothing is blocked yet');
    expect(out).toContain(`- Mattermost: not connected: connect ECONNREFUSED 10\\.43\\.0\\.12:8065`);
    expect(out).toContain('- Plugin: connected: The plugin carries every call in\\.');
    expect(out).toContain('**Log sources**\n- none configured');
    expect(out).not.toContain('Notifications waiting');
  });

  test('list: golden, compact, no table', () => {
    const ignored: FindingView = {...GITHUB_FAILING, status: 'ignored'};
    expect(renderCommandReply({kind: 'list', list: {filter: 'all', findings: [S3, PUSH, UNNAMED, ignored], total: 9}})).toBe(
      [
        '**All destinations** (9)',
        '- `bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com:443` blocked: 4 attempts, last 2026-11-28 08:09:03 UTC, File storage \\(Amazon S3\\)',
        '- `push.mattermost.com:443` blocked: 1,234 attempts, last 2026-11-28 08:26:11 UTC, Push notifications',
        '- `140.82.112.5:443` blocked: 1 attempt, last 2026-11-28 08:20:45 UTC',
        '- `api.github.com:443` failing (ignored): 3 attempts, last 2026-11-28 08:22:40 UTC, GitHub plugin',
        '- … and 5 more',
        '',
        'Details: `/egress show <host>`. YAML: `/egress snippet all`.',
      ].join('\n'),
    );
  });

  test('list: empty', () => {
    expect(renderCommandReply({kind: 'list', list: {filter: 'open', findings: []}})).toBe(
      '**Open destinations:** none. Nothing is blocked that the bridge has seen. Other lists: `blocked`, `failing`, `passthrough`, `ignored`, `all`.',
    );
    expect(renderCommandReply({kind: 'list', list: {filter: 'ignored', findings: []}})).toMatch(/^\*\*Ignored destinations:\*\* none\. Other lists/);
  });

  test('list: many findings stay under the limit', () => {
    const many = Array.from({length: 500}, (_, i) => ({...S3, key: `h${i}:443`, destination: {host: `h${i}.example.com`, ip: null, port: 443}}));
    const out = renderCommandReply({kind: 'list', list: {filter: 'open', findings: many}});
    expect(out.split('\n').filter((l) => l.startsWith('- `'))).toHaveLength(50);
    expect(out).toContain('- … and 450 more');
  });

  test('show: golden, with samples in a code block and the attribution', () => {
    expect(renderShow(S3, planOf(S3))).toBe(
      [
        '**Blocked:** `bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com` port 443/TLS',
        '- Meaning: Istio `REGISTRY_ONLY` drops it',
        '- Breaks: File storage \\(Amazon S3\\) (`FileSettings.AmazonS3Endpoint`)',
        '- Seen: 4 attempts, first 2026-11-28 08:03:18 UTC, last 2026-11-28 08:09:03 UTC',
        '- Pods: `mattermost-6c8f9d7b54-2xq8k`, `mattermost-6c8f9d7b54-p7wzn`',
        "- Address: `203.0.113.40`; host named from Mattermost's own log of the failed call",
        `- How: Mattermost logged a failed call to https:${Z}//bigbang\\-mattermost\\-files\\.s3\\.us\\-gov\\-west\\-1\\.amazonaws\\.com/20261128/x\\.png 322 ms from this block in the same pod\\.`,
        '',
        `**What to do:** Add the entry \`bigbang--mattermost--files-s3-us--gov--west-ef969ec8\` of the suggested YAML: it allows \`bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com\` on port 443 \\(TLS\\)\\.`,
        '',
        'The first 1 log line kept (of 4 attempts):',
        '```text',
        S3.samples[0],
        '```',
        '',
        'The YAML: `/egress snippet bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com`',
      ].join('\n'),
    );
  });

  test('show: an ignored, unnamed destination says who ignored it and why', () => {
    const out = renderShow(
      {...UNNAMED, status: 'ignored', ignored: {by: {username: 'alice'}, reason: 'known probe', at: '2026-11-28T09:00:00Z'}},
      planOf(UNNAMED),
    );
    expect(out.split('\n')[0]).toBe('**Blocked, ignored:** `140.82.112.5` port 443/TLS');
    expect(out).toContain('- Host: not named yet\n');
    expect(out).toContain('- Ignored by alice on 2026-11-28 09:00:00 UTC: known probe');
    expect(out).toContain('**What to do:** No ServiceEntry is suggested\\. No host name is known for 140\\.82\\.112\\.5:443');
    // No YAML follows, and none is promised.
    expect(out).not.toMatch(/YAML below|snippet/);
    expect(out).not.toContain('```');
  });

  test('show: sample lines from a hostile log cannot end the block or mention anyone', () => {
    const samples = ['x ``` @channel', '```', '````', '[a](http://evil.example) @here', 'ok'];
    const out = renderShow({...PUSH, samples});
    const open = /^(`{3,})text$/m.exec(out);
    expect(open).not.toBeNull();
    const fence = open![1];
    expect(fence.length).toBe(5);
    const body = out.slice(open!.index + open![0].length + 1, out.indexOf(`\n${fence}`, open!.index + open![0].length));
    expect(body.split('\n')).toHaveLength(5);
    expect(out).not.toMatch(/@(?!\u200B)/);
  });

  test('snippet: one host, YAML in a fenced block, skipped hosts and notes listed', () => {
    const out = renderSnippet({
      target: 'push.mattermost.com',
      format: 'bigbang',
      yaml: YAML,
      skipped: [{host: '140.82.112.5', reason: 'no host name'}],
      notes: ['The values file could not be read completely.'],
    });
    expect(out).toBe(
      [
        '**ServiceEntries for one destination** (`bigbang` format)',
        'Host: `push.mattermost.com`',
        'Add to your Big Bang values (`addons.mattermost.values.routes.outbound`):',
        '',
        '```yaml',
        YAML.trimEnd(),
        '```',
        '',
        'Not in the YAML:',
        '- `140.82.112.5`: no host name',
        '',
        'Note: The values file could not be read completely\\.',
      ].join('\n'),
    );
  });

  test('snippet: all, serviceentry format; nothing to add; too long', () => {
    const all = renderCommandReply({kind: 'snippet', snippet: {target: null, format: 'serviceentry', yaml: 'apiVersion: networking.istio.io/v1\n'}});
    expect(all.split('\n').slice(0, 2)).toEqual([
      '**ServiceEntries for the configured integrations at risk and all open destinations** (`serviceentry` format)',
      'Apply with `kubectl apply -f -` in the Mattermost namespace:',
    ]);
    expect(renderSnippet({target: null, format: 'bigbang', yaml: ''})).toBe(
      '**No ServiceEntry to add** for the configured integrations at risk and all open destinations (`bigbang` format).',
    );
    const long = renderSnippet({target: null, format: 'bigbang', yaml: `${YAML}${'# x\n'.repeat(5000)}`});
    expect(long).not.toContain('```');
    expect(long).toContain('too long for a reply');
    expect(runeLength(long)).toBeLessThanOrEqual(MAX_POST_RUNES);
  });

  test('ignore and unignore confirmations', () => {
    expect(renderCommandReply({kind: 'ignored', finding: PUSH, reason: 'we use HPNS'})).toBe(
      'Ignored `push.mattermost.com:443`: no more alerts for it.\nReason: we use HPNS\nUndo: `/egress unignore push.mattermost.com`',
    );
    expect(renderCommandReply({kind: 'ignored', finding: UNNAMED, reason: ''})).toBe(
      'Ignored `140.82.112.5:443`: no more alerts for it.\nUndo: `/egress unignore 140.82.112.5`',
    );
    expect(renderCommandReply({kind: 'unignored', finding: GITHUB_FAILING, wasIgnored: true})).toBe(
      'No longer ignored: `api.github.com:443`. New traffic to it will alert again.',
    );
    expect(renderCommandReply({kind: 'unignored', finding: GITHUB_FAILING, wasIgnored: false})).toBe('Not ignored, nothing changed: `api.github.com:443`');
  });

  test('not found and ambiguous echo the target as code', () => {
    expect(renderCommandReply({kind: 'not-found', target: 'nope.example'})).toBe('No destination matches `nope.example`. See `/egress list all`.');
    expect(renderCommandReply({kind: 'not-found', target: '@all`x'})).toBe(`No destination matches \`\`@${Z}all\`x\`\`. See \`/egress list all\`.`);
    const s3b = {...S3, key: `${S3.destination.host}:80`, destination: {...S3.destination, port: 80}};
    expect(renderCommandReply({kind: 'ambiguous', target: S3.destination.host!, matches: [S3, s3b]})).toBe(
      [
        '`bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com` matches 2 destinations; add the port:',
        '- `bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com:443` blocked',
        '- `bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com:80` blocked',
      ].join('\n'),
    );
  });

  test('every reply for the sample findings stays under the limit', () => {
    for (const f of FINDINGS) expect(runeLength(renderShow(f))).toBeLessThanOrEqual(MAX_POST_RUNES);
  });
});

describe('the rehearsal reply', () => {
  const report = {
    state: 'done' as const,
    mode: 'ALLOW_ANY' as const,
    modeSource: 'Sidecar mattermost/default',
    startedAt: '2026-11-28T10:03:00.000Z',
    finishedAt: '2026-11-28T10:03:08.000Z',
    requestedBy: {userId: 'u1', username: 'alice'},
    summary: 'REGISTRY_ONLY would break File storage (S3): each needs a ServiceEntry before REGISTRY_ONLY is switched on.',
    nextAllowedAt: null,
    entries: [
      {
        kind: 's3' as const,
        label: 'File storage (S3)',
        verdict: 'will-break' as const,
        detail: 'Its test connection left the mesh through PassthroughCluster (s3.example.com:443).',
        test: null,
        lines: [{key: 's3.example.com:443', destination: 's3.example.com:443', named: true}],
        yaml: 'serviceEntries:\n  - name: s3\n',
      },
      {
        kind: 'smtp' as const,
        label: 'Email (SMTP)',
        verdict: 'not-tested' as const,
        detail: 'The email test sends a real email.',
        test: null,
        lines: [],
        yaml: '',
      },
    ],
  };

  // As a person reads it: Markdown escapes and the zero-width spaces that stop auto-linking taken out.
  const read = (s: string) => s.replace(/\\(.)/g, '$1').replace(/\u200b/g, '');

  test('names what breaks, with its line and its ServiceEntry, and who asked', () => {
    const text = read(renderRehearsal({ran: true, report}));
    expect(text).toContain(
      '**Rehearsal of REGISTRY_ONLY** at 2026-11-28 10:03:00 UTC (asked by @alice; outbound mode `ALLOW_ANY`, from Sidecar mattermost/default)',
    );
    expect(text).toContain('- **File storage (S3)**: breaks under REGISTRY_ONLY.');
    expect(text).toContain('PassthroughCluster: `s3.example.com:443`');
    expect(text).toContain('- **Email (SMTP)**: not tested.');
    expect(text).toContain('ServiceEntry for File storage (S3):\n\n```yaml\nserviceEntries:');
  });

  test('refused: why, then the latest rehearsal; before any: how to run one', () => {
    const text = read(renderRehearsal({ran: false, reason: 'A rehearsal ran less than 300 s ago.', report}));
    expect(text.startsWith('Not rehearsed: A rehearsal ran less than 300 s ago.\n\nThe latest:')).toBe(true);
    const none = renderRehearsal({ran: false, reason: 'The mesh already enforces REGISTRY_ONLY.', report: {...report, state: 'not-run', entries: []}});
    expect(none).not.toContain('The latest');
  });
});
