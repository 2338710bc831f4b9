import React from 'react';

import {absoluteTime, relativeTime} from '../../utils/time';

interface Props {
  iso: string | null | undefined;
  now: number;
  /** Shown when there is no time. */
  empty?: string;
}

/** "5 minutes ago" with the exact time in the tooltip and in the machine-readable datetime. */
export function RelativeTime({iso, now, empty = '—'}: Props) {
  const rel = relativeTime(iso, now);
  if (rel === '' || !iso) return <span className='ea-muted'>{empty}</span>;
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {rel}
    </time>
  );
}
