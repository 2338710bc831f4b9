import {ALERT_PROPS_KEY, readAlertData, THREAD_UPDATE_PROPS_KEY} from '../../common/alert';
import type {Finding, Plan} from '../../common/types';
import {suggest} from '../engine/suggest';
import type {IntegrationItem} from '../../common/api';
import {findingsForSuggestion} from '../engine/integrations';
import {MAX_ALERT_LINES, renderAlert, renderAtRiskNotice, renderThreadUpdate, type AlertInput, type AtRiskInput} from './alert';
import {verifyContext} from './hmac';
import {runeLength} from './markdown';
import {MAX_PROPS_CHARS} from './props';
import {FINDINGS, GITHUB_FAILING, KEY, NOW, PUSH, S3, UNNAMED, YAML} from './testing';
import {MAX_POST_RUNES} from './text';

const ACTION_URL = 'http://egress-advisor.mattermost.svc.cluster.local:8080/actions';

function plans(findings: readonly Finding[]): Plan[] {
  return suggest(findings, {format: 'bigbang'}).plans;
}

function input(over: Partial<AlertInput> = {}): AlertInput {
  return {
    findings: FINDINGS,
    plans: plans(FINDINGS),
    suggestionYaml: YAML,
    format: 'bigbang',
    actionUrl: ACTION_URL,
    hmacKey: KEY,
    now: NOW,
    siteUrl: 'https://chat.example.mil',
    digestId: 'digest-2026-11-28T08',
    ...over,
  };
}

const GOLDEN = `**Egress Advisor:** 4 outbound destinations of Mattermost need attention (3 blocked, 1 failing).

1. \`bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com:443\` blocked (File storage \\(Amazon S3\\)): add \`bigbang--mattermost--files-s3-us--gov--west-ef969ec8\`
2. \`push.mattermost.com:443\` blocked (Push notifications): add \`push-mattermost-com-443\`
3. \`140.82.112.5:443\` blocked: no ServiceEntry, see \`/egress show\`
4. \`api.github.com:443\` failing (GitHub plugin): registered, check the NetworkPolicy or firewall

Add to your Big Bang values (\`addons.mattermost.values.routes.outbound\`):

\`\`\`yaml
${YAML.trimEnd()}
\`\`\`

Details: \`/egress show <host>\`

History and settings: [System Console](https://chat.example.mil/admin_console/plugins/plugin_egress-advisor)`;

describe('renderAlert message', () => {
  test('golden text for the sample findings', () => {
    expect(renderAlert(input()).message).toBe(GOLDEN);
  });

  test('without a SiteURL there is no console link; a subpath install keeps its path', () => {
    expect(renderAlert(input({siteUrl: undefined})).message).not.toContain('System Console');
    expect(renderAlert(input({siteUrl: 'https://example.com/mm/'})).message).toContain(
      '[System Console](https://example.com/mm/admin_console/plugins/plugin_egress-advisor)',
    );
  });

  test('a SiteURL that could break the link is left out', () => {
    for (const siteUrl of ['javascript:alert(1)', 'https://a.example/x)(y', 'not a url', 'https://user:pw@a.example']) {
      expect(renderAlert(input({siteUrl})).message).not.toContain('System Console');
    }
  });

  test('each format names where its YAML goes', () => {
    expect(renderAlert(input({format: 'bigbang-legacy'})).message).toContain('`addons.mattermost.values.istio.hardened.customServiceEntries`');
    expect(renderAlert(input({format: 'package'})).message).toContain("Mattermost chart's values (`routes.outbound`)");
    expect(renderAlert(input({format: 'serviceentry'})).message).toContain('`kubectl apply -f -`');
  });

  test('no YAML: no empty block, and each line says what to do instead', () => {
    const only = renderAlert(input({findings: [UNNAMED], suggestionYaml: '', plans: plans([UNNAMED])})).message;
    expect(only).not.toContain('```');
    expect(only).not.toContain('snippet');
    expect(only).toContain('no ServiceEntry, see `/egress show`');
    expect(only).toContain('Details: `/egress show 140.82.112.5`');
    const failing = renderAlert(input({findings: [GITHUB_FAILING], suggestionYaml: '', plans: plans([GITHUB_FAILING])})).message;
    expect(failing).toContain('registered, check the NetworkPolicy or firewall');
    expect(failing).toContain('1 outbound destination of Mattermost needs attention (1 failing).');
  });

  test('many destinations: the same size whatever the count, one line each, the rest one command away', () => {
    const many = (n: number): Finding[] =>
      Array.from({length: n}, (_, i) => ({
        ...S3,
        key: `host-${i}.example.com:443`,
        destination: {host: `host-${i}.example.com`, ip: null, port: 443},
        attribution: {...S3.attribution, host: `host-${i}.example.com`, method: 'sni'},
      }));
    const sizes: number[] = [];
    for (const n of [11, 40, 300]) {
      const findings = many(n);
      const msg = renderAlert(input({findings, plans: plans(findings)})).message;
      const lines = msg.split('\n');
      expect(lines.filter((l) => /^\d+\. `host-/.test(l))).toHaveLength(MAX_ALERT_LINES);
      expect(msg).toContain(`\n\n… and ${n - MAX_ALERT_LINES} more destination${n - MAX_ALERT_LINES === 1 ? '' : 's'}: \`/egress list\`\n\n`);
      expect(msg).toContain('1. `host-0.example.com:443` blocked (File storage \\(Amazon S3\\)): add `host--0-example-com-443`');
      expect(msg).not.toContain('```');
      expect(msg).toContain('The YAML for all of them: `/egress snippet all`');
      sizes.push(lines.length);
      expect(runeLength(msg)).toBeLessThan(3000);
    }
    expect(new Set(sizes).size).toBe(1);
  });

  test('YAML too long for a post gives way to /egress snippet', () => {
    const huge = `${YAML}${'# padding line for a very long suggestion\n'.repeat(500)}`;
    const msg = renderAlert(input({suggestionYaml: huge})).message;
    expect(runeLength(msg)).toBeLessThanOrEqual(MAX_POST_RUNES);
    expect(msg).not.toContain('```');
    expect(msg).toContain('The YAML for all of them: `/egress snippet all`');
    expect(msg).toContain('4. `api.github.com:443` failing');
  });

  test('zero findings', () => {
    expect(renderAlert(input({findings: []})).message).toBe('**Egress Advisor:** no outbound destination of Mattermost needs attention.');
  });
});

describe('renderAlert props', () => {
  test('drawn again after an ignore: the card and the message say who ignored it, and its Ignore button is gone', () => {
    const at = {by: 'alice', reason: 'moved to <b>SES</b> @channel', at: '2026-11-28T09:00:00.000Z'};
    const out = renderAlert(input({ignored: {[FINDINGS[0].key]: at}}));
    const data = readAlertData(out.props)!;
    expect(data.findings.find((f) => f.key === FINDINGS[0].key)?.ignored).toEqual(at);
    expect(data.findings.filter((f) => f.ignored !== undefined)).toHaveLength(1);
    const line = out.message.split('\n').find((l) => l.startsWith('1. '));
    expect(line).toMatch(/: ignored by alice$/);
    const names = out.props.attachments.flatMap((a) => a.actions.map((b) => b.id));
    expect(names).not.toContain('ignore0');
    expect(names).toContain('show0');
    expect(names).toContain('ignore1');
    // Not ignored: as before, and the props read back without the field.
    expect(readAlertData(renderAlert(input()).props)?.findings.every((f) => !('ignored' in f))).toBe(true);
  });

  test('versioned data the webapp can read back', () => {
    const {props} = renderAlert(input());
    const data = readAlertData(JSON.parse(JSON.stringify(props)));
    expect(data).not.toBeNull();
    expect(data!.version).toBe(1);
    expect(data!.digest_id).toBe('digest-2026-11-28T08');
    expect(data!.format).toBe('bigbang');
    expect(data!.yaml).toBe(YAML);
    expect(data!.yaml_omitted).toBe(false);
    expect(data!.findings_omitted).toBe(0);
    expect(data!.findings[0]).toEqual({
      key: S3.key,
      host: 'bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com',
      ip: '203.0.113.40',
      port: 443,
      protocol: 'TLS',
      verdict: 'blocked',
      features: [{name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'}],
      count: 4,
      firstSeen: '2026-11-28T08:03:18.403Z',
      lastSeen: '2026-11-28T08:09:03.440Z',
      pods: ['mattermost-6c8f9d7b54-2xq8k', 'mattermost-6c8f9d7b54-p7wzn'],
    });
  });

  test('buttons: one attachment per destination, one for all; ids Mattermost accepts; contexts signed', () => {
    const {props} = renderAlert(input());
    const atts = props.attachments;
    expect(atts).toHaveLength(5);
    expect(atts.map((a) => a.color)).toEqual(['danger', 'danger', 'danger', 'warning', 'danger']);
    expect(atts[0].fallback).toBe('blocked: bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com:443');
    expect(atts[1].actions.map((a) => a.name)).toEqual(['Ignore push.mattermost.com:443', 'Show ServiceEntry']);
    expect(atts[4].actions.map((a) => a.name)).toEqual(['Show all ServiceEntries']);
    const ids = atts.flatMap((a) => a.actions.map((b) => b.id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]+$/);

    for (const b of atts.flatMap((a) => a.actions)) {
      expect(b.type).toBe('button');
      expect(b.integration!.url).toBe(ACTION_URL);
      // As Mattermost hands it back: through JSON.
      const v = verifyContext(KEY, JSON.parse(JSON.stringify(b.integration!.context)), NOW);
      expect(v.ok).toBe(true);
      if (v.ok) expect(v.fields.digest_id).toBe('digest-2026-11-28T08');
    }
    expect(atts[0].actions[0].integration!.context).toMatchObject({action: 'ignore', key: S3.key});
    expect(atts[0].actions[1].integration!.context).toMatchObject({action: 'show-snippet', key: S3.key});
    expect(atts[4].actions[0].integration!.context.keys).toEqual(FINDINGS.map((f) => f.key));
    // Thirty days, then the buttons say so instead of acting.
    const later = new Date(NOW.getTime() + 31 * 24 * 3600 * 1000);
    expect(verifyContext(KEY, atts[0].actions[0].integration!.context, later)).toEqual({ok: false, reason: 'expired'});
  });

  test('a single destination gets no "all" button', () => {
    expect(renderAlert(input({findings: [PUSH]})).props.attachments).toHaveLength(1);
  });

  test('many destinations: props stay under the cap and say how many were left out', () => {
    const many: Finding[] = Array.from({length: 2000}, (_, i) => ({
      ...S3,
      key: `host-${i}.example.com:443`,
      destination: {host: `host-${i}.example.com`, ip: null, port: 443},
    }));
    const {props} = renderAlert(input({findings: many}));
    expect(JSON.stringify(props).length).toBeLessThanOrEqual(MAX_PROPS_CHARS);
    const data = props[ALERT_PROPS_KEY];
    expect(data.findings.length).toBeGreaterThan(10);
    expect(data.findings.length + data.findings_omitted).toBe(2000);
    expect(props.attachments).toHaveLength(6);
    expect(props.attachments[5].actions[0].name).toBe('Show ServiceEntries (first 100)');
  });

  test('a YAML too large for the props is left out and flagged', () => {
    const huge = 'x'.repeat(40_000);
    const data = renderAlert(input({suggestionYaml: huge})).props[ALERT_PROPS_KEY];
    expect(data.yaml).toBe('');
    expect(data.yaml_omitted).toBe(true);
    expect(data.findings).toHaveLength(4);
  });

  test('readAlertData refuses other versions and damaged props', () => {
    const {props} = renderAlert(input());
    expect(readAlertData({...props, [ALERT_PROPS_KEY]: {...props[ALERT_PROPS_KEY], version: 2}})).toBeNull();
    expect(readAlertData({[ALERT_PROPS_KEY]: {...props[ALERT_PROPS_KEY], findings: [{key: 1}]}})).toBeNull();
    expect(readAlertData(null)).toBeNull();
    expect(readAlertData('x')).toBeNull();
  });
});

describe('renderThreadUpdate', () => {
  test('one short line per destination', () => {
    const out = renderThreadUpdate({
      digestId: 'd1',
      entries: [
        {finding: S3, previousCount: 2, previousPods: ['mattermost-6c8f9d7b54-2xq8k']},
        {finding: PUSH, previousCount: 1234, previousPods: PUSH.pods, reopened: true},
      ],
    });
    expect(out.message).toBe(
      [
        'More activity on 2 destinations of this alert:',
        '- `bigbang-mattermost-files.s3.us-gov-west-1.amazonaws.com:443` blocked: 4 attempts (+2), last 2026-11-28 08:09:03 UTC, new pod `mattermost-6c8f9d7b54-p7wzn`',
        '- `push.mattermost.com:443` blocked again: 1,234 attempts, last 2026-11-28 08:26:11 UTC',
      ].join('\n'),
    );
    expect(out.props[THREAD_UPDATE_PROPS_KEY]).toEqual({
      version: 1,
      digest_id: 'd1',
      items: [
        {key: S3.key, count: 4, previous_count: 2, new_pods: ['mattermost-6c8f9d7b54-p7wzn'], reopened: false, resolved: false, lastSeen: S3.lastSeen},
        {key: PUSH.key, count: 1234, previous_count: 1234, new_pods: [], reopened: true, resolved: false, lastSeen: PUSH.lastSeen},
      ],
      items_omitted: 0,
    });
  });

  test('a resolved destination says what lets it out now, as plain text', () => {
    const out = renderThreadUpdate({
      digestId: 'r1',
      entries: [
        {
          finding: PUSH,
          previousCount: PUSH.count,
          previousPods: PUSH.pods,
          resolution: 'allowed by ServiceEntry mattermost/push-[x](http://e) (in the mesh since 2026-11-28T09:00:00.000Z); no blocked connection since',
        },
      ],
    });
    const [head, line] = out.message.split('\n');
    expect(head).toBe('1 destination of this alert is no longer blocked:');
    expect(line).toMatch(/^- `push\.mattermost\.com:443` resolved: allowed by ServiceEntry mattermost\/push/);
    // Escaped: the brackets show as typed and make no link.
    expect(line).toContain('\\[x\\]\\(');
    expect(out.props[THREAD_UPDATE_PROPS_KEY].items[0]).toMatchObject({key: PUSH.key, resolved: true});
  });

  test('many destinations are cut with a pointer to /egress list', () => {
    const entries = Array.from({length: 80}, (_, i) => ({
      finding: {...PUSH, key: `h${i}.example.com:443`, destination: {host: `h${i}.example.com`, ip: null, port: 443}},
      previousCount: 1,
      previousPods: [],
    }));
    const out = renderThreadUpdate({digestId: 'd', entries});
    expect(out.message.split('\n')).toHaveLength(52);
    expect(out.message.endsWith('… and 30 more, see /egress list')).toBe(true);
    expect(out.props[THREAD_UPDATE_PROPS_KEY].items_omitted).toBe(30);
  });
});

describe('renderAtRiskNotice', () => {
  const smtp = {
    feature: {id: 'email-smtp', name: 'Email (SMTP)', configPath: 'EmailSettings.SMTPServer'},
    host: 'smtp.example.com',
    port: 587,
    enabled: true,
    state: 'will-be-blocked' as const,
    allowedBy: null,
    findings: [],
    detail: '',
  };
  const hook = {
    ...smtp,
    feature: {id: 'outgoing-webhook:x', name: 'Outgoing webhook “@channel [x](http://e)”', configPath: 'OutgoingWebhook.x.callback_urls[0]'},
    host: 'hooks.example.org',
    port: 443,
  };
  const imds = {
    ...smtp,
    feature: {id: 'file-storage', name: 'File storage (Amazon S3)', configPath: 'FileSettings.AmazonS3Endpoint'},
    host: '169.254.169.254',
    port: 80,
  };
  /** The notice as the bridge builds it: the plans and YAML of one suggest() over the integrations' stand-ins. */
  function notice(items: IntegrationItem[], mode: AtRiskInput['mode'], showYaml = true): ReturnType<typeof renderAtRiskNotice> {
    const s = suggest(findingsForSuggestion(items, [], mode), {format: 'bigbang'});
    return renderAtRiskNotice({items, mode, suggestionYaml: showYaml ? s.yaml : '', format: 'bigbang', plans: s.plans, noticeId: 'notice-7'});
  }

  test('names each integration with its plan, says when it will fail, and carries the YAML and its id', () => {
    const out = notice([smtp, hook], 'REGISTRY_ONLY');
    const lines = out.message.split('\n');
    expect(lines[0]).toBe(
      '**Egress Advisor:** 2 configured integrations of Mattermost have no ServiceEntry. Nothing has failed yet; the first call to each will be dropped (BlackHoleCluster).',
    );
    expect(out.message).toContain('- Email \\(SMTP\\) (`EmailSettings.SMTPServer`): `smtp.example.com:587`: add `smtp-example-com-587`');
    expect(out.message).toContain('`hooks.example.org:443`: add `hooks-example-org-443`');
    const yaml = /```yaml\n([\s\S]*)\n```/.exec(out.message)?.[1] ?? '';
    expect(yaml).toContain('smtp-example-com-587:');
    expect(yaml).toContain('hooks-example-org-443:');
    expect(out.message).not.toContain('System Console page, under');
    expect(out.props).toEqual({egress_advisor_at_risk: {version: 1, notice_id: 'notice-7', hosts: ['smtp.example.com:587', 'hooks.example.org:443']}});
  });

  test('the instance metadata address gets the same advice as the API: credentials of its own, no ServiceEntry', () => {
    const out = notice([imds, smtp], 'REGISTRY_ONLY');
    const line = out.message.split('\n').find((l) => l.includes('`169.254.169.254:80`'));
    expect(line).toMatch(/^- File storage \\\(Amazon S3\\\) \(`FileSettings\.AmazonS3Endpoint`\): `169\.254\.169\.254:80`: No ServiceEntry is suggested\\\. /);
    expect(line).toMatch(/own credentials/);
    expect(line).toMatch(/IRSA|IAM Roles for Service Accounts/);
    expect(out.message).not.toContain('169-254-169-254');
  });

  test('without the YAML in the post, it says where the YAML is instead', () => {
    const out = notice([smtp], 'ALLOW_ANY', false);
    expect(out.message).not.toContain('```');
    expect(out.message).toContain('The YAML for them is on the System Console page, under the configured integrations.');
  });

  test('a hostile feature name mentions and links nothing', () => {
    const out = notice([hook], 'ALLOW_ANY');
    expect(out.message).toMatch(/^\*\*Egress Advisor:\*\* 1 configured integration of Mattermost has no ServiceEntry\. It works today only because/);
    expect(out.message).not.toMatch(/@(?!\u200B)/);
    // Outside the YAML's code block (where nothing is a link).
    expect(out.message.replace(/```yaml\n[\s\S]*?\n```/, '')).not.toContain('](http');
  });
});
