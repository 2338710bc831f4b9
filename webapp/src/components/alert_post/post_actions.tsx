import React, {useState} from 'react';

import {doPostAction} from '../../client';
import {useMounted} from '../common/use_mounted';

/** A message-attachment button as clients receive it (Mattermost strips `integration`). */
export interface ClientAction {
  id: string;
  name: string;
  type?: string;
  style?: string;
  disabled?: boolean;
  /** Set by Mattermost on ephemeral posts: the encrypted action, sent back on click. */
  cookie?: string;
}

export interface ClientAttachment {
  fallback?: string;
  color?: string;
  actions: ClientAction[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The buttons of `props.attachments`, read defensively: anything malformed is left out. */
export function readAttachments(props: unknown): ClientAttachment[] {
  if (!isRecord(props) || !Array.isArray(props.attachments)) return [];
  const out: ClientAttachment[] = [];
  for (const a of props.attachments) {
    if (!isRecord(a) || !Array.isArray(a.actions)) continue;
    const actions = a.actions.filter(
      (x): x is ClientAction =>
        isRecord(x) && typeof x.id === 'string' && x.id !== '' && typeof x.name === 'string' && (x.type === undefined || x.type === 'button'),
    );
    if (actions.length === 0) continue;
    out.push({
      fallback: typeof a.fallback === 'string' ? a.fallback : undefined,
      color: typeof a.color === 'string' ? a.color : undefined,
      actions,
    });
  }
  return out;
}

function buttonClass(style: string | undefined): string {
  if (style === 'primary' || style === 'success' || style === 'good') return 'ea-btn ea-btn--small';
  if (style === 'danger') return 'ea-btn ea-btn--danger ea-btn--small';
  return 'ea-btn ea-btn--secondary ea-btn--small';
}

interface Props {
  postId: string;
  basePath: string;
  attachments: ClientAttachment[];
}

/**
 * Mattermost does not draw a post's attachments when a plugin renders the post type, so the
 * buttons the bridge attached are drawn here and clicked the way Mattermost clicks them.
 */
export function PostActions({postId, basePath, attachments}: Props) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mounted = useMounted();

  if (attachments.length === 0) return null;

  const click = async (action: ClientAction) => {
    setBusy(action.id);
    setError(null);
    try {
      await doPostAction(basePath, postId, action.id, action.cookie);
    } catch (err) {
      if (mounted.current) setError(`${action.name}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      if (mounted.current) setBusy(null);
    }
  };

  return (
    <div style={{marginTop: 6}}>
      {attachments.map((a, i) => (
        <div key={`${i}-${a.actions[0].id}`} className='ea-row' role='group' aria-label={a.fallback ?? 'Actions'} style={{margin: '4px 0'}}>
          {a.fallback !== undefined && <span className='ea-small ea-muted ea-code'>{a.fallback}</span>}
          {a.actions.map((action) => (
            <button
              key={action.id}
              type='button'
              className={buttonClass(action.style)}
              disabled={action.disabled === true || busy !== null}
              onClick={() => void click(action)}
            >
              {busy === action.id ? `${action.name}…` : action.name}
            </button>
          ))}
        </div>
      ))}
      {error !== null && (
        <p className='ea-small ea-error-text' role='alert'>
          {error}
        </p>
      )}
    </div>
  );
}
