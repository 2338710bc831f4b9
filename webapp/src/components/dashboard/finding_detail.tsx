import React, {useEffect, useRef, useState} from 'react';

import {MAX_REASON_CHARS, type ApiDecision, type FindingDetail as Detail, type FindingSummary} from '../../../../common/api';
import type {BridgeClient} from '../../client';
import {CONFIDENCE_LABEL, METHOD_LABEL, STATUS_LABEL, VERDICT_HELP, VERDICT_LABEL, plural} from '../../utils/words';
import {RelativeTime} from '../common/relative_time';

import {TestResults} from './connection_tests';
import {verdictBadgeClass} from './findings_table';
import {destinationLabel} from './sort';
import {PlanText} from '../common/plan_text';
import {useMounted} from '../common/use_mounted';

interface Props {
  client: BridgeClient;
  findingKey: string;
  /** Changes when the findings changed on the bridge: the detail is read again. */
  refreshToken: number;
  now: number;
  onClose: () => void;
  /** After an ignore or un-ignore, with the finding as the bridge now has it. */
  onChanged: (summary: FindingSummary, what: string) => void;
  onShowYaml: (key: string) => void;
}

const DECISION_WORD: Record<ApiDecision['action'], string> = {
  ignore: 'Ignored',
  unignore: 'Un-ignored',
  resolve: 'Resolved',
  reopen: 'Reopened',
};

function Decisions({decisions, now}: {decisions: ApiDecision[]; now: number}) {
  if (decisions.length === 0) return null;
  return (
    <>
      <h4>{'History of decisions'}</h4>
      <ul className='ea-list ea-small'>
        {decisions.map((d, i) => (
          <li key={`${d.at}-${i}`}>
            {`${DECISION_WORD[d.action]} ${d.by ? `by @${d.by.username}` : 'by the bridge'} `}
            <RelativeTime iso={d.at} now={now} />
            {d.reason !== '' && `: ${d.reason}`}
          </li>
        ))}
      </ul>
    </>
  );
}

function IgnoreForm({detail, client, now, onChanged}: {detail: Detail; client: BridgeClient; now: number; onChanged: Props['onChanged']}) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ignored = detail.status === 'ignored';
  const label = `${destinationLabel(detail)}:${detail.destination.port}`;
  const mounted = useMounted();

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const text = reason.trim();
    setBusy(true);
    setError(null);
    try {
      const summary = ignored ? await client.unignore(detail.key, text || undefined) : await client.ignore(detail.key, text);
      if (!mounted.current) return;
      setReason('');
      onChanged(summary, `${ignored ? 'Un-ignored' : 'Ignored'} ${label}`);
    } catch (err) {
      if (mounted.current) setError(err instanceof Error ? err.message : String(err));
    } finally {
      if (mounted.current) setBusy(false);
    }
  };

  const id = 'ea-ignore-reason';
  return (
    <form onSubmit={submit} noValidate={true} aria-label={ignored ? 'Un-ignore this destination' : 'Ignore this destination'}>
      <h4>{ignored ? 'Ignored' : 'Ignore'}</h4>
      {ignored && detail.ignored !== null && (
        <p className='ea-small'>
          {`Ignored by @${detail.ignored.by.username} `}
          <RelativeTime iso={detail.ignored.at} now={now} />
          {`: ${detail.ignored.reason}`}
        </p>
      )}
      {!ignored && <p className='ea-small ea-muted'>{'An ignored destination leaves the open findings and the alerts, and comes back if you un-ignore it.'}</p>}
      <label className='ea-field' htmlFor={id} style={{display: 'flex'}}>
        {ignored ? 'Reason to un-ignore (optional)' : 'Reason (optional; the other administrators will read it)'}
      </label>
      <textarea
        id={id}
        className='ea-input'
        value={reason}
        maxLength={MAX_REASON_CHARS}
        aria-invalid={error !== null}
        aria-describedby={error !== null ? 'ea-ignore-error' : undefined}
        onChange={(e) => setReason(e.target.value)}
      />
      {error !== null && (
        <p id='ea-ignore-error' className='ea-small ea-error-text' role='alert'>
          {error}
        </p>
      )}
      <div className='ea-row' style={{marginTop: 6}}>
        <button type='submit' className={ignored ? 'ea-btn' : 'ea-btn ea-btn--danger'} disabled={busy}>
          {busy ? 'Saving…' : ignored ? 'Un-ignore' : 'Ignore'}
        </button>
      </div>
    </form>
  );
}

export function FindingDetailView({client, findingKey, refreshToken, now, onClose, onChanged, onShowYaml}: Props) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    const abort = new AbortController();
    client.finding(findingKey, abort.signal).then(
      (d) => {
        setDetail(d);
        setError(null);
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => abort.abort();
  }, [client, findingKey, refreshToken]);

  // A newly opened finding takes the focus, so that keyboard and screen-reader users land on it.
  useEffect(() => {
    heading.current?.focus();
  }, [findingKey]);

  const shown = detail !== null && detail.key === findingKey ? detail : null;
  const title = shown ? `${destinationLabel(shown)}:${shown.destination.port}/${shown.protocol}` : findingKey;

  return (
    <section className='ea-panel' aria-labelledby='ea-detail-title'>
      <div className='ea-spread'>
        <h3 id='ea-detail-title' tabIndex={-1} ref={heading} className='ea-code'>
          {title}
        </h3>
        <button type='button' className='ea-btn ea-btn--secondary' onClick={onClose}>
          {'Close details'}
        </button>
      </div>
      {error !== null && (
        <p className='ea-error-text' role='alert'>
          {error}
        </p>
      )}
      {shown === null && error === null && <p role='status'>{'Loading the details…'}</p>}
      {shown !== null && (
        <>
          <div className='ea-row' style={{marginBottom: 12}}>
            <span className={verdictBadgeClass(shown.verdict)} title={VERDICT_HELP[shown.verdict]}>
              {VERDICT_LABEL[shown.verdict]}
            </span>
            <span className='ea-badge'>{STATUS_LABEL[shown.status]}</span>
            <span className='ea-small'>
              {`${plural(shown.count, 'attempt')}, first `}
              <RelativeTime iso={shown.firstSeen} now={now} />
              {', last '}
              <RelativeTime iso={shown.lastSeen} now={now} />
            </span>
          </div>
          <div className='ea-grid2'>
            <div>
              <h4>{'What to do'}</h4>
              {shown.plan !== null ? <PlanText plan={shown.plan} /> : <p className='ea-muted'>{'No plan could be made for this destination.'}</p>}
              <button type='button' className='ea-btn' onClick={() => onShowYaml(shown.key)}>
                {'Suggested YAML for this destination'}
              </button>
              <h4 style={{marginTop: 16}}>{'How the host was named'}</h4>
              <dl className='ea-dl'>
                <dt>{'Host'}</dt>
                <dd className='ea-code'>{shown.attribution.host ?? 'not named'}</dd>
                {shown.destination.ip !== null && (
                  <>
                    <dt>{'Address'}</dt>
                    <dd className='ea-code'>{shown.destination.ip}</dd>
                  </>
                )}
                <dt>{'From'}</dt>
                <dd>{METHOD_LABEL[shown.attribution.method]}</dd>
                <dt>{'Confidence'}</dt>
                <dd>{CONFIDENCE_LABEL[shown.attribution.confidence]}</dd>
                {shown.attribution.candidates.length > 1 && (
                  <>
                    <dt>{'Candidates'}</dt>
                    <dd className='ea-code'>{shown.attribution.candidates.join(', ')}</dd>
                  </>
                )}
              </dl>
              <p className='ea-small'>{shown.attribution.note}</p>
              {shown.rejectedHost !== null && (
                <p className='ea-small ea-error-text'>
                  {'The name seen in the traffic cannot go into a ServiceEntry: '}
                  <code className='ea-code'>{shown.rejectedHost.printable}</code>
                  {` (${shown.rejectedHost.reason})`}
                </p>
              )}
              <h4 style={{marginTop: 16}}>{'Features that use it'}</h4>
              {shown.features.length === 0 ? (
                <p className='ea-muted'>{'No Mattermost setting names this destination.'}</p>
              ) : (
                <ul className='ea-list'>
                  {shown.features.map((f) => (
                    <li key={f.id}>
                      {f.name} <code className='ea-code ea-muted'>{f.configPath}</code>
                    </li>
                  ))}
                </ul>
              )}
            </div>
            <div>
              <h4>{`Sample lines (${shown.samples.length})`}</h4>
              {shown.samples.length === 0 ? (
                <p className='ea-muted'>{'None kept.'}</p>
              ) : (
                <pre className='ea-pre' tabIndex={0} aria-label='Sample access-log lines'>
                  {shown.samples.join('\n')}
                </pre>
              )}
              <h4 style={{marginTop: 16}}>{'Pods'}</h4>
              {shown.pods.length === 0 ? <p className='ea-muted'>{'Not in the log lines.'}</p> : <p className='ea-code'>{shown.pods.join(', ')}</p>}
              <IgnoreForm
                key={`${shown.key}-${shown.status}`}
                detail={shown}
                client={client}
                now={now}
                onChanged={(summary, what) => {
                  setDetail((d) => (d !== null && d.key === summary.key ? {...d, ...summary} : d));
                  onChanged(summary, what);
                }}
              />
              <Decisions decisions={shown.decisions} now={now} />
              {shown.tests !== undefined && shown.tests.length > 0 && (
                <>
                  <h4>{"Mattermost's connection tests"}</h4>
                  <TestResults results={shown.tests} title='Earlier tests' />
                </>
              )}
            </div>
          </div>
        </>
      )}
    </section>
  );
}
