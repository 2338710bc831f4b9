// Mattermost's own connection tests on the page: the latest result and its history on an integration row
// and on a finding, and "Test now", which has Mattermost test the integration from its own pod.
import React from 'react';

import type {IntegrationItem} from '../../../../common/api';
import {formatUtc} from '../../../../common/time';
import {describeConnectionTest, type ConnectionTestReport, type ConnectionTestResponse, type ConnectionTestResult} from '../../../../common/connection-tests';
import type {BridgeClient} from '../../client';
import {useBridgeAction} from '../common/use_bridge_action';

const OUTCOME_BADGE: Record<ConnectionTestResult['outcome'], string> = {
  passed: 'ea-badge ea-badge--ok',
  failed: 'ea-badge ea-badge--error',
  'not-configured': 'ea-badge ea-badge--muted',
  'not-available': 'ea-badge ea-badge--muted',
};

const OUTCOME_LABEL: Record<ConnectionTestResult['outcome'], string> = {
  passed: 'Test passed',
  failed: 'Test failed',
  'not-configured': 'Not configured',
  'not-available': 'Not tested',
};

function who(r: ConnectionTestResult): string {
  if (r.requestedBy) return `asked by @${r.requestedBy.username}`;
  return r.trigger === 'after-fix' ? 'after a fix' : 'rehearsal before hardening';
}

/** The test that speaks for an integration row, if any. */
export function testFor(tests: readonly ConnectionTestReport[] | undefined, item: IntegrationItem): ConnectionTestReport | null {
  return tests?.find((t) => t.features.some((f) => f.id === item.feature.id && item.feature.configPath.startsWith(f.configPathPrefix))) ?? null;
}

export function TestResults({results, title}: {results: readonly ConnectionTestResult[]; title: string}) {
  if (results.length === 0) return null;
  const [latest, ...older] = results;
  return (
    <div className='ea-small'>
      <span className={OUTCOME_BADGE[latest.outcome]}>{OUTCOME_LABEL[latest.outcome]}</span> <span>{`${describeConnectionTest(latest)} (${who(latest)})`}</span>
      {older.length > 0 && (
        <details className='ea-details'>
          <summary>{`${title}: ${older.length} earlier`}</summary>
          <ul className='ea-list'>
            {older.map((r) => (
              <li key={r.id}>{`${formatUtc(r.startedAt) ?? r.startedAt} · ${OUTCOME_LABEL[r.outcome]} · ${describeConnectionTest(r)} (${who(r)})`}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

/** "Test now" with the latest results of one integration. */
export function IntegrationTest({client, test, onTested}: {client: BridgeClient; test: ConnectionTestReport; onTested: () => void}) {
  const action = useBridgeAction<ConnectionTestResponse>('the test', (a) => (a.ran ? describeConnectionTest(a.result) : `Not tested: ${a.reason}`), onTested);
  const {busy, note} = action;
  const run = () => action.run(() => client.testIntegration(test.kind));

  return (
    <div className='ea-small'>
      <TestResults results={test.history} title='Earlier tests' />
      {test.configured && (
        <button
          type='button'
          className='ea-btn ea-btn--secondary ea-btn--small'
          disabled={busy}
          aria-label={`Test ${test.label} now: Mattermost connects to it from its own pod`}
          title={
            test.onlyWhenAsked ? 'Sends a real test email to the bridge’s Mattermost user.' : 'Mattermost connects to it from its own pod, through its sidecar.'
          }
          onClick={run}
        >
          {busy ? 'Testing…' : 'Test now'}
        </button>
      )}
      <span role='status' aria-live='polite'>
        {note !== null && ` ${note}`}
      </span>
    </div>
  );
}
