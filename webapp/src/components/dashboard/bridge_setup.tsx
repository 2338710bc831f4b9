import React from 'react';

import type {BridgeError} from '../../client';

interface Props {
  error: BridgeError;
  onRetry: () => void;
}

function headline(error: BridgeError): string {
  switch (error.code ?? error.kind) {
    case 'bridge_not_configured':
      return 'The Egress Advisor bridge has not connected to this plugin yet';
    case 'bridge_unreachable':
      return 'The plugin cannot reach the Egress Advisor bridge';
    case 'not-routed':
      return "The Egress Advisor plugin's server half does not answer";
    default:
      return 'The Egress Advisor bridge cannot be reached';
  }
}

/**
 * What the dashboard shows instead of findings when its requests do not reach the bridge. The plugin
 * carries every call (it says why it could not), so there is nothing to route: the two set-up steps are
 * installing the bridge and enabling the plugin.
 */
export function BridgeSetup({error, onRetry}: Props) {
  return (
    <section className='ea-callout ea-callout--error' aria-labelledby='ea-setup-title'>
      <h3 id='ea-setup-title'>{headline(error)}</h3>
      <p>
        {error.message}
        {error.status > 0 ? '' : ' (no HTTP answer)'}
      </p>
      <ol>
        <li>
          {'Install the bridge next to Mattermost (its Helm chart, '}
          <code className='ea-code'>{'build/chart/egress-advisor'}</code>
          {") with a system admin's token: it writes its URL and secret into this plugin's settings when it starts."}
        </li>
        <li>{'Enable this plugin (System Console › Plugins › Plugin Management). Mattermost itself keeps working either way.'}</li>
      </ol>
      <button type='button' className='ea-btn' onClick={onRetry}>
        {'Try again'}
      </button>
    </section>
  );
}
