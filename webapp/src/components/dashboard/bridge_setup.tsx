import React from 'react';

import type {BridgeError} from '../../client';
import {CopyButton} from '../common/copy_button';

interface Props {
  error: BridgeError;
  siteUrl: string;
  /** The Site URL's path ('' at the root). */
  basePath: string;
  /** The bridge's API path, e.g. /plugins/egress-advisor/api/v1. */
  bridgePath: string;
  onRetry: () => void;
}

/** The prefix to route: the bridge path without its version segment, e.g. /plugins/egress-advisor/api/. */
export function routePrefix(basePath: string, bridgePath: string): string {
  const full = basePath + bridgePath;
  return full.slice(0, full.lastIndexOf('/') + 1) || '/';
}

function hostOf(siteUrl: string): string | null {
  try {
    const host = new URL(siteUrl).hostname;
    return host === '' ? null : host;
  } catch {
    return null;
  }
}

export function virtualServiceSnippet(prefix: string, host: string | null): string {
  return [
    `# In the VirtualService that routes ${host ?? 'your Mattermost host'} (spec.http),`,
    '# above the route to Mattermost: Istio uses the first route that matches.',
    '- name: egress-advisor',
    '  match:',
    '    - uri:',
    `        prefix: ${prefix}`,
    '  route:',
    '    - destination:',
    '        host: <bridge-service>.<namespace>.svc.cluster.local',
    '        port:',
    '          number: <bridge-port>',
    '',
  ].join('\n');
}

export function nginxSnippet(prefix: string, host: string | null): string {
  return [
    `# In the server block for ${host ?? 'your Mattermost host'}, next to "location /".`,
    `location ${prefix} {`,
    '    proxy_pass http://<bridge-host>:<bridge-port>;',
    '    proxy_set_header Host $host;',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_set_header X-Forwarded-Proto $scheme;',
    '    # Live updates are a server-sent event stream: no buffering, long reads.',
    '    proxy_http_version 1.1;',
    '    proxy_buffering off;',
    '    proxy_read_timeout 1h;',
    '}',
    '',
  ].join('\n');
}

function headline(error: BridgeError): string {
  switch (error.kind) {
    case 'not-routed':
      return 'The Egress Advisor bridge is not routed on this Mattermost host';
    case 'bridge-down':
      return 'The route to the Egress Advisor bridge exists, but the bridge does not answer';
    default:
      return 'The Egress Advisor bridge cannot be reached';
  }
}

/** What the dashboard shows instead of findings when its requests do not reach the bridge. */
export function BridgeSetup({error, siteUrl, basePath, bridgePath, onRetry}: Props) {
  const prefix = routePrefix(basePath, bridgePath);
  const host = hostOf(siteUrl);
  const vs = virtualServiceSnippet(prefix, host);
  const nginx = nginxSnippet(prefix, host);
  return (
    <section
      className='ea-callout ea-callout--error'
      aria-labelledby='ea-setup-title'
    >
      <h3 id='ea-setup-title'>{headline(error)}</h3>
      <p>
        {error.message}
        {error.status > 0 ? '' : ' (no HTTP answer)'}
      </p>
      {error.kind === 'bridge-down' ? (
        <p>
          {'Check that the bridge\'s pods are running and ready, and that the route below points at the bridge\'s Service and port.'}
        </p>
      ) : (
        <p>
          {'Mattermost runs this plugin without an API of its own, so the browser reaches the bridge through the Mattermost host: route the path prefix '}
          <code className='ea-code'>{prefix}</code>
          {host === null ? ' of your Mattermost site' : <>{' on '}<code className='ea-code'>{host}</code></>}
          {' to the bridge. With the bridge\'s Helm chart the route is part of the release; otherwise add one of these.'}
        </p>
      )}
      <div className='ea-grid2'>
        <div>
          <h4>{'Istio (VirtualService)'}</h4>
          <pre
            className='ea-pre'
            aria-label='VirtualService route'
          >
            {vs}
          </pre>
          <CopyButton
            text={vs}
            label='Copy VirtualService route'
          />
        </div>
        <div>
          <h4>{'nginx'}</h4>
          <pre
            className='ea-pre'
            aria-label='nginx location'
          >
            {nginx}
          </pre>
          <CopyButton
            text={nginx}
            label='Copy nginx location'
          />
        </div>
      </div>
      <p className='ea-small ea-muted'>
        {'Replace the <bridge-…> placeholders with the bridge\'s Service and port. If the route uses another prefix, set it in Bridge path below. Requests went to '}
        <code className='ea-code'>{`${basePath}${bridgePath}/…`}</code>
        {'.'}
      </p>
      <button
        type='button'
        className='ea-btn'
        onClick={onRetry}
      >
        {'Try again'}
      </button>
    </section>
  );
}
