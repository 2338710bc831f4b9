// The admin channel's notice about calls Mattermost refused itself: not the mesh, a setting of its own.
import type {MattermostRefusalReport} from '../../common/api';
import {UNTRUSTED_SETTING} from '../engine/applog';
import {escapeMarkdown, inlineCode} from './markdown';
import {plural} from './text';

/** Props that say which notice a post is, so a crash between posting and recording it cannot post it twice. */
export const REFUSALS_PROPS_KEY = 'egress_advisor_refusals';

const MAX_LISTED = 20;

export function renderRefusalsNotice(refusals: readonly MattermostRefusalReport[], noticeId: string): {message: string; props: Record<string, unknown>} {
  const lines = refusals.slice(0, MAX_LISTED).map((r) => {
    const what = r.url !== null ? inlineCode(r.url, 300) : 'an integration';
    const add = r.host !== null ? `add ${inlineCode(r.host, 260)}` : 'add its host';
    return `- ${what}${r.count > 1 ? ` (${plural(r.count, 'time')})` : ''}: ${add} if it is meant to be internal.`;
  });
  const message = [
    `#### Mattermost refused ${plural(refusals.length, 'call')} to internal addresses itself`,
    `This is not the mesh: no connection was made. The address is private, loopback or link-local, and ${inlineCode(UNTRUSTED_SETTING)} does not list it ` +
      `(${escapeMarkdown('System Console > Environment > Developer > Allow untrusted internal connections to')}, or ${inlineCode('MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS')}).`,
    ...lines,
    'Each address is said once; `/egress status` and the page list them all.',
  ].join('\n');
  return {message, props: {[REFUSALS_PROPS_KEY]: {notice_id: noticeId, hosts: refusals.slice(0, MAX_LISTED).map((r) => r.host ?? r.url ?? '')}}};
}
