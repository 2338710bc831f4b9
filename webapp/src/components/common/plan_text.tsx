import React from 'react';

import type {Plan} from '../../../../common/types';

/**
 * A plan's text as every view says it (server/engine/suggest/plan.ts): the names and commands it quotes in
 * backticks are shown as code, exactly as they run; nothing else is interpreted.
 */
export function PlanText({plan}: {plan: Plan}) {
  const parts = plan.text.split(/`([^`\n]+)`/);
  return (
    <p data-plan-action={plan.action}>
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          <code key={i} className='ea-code'>
            {part}
          </code>
        ) : (
          part
        ),
      )}
    </p>
  );
}
