// The rehearsal of REGISTRY_ONLY on the page: before hardening (the mesh still lets any destination out),
// Mattermost runs its connection tests and the bridge lists, per integration, what REGISTRY_ONLY would break
// and the ServiceEntry to add. The latest rehearsal is always shown, or that none has run yet.
import React from 'react';

import type {RehearsalEntry, RehearsalReport, RehearsalResponse, RehearsalVerdict} from '../../../../common/connection-tests';
import {formatUtc} from '../../../../common/time';
import type {BridgeClient} from '../../client';
import {useBridgeAction} from '../common/use_bridge_action';

import {YamlOutput} from './yaml_output';

const VERDICT_BADGE: Record<RehearsalVerdict, string> = {
  'will-break': 'ea-badge ea-badge--error',
  'already-failing': 'ea-badge ea-badge--warn',
  unconfirmed: 'ea-badge ea-badge--warn',
  'not-tested': 'ea-badge ea-badge--muted',
  'keeps-working': 'ea-badge ea-badge--ok',
  'not-configured': 'ea-badge ea-badge--muted',
};

const VERDICT_LABEL: Record<RehearsalVerdict, string> = {
  'will-break': 'Breaks under REGISTRY_ONLY',
  'already-failing': 'Fails already',
  unconfirmed: 'Passed, no log line read',
  'not-tested': 'Not tested',
  'keeps-working': 'Keeps working',
  'not-configured': 'Not configured',
};

function Entry({entry}: {entry: RehearsalEntry}) {
  const named = entry.lines.filter((l) => l.named);
  return (
    <li>
      <strong>{entry.label}</strong> <span className={VERDICT_BADGE[entry.verdict]}>{VERDICT_LABEL[entry.verdict]}</span>
      <div className='ea-small'>{entry.detail}</div>
      {named.length > 0 && <div className='ea-small'>{`PassthroughCluster: ${named.map((l) => l.destination).join(', ')}`}</div>}
      {entry.yaml !== '' && <YamlOutput yaml={entry.yaml} label={`ServiceEntry for ${entry.label}`} filename={`egress-advisor-rehearsal-${entry.kind}.yaml`} />}
    </li>
  );
}

export function Rehearsal({client, report, onDone}: {client: BridgeClient; report: RehearsalReport; onDone: () => void}) {
  const action = useBridgeAction<RehearsalResponse>('the rehearsal', (a) => (a.ran ? a.report.summary : `Not rehearsed: ${a.reason}`), onDone);
  const {busy, note} = action;
  const run = () => action.run(() => client.rehearse());

  const hardened = report.mode === 'REGISTRY_ONLY';
  return (
    <section className='ea-section' aria-labelledby='ea-rehearsal-title'>
      <h4 id='ea-rehearsal-title'>{'Rehearsal of REGISTRY_ONLY'}</h4>
      {report.state === 'not-run' ? (
        <p className='ea-small'>{hardened ? 'No rehearsal has run: the mesh already enforces REGISTRY_ONLY.' : report.summary}</p>
      ) : (
        <>
          <p className='ea-small'>
            {`${formatUtc(report.startedAt) ?? 'At an unknown time'}, ${report.requestedBy ? `asked by @${report.requestedBy.username}` : 'run by the bridge'}, outbound mode ${report.mode}: `}
            <strong>{report.summary}</strong>
          </p>
          <ul className='ea-list'>
            {report.entries.map((e) => (
              <Entry key={e.kind} entry={e} />
            ))}
          </ul>
        </>
      )}
      {!hardened && (
        <button
          type='button'
          className='ea-btn ea-btn--secondary'
          disabled={busy}
          title='Mattermost runs its connection tests (never the email test) from its own pod; their PassthroughCluster lines show what REGISTRY_ONLY would block.'
          onClick={run}
        >
          {busy ? 'Rehearsing…' : 'Rehearse REGISTRY_ONLY'}
        </button>
      )}
      <span role='status' aria-live='polite' className='ea-small'>
        {note !== null && ` ${note}`}
      </span>
    </section>
  );
}
