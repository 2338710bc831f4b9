// What Mattermost is configured to call, held against what the mesh lets out. The findings only show what
// has already failed; this shows what will fail (the first call after hardening, a feature switched on
// later) while there is still time to add the ServiceEntry.
import React, {useEffect, useState} from 'react';

import {INTEGRATION_STATES, type IntegrationItem, type IntegrationsResponse, type IntegrationState, type MeshReport} from '../../../../common/api';
import {asBridgeError, type BridgeClient, type BridgeError} from '../../client';
import {INTEGRATION_STATE_HELP, INTEGRATION_STATE_LABEL, OUTBOUND_MODE_LABEL, plural, VERDICT_LABEL} from '../../utils/words';
import {ErrorCallout} from '../common/error_callout';

import {IntegrationTest, testFor} from './connection_tests';
import {Rehearsal} from './rehearsal';

interface Props {
  client: BridgeClient;
  /** Changes when the findings changed on the bridge: an integration's state follows its findings. */
  refreshToken: number;
  /** Opens a finding in the detail view the findings table uses. */
  onOpenFinding: (key: string, opener: HTMLElement) => void;
}

const STATE_BADGE: Record<IntegrationState, string> = {
  blocked: 'ea-badge ea-badge--error',
  'will-be-blocked': 'ea-badge ea-badge--warn',
  unknown: 'ea-badge ea-badge--muted',
  allowed: 'ea-badge ea-badge--ok',
  'in-cluster': 'ea-badge',
};

/** The states a ServiceEntry is suggested for. */
function atRisk(item: IntegrationItem): boolean {
  return item.state === 'blocked' || item.state === 'will-be-blocked';
}

function hostPort(host: string, port: number | null): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === null ? h : `${h}:${port}`;
}

function MeshLine({mesh, valuesFile}: {mesh: MeshReport | null; valuesFile: boolean}) {
  if (mesh === null) {
    return (
      <p className='ea-small'>
        <strong>{'Mesh: '}</strong>
        {valuesFile
          ? 'no Kubernetes source: only the values file decides what counts as allowed.'
          : 'no Kubernetes source: only the values file decides, and none was given, so nothing says what is allowed.'}
      </p>
    );
  }
  const tone = mesh.outboundMode === 'REGISTRY_ONLY' ? ' ea-dot--ok' : mesh.outboundMode === 'ALLOW_ANY' ? ' ea-dot--warn' : '';
  return (
    <div className='ea-small' style={{marginBottom: 8}}>
      <div>
        <strong>{'Mesh: '}</strong>
        <span className={`ea-dot${tone}`} aria-hidden='true' />
        <strong>{OUTBOUND_MODE_LABEL[mesh.outboundMode]}</strong>
        <span className='ea-muted'>
          {` (from ${mesh.modeSource}) · namespace ${mesh.namespace} · ServiceEntries allow ${plural(mesh.allowedHosts, 'host and port', 'hosts and ports')}`}
        </span>
      </div>
      {!mesh.ready && <div>{'Still reading the mesh: states may change once every ServiceEntry and Sidecar has been read.'}</div>}
      {mesh.notes.length > 0 && (
        <details className='ea-details'>
          <summary>{`${plural(mesh.notes.length, 'note')} on this picture`}</summary>
          <ul className='ea-list'>
            {mesh.notes.map((n, i) => (
              <li key={`${i}-${n}`}>{n}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function Findings({item, onOpenFinding}: {item: IntegrationItem; onOpenFinding: Props['onOpenFinding']}) {
  if (item.findings.length === 0) return null;
  return (
    <div className='ea-small'>
      {'Seen in the traffic: '}
      {item.findings.map((f, i) => (
        <React.Fragment key={f.key}>
          {i > 0 && ', '}
          <button type='button' className='ea-link ea-code' aria-label={`Open the finding ${f.key}`} onClick={(e) => onOpenFinding(f.key, e.currentTarget)}>
            {f.key}
          </button>
          <span className='ea-muted'>{` (${VERDICT_LABEL[f.verdict]})`}</span>
        </React.Fragment>
      ))}
    </div>
  );
}

interface TableProps {
  items: IntegrationItem[];
  tests: IntegrationsResponse['tests'];
  client: BridgeClient;
  onTested: () => void;
  onOpenFinding: Props['onOpenFinding'];
}

function IntegrationsTable({items, tests, client, onTested, onOpenFinding}: TableProps) {
  return (
    <div className='ea-table-wrap' tabIndex={0} role='region' aria-label='Configured integrations table, scrolls sideways'>
      <table className='ea-table ea-table--compact'>
        <caption className='ea-sr-only'>{`Configured integrations: ${plural(items.length, 'integration')}, most urgent first`}</caption>
        <thead>
          <tr>
            <th scope='col'>{'Feature'}</th>
            <th scope='col'>{'Destination'}</th>
            <th scope='col'>{'State'}</th>
            <th scope='col'>{'Why, and what to do'}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={`${item.feature.id}\n${item.feature.configPath}\n${item.host}\n${item.port ?? ''}`} className={item.enabled ? undefined : 'ea-row--off'}>
              <td>
                {item.feature.name}
                {!item.enabled && <span className='ea-small'>{' (switched off)'}</span>}
                <div className='ea-small ea-muted ea-code'>{item.feature.configPath}</div>
              </td>
              <td>
                <span className='ea-code'>{hostPort(item.host, item.port)}</span>
                {item.port === null && <div className='ea-small ea-muted'>{'no port'}</div>}
              </td>
              <td>
                <span className={STATE_BADGE[item.state]} title={INTEGRATION_STATE_HELP[item.state]}>
                  {INTEGRATION_STATE_LABEL[item.state]}
                </span>
              </td>
              <td>
                {item.detail}
                {item.allowedBy !== null && (
                  <div className='ea-small ea-muted'>
                    {'Allowed by '}
                    <code className='ea-code'>{item.allowedBy}</code>
                  </div>
                )}
                <Findings item={item} onOpenFinding={onOpenFinding} />
                {(() => {
                  const test = testFor(tests, item);
                  return test !== null && <IntegrationTest client={client} test={test} onTested={onTested} />;
                })()}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function byState(items: IntegrationItem[]): string {
  return INTEGRATION_STATES.map((s) => [s, items.filter((i) => i.state === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n.toLocaleString('en-US')} ${INTEGRATION_STATE_LABEL[s].toLowerCase()}`)
    .join(' · ');
}

export function Integrations({client, refreshToken, onOpenFinding}: Props) {
  // The last answer is kept while a refresh is read, so the table does not flicker.
  const [result, setResult] = useState<IntegrationsResponse | null>(null);
  const [error, setError] = useState<BridgeError | null>(null);
  const [retry, setRetry] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    client.integrations(abort.signal).then(
      (answer) => {
        if (abort.signal.aborted) return;
        setResult(answer);
        setError(null);
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setError(asBridgeError(err));
      },
    );
    return () => abort.abort();
  }, [client, refreshToken, retry]);

  // A bridge from before this list answers with its own 404: nothing is wrong, there is just nothing to show.
  const unsupported = error !== null && error.kind === 'api' && error.code === 'not_found';
  const items = result?.items ?? [];
  const clear = items.length > 0 && items.every((i) => i.state === 'allowed' || i.state === 'in-cluster');
  // One without a port cannot have an entry: its row says why.
  const atRiskCount = items.filter((i) => i.enabled && atRisk(i) && i.port !== null).length;

  return (
    <section className='ea-section' aria-labelledby='ea-integrations-title'>
      <div className='ea-spread'>
        <h3 id='ea-integrations-title'>{'Configured integrations'}</h3>
        {items.length > 0 && <span className='ea-small ea-muted'>{byState(items)}</span>}
      </div>
      <p className='ea-small ea-muted'>{'What Mattermost is configured to call, held against what the mesh lets out: what will fail, before any call has.'}</p>
      {unsupported && <p className='ea-muted'>{'This bridge does not list the configured integrations; a newer version does.'}</p>}
      {error !== null && !unsupported && error.unreachable && result !== null && (
        <p className='ea-small ea-error-text'>{`Could not read the integrations again: ${error.message}`}</p>
      )}
      {error !== null && !unsupported && (!error.unreachable || result === null) && <ErrorCallout error={error} onRetry={() => setRetry((n) => n + 1)} />}
      {result === null && error === null && <p role='status'>{'Reading the integrations…'}</p>}
      {result !== null && (
        <>
          <MeshLine mesh={result.mesh} valuesFile={result.valuesFile} />
          {items.length === 0 && (
            <div className='ea-callout'>
              <strong>{'No integrations to show. '}</strong>
              {
                'The bridge has not read the Mattermost configuration yet, or nothing in it calls out of the cluster (file storage, email, push notifications, SSO, webhooks…).'
              }
            </div>
          )}
          {clear && (
            <div className='ea-callout'>
              <strong>{'Nothing configured will be blocked. '}</strong>
              {'Every integration is allowed or stays in the cluster.'}
            </div>
          )}
          {items.length > 0 && (
            <IntegrationsTable items={items} tests={result.tests} client={client} onTested={() => setRetry((n) => n + 1)} onOpenFinding={onOpenFinding} />
          )}
          {result.rehearsal !== undefined && <Rehearsal client={client} report={result.rehearsal} onDone={() => setRetry((n) => n + 1)} />}
          {atRiskCount > 0 && (
            <p className='ea-small'>
              {`The ServiceEntries for the ${plural(atRiskCount, 'switched-on integration')} that ${atRiskCount === 1 ? 'is' : 'are'} or will be blocked head the suggested YAML below; switched-off ones are left out until they are switched on.`}
            </p>
          )}
        </>
      )}
    </section>
  );
}
