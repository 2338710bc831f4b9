import React, {useEffect, useState} from 'react';
import {useSelector} from 'react-redux';
import type {GlobalState} from '@mattermost/types/store';

import {readAlertData, THREAD_UPDATE_PROPS_KEY, type AlertFinding, type EgressAlertData, type ThreadUpdateItem} from '../../../../common/alert';
import type {Verdict} from '../../../../common/types';
import {basePathOf} from '../../client';
import {getSiteUrl, isBridgeBotPost} from '../../selectors';
import type {HostWindow, PostTypeProps} from '../../types/mattermost';
import {FORMAT_LABEL, plural, VERDICT_HELP, VERDICT_LABEL} from '../../utils/words';
import {CopyButton} from '../common/copy_button';
import {RelativeTime} from '../common/relative_time';
import {verdictBadgeClass} from '../dashboard/findings_table';

import {PostActions, readAttachments} from './post_actions';

const CLOCK_MS = 60_000;

function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), CLOCK_MS);
    return () => window.clearInterval(t);
  }, []);
  return now;
}

function destination(f: {host: string | null; ip: string | null; key: string}): string {
  return f.host ?? f.ip ?? f.key;
}

const SUMMARY_ORDER: Verdict[] = ['blocked', 'passthrough', 'external-failed'];

export function alertHeadline(data: EgressAlertData): string {
  const total = data.findings.length + data.findings_omitted;
  const parts = SUMMARY_ORDER.map((v) => [v, data.findings.filter((f) => f.verdict === v).length] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${VERDICT_LABEL[v].toLowerCase()}`);
  return `${plural(total, 'outbound destination')} of Mattermost ${total === 1 ? 'needs' : 'need'} attention${parts.length > 0 ? ` (${parts.join(', ')})` : ''}.`;
}

function FindingLine({f, now}: {f: AlertFinding; now: number}) {
  return (
    <li className='ea-alert__item'>
      <div className='ea-row'>
        <code className='ea-code'>{`${destination(f)}:${f.port}/${f.protocol}`}</code>
        <span className={verdictBadgeClass(f.verdict)} title={VERDICT_HELP[f.verdict]}>
          {VERDICT_LABEL[f.verdict]}
        </span>
      </div>
      <div className='ea-small'>
        {f.features.length > 0 ? `Breaks ${f.features.map((x) => x.name).join(', ')} · ` : ''}
        {`${plural(f.count, 'attempt')} · first `}
        <RelativeTime iso={f.firstSeen} now={now} empty='not dated' />
        {', last '}
        <RelativeTime iso={f.lastSeen} now={now} empty='not dated' />
        {f.pods.length > 0 && (
          <span className='ea-muted' title={f.pods.join('\n')}>
            {` · ${f.pods.length === 1 ? f.pods[0] : plural(f.pods.length, 'pod')}`}
          </span>
        )}
      </div>
      {f.ignored !== undefined && (
        <div className='ea-small ea-muted' data-ignored='true'>
          {`Ignored by @${f.ignored.by}${f.ignored.reason.trim() === '' ? '' : `: ${f.ignored.reason}`} · `}
          <RelativeTime iso={f.ignored.at} now={now} />
        </div>
      )}
    </li>
  );
}

function Yaml({data}: {data: EgressAlertData}) {
  if (data.yaml !== '') {
    return (
      <details>
        <summary>{`Suggested YAML: ${FORMAT_LABEL[data.format]}`}</summary>
        <pre className='ea-pre' tabIndex={0}>
          {data.yaml}
        </pre>
        <CopyButton text={data.yaml} label='Copy YAML' className='ea-btn ea-btn--secondary ea-btn--small' />
      </details>
    );
  }
  if (data.yaml_omitted) {
    return (
      <p className='ea-small'>
        {'The suggested YAML is too long for a post: get it with '}
        <code className='ea-code'>{'/egress snippet all'}</code>
        {" or on the plugin's System Console page."}
      </p>
    );
  }
  return null;
}

function ThreadUpdate({items, omitted, now}: {items: ThreadUpdateItem[]; omitted: number; now: number}) {
  return (
    <div className='ea-alert ea-alert--info'>
      <p style={{margin: '0 0 4px'}}>
        {items.length > 0 && items.every((i) => i.resolved === true)
          ? `${plural(items.length + omitted, 'destination')} of this alert ${items.length + omitted === 1 ? 'is' : 'are'} no longer blocked:`
          : `More activity on ${plural(items.length + omitted, 'destination')} of this alert:`}
      </p>
      <ul className='ea-list'>
        {items.map((i) => {
          const grew = i.count - i.previous_count;
          if (i.resolved === true) {
            return (
              <li key={i.key}>
                <code className='ea-code'>{i.key}</code>
                {': resolved, a ServiceEntry lets it out now'}
              </li>
            );
          }
          return (
            <li key={i.key}>
              <code className='ea-code'>{i.key}</code>
              {i.reopened ? ' is back' : ''}
              {`: ${plural(i.count, 'attempt')}${grew > 0 ? ` (+${grew.toLocaleString('en-US')})` : ''}, last `}
              <RelativeTime iso={i.lastSeen} now={now} empty='not dated' />
              {i.new_pods.length > 0 && `, new ${i.new_pods.length === 1 ? 'pod' : 'pods'} ${i.new_pods.join(', ')}`}
            </li>
          );
        })}
      </ul>
      {omitted > 0 && <p className='ea-small ea-muted'>{`… and ${omitted} more: see /egress list.`}</p>}
    </div>
  );
}

function readThreadUpdate(props: unknown): {items: ThreadUpdateItem[]; omitted: number} | null {
  const u = (props as Record<string, unknown> | null)?.[THREAD_UPDATE_PROPS_KEY] as {version?: unknown; items?: unknown; items_omitted?: unknown} | undefined;
  if (typeof u !== 'object' || u === null || u.version !== 1 || !Array.isArray(u.items)) return null;
  const items = u.items.filter(
    (i): i is ThreadUpdateItem =>
      typeof i === 'object' &&
      i !== null &&
      typeof i.key === 'string' &&
      typeof i.count === 'number' &&
      typeof i.previous_count === 'number' &&
      Array.isArray(i.new_pods),
  );
  return {items, omitted: typeof u.items_omitted === 'number' ? u.items_omitted : 0};
}

/** The post's Markdown message, rendered the host's way when the host offers it. */
function Message({message}: {message: string}) {
  const utils = (window as unknown as HostWindow).PostUtils;
  if (utils?.formatText && utils.messageHtmlToComponent) {
    return <div className='post-message__text'>{utils.messageHtmlToComponent(utils.formatText(message, {atMentions: true}))}</div>;
  }
  return <p style={{whiteSpace: 'pre-wrap', margin: 0}}>{message}</p>;
}

/**
 * Renders posts of type custom_egress_alert: a compact card from the alert's props, the YAML
 * folded, and the bridge's buttons. Posts from a newer bridge (another props version) and clients
 * without the plugin show the Markdown message instead.
 */
export function AlertPost({post}: PostTypeProps) {
  const now = useNow();
  const basePath = basePathOf(useSelector(getSiteUrl));
  // Anyone may post this type with these props: only the bridge's bot gets a card and buttons.
  const fromBridge = useSelector((state: GlobalState) => isBridgeBotPost(state, post.user_id));
  if (!fromBridge) return <Message message={post.message} />;
  return <BridgeAlertPost post={post} now={now} basePath={basePath} />;
}

function BridgeAlertPost({post, now, basePath}: {post: PostTypeProps['post']; now: number; basePath: string}) {
  const data = readAlertData(post.props);
  const attachments = readAttachments(post.props);
  const actions = <PostActions postId={post.id} basePath={basePath} attachments={attachments} />;

  if (data === null) {
    const update = readThreadUpdate(post.props);
    if (update !== null) {
      return (
        <div className='ea-root'>
          <ThreadUpdate items={update.items} omitted={update.omitted} now={now} />
          {actions}
        </div>
      );
    }
    return (
      <div className='ea-root'>
        <Message message={post.message} />
        {actions}
      </div>
    );
  }

  const tone = data.findings.some((f) => f.verdict === 'blocked') ? '' : ' ea-alert--warning';
  return (
    <div className={`ea-root ea-alert${tone}`}>
      <p style={{margin: '0 0 4px'}}>
        <strong>{'Egress Advisor: '}</strong>
        {alertHeadline(data)}
      </p>
      <ul className='ea-plain-list'>
        {data.findings.map((f) => (
          <FindingLine key={f.key} f={f} now={now} />
        ))}
      </ul>
      {data.findings_omitted > 0 && (
        <p className='ea-small ea-muted'>
          {`… and ${data.findings_omitted.toLocaleString('en-US')} more: `}
          <code className='ea-code'>{'/egress list'}</code>
          {" or the plugin's System Console page."}
        </p>
      )}
      <Yaml data={data} />
      {actions}
    </div>
  );
}
