import React from 'react';

import type {
  FindingSummary,
  HardeningStatus,
  MattermostInboundStatus,
  MattermostOutboundStatus,
  MeshReport,
  SourceReport,
  StatusReport,
} from '../../../../common/api';
import {RelativeTime} from '../common/relative_time';
import {HARDENING_LABEL, MESH_HARDENING, OUTBOUND_MODE_LABEL, plural, SOURCE_STATE_LABEL} from '../../utils/words';

interface Props {
  status: StatusReport | null;
  /** The open findings (for the features at risk); null while loading. */
  open: FindingSummary[] | null;
  now: number;
}

export interface FeatureAtRisk {
  name: string;
  configPath: string;
  destinations: number;
}

/** The features of the open findings, most affected first. */
export function featuresAtRisk(open: readonly FindingSummary[]): FeatureAtRisk[] {
  const byId = new Map<string, FeatureAtRisk>();
  for (const f of open) {
    for (const feature of f.features) {
      const entry = byId.get(feature.id) ?? {name: feature.name, configPath: feature.configPath, destinations: 0};
      entry.destinations++;
      byId.set(feature.id, entry);
    }
  }
  return [...byId.values()].sort((a, b) => b.destinations - a.destinations || a.name.localeCompare(b.name));
}

type Tone = 'ok' | 'warn' | 'error' | 'none';

function Card({label, children}: {label: string; children: React.ReactNode}) {
  return (
    <div className='ea-card'>
      <p className='ea-card__label'>{label}</p>
      {children}
    </div>
  );
}

function Dot({tone}: {tone: Tone}) {
  return <span className={`ea-dot${tone === 'none' ? '' : ` ea-dot--${tone}`}`} aria-hidden='true' />;
}

function sourceTone(s: SourceReport): Tone {
  if (s.state === 'error') return 'error';
  if (s.state === 'following') return 'ok';
  if (s.state === 'waiting' || s.state === 'starting') return 'warn';
  return 'none';
}

function Sources({sources, now}: {sources: SourceReport[]; now: number}) {
  if (sources.length === 0) {
    return <p className='ea-muted'>{'No log source is configured: the bridge reads nothing.'}</p>;
  }
  return (
    <ul className='ea-plain-list'>
      {sources.map((s) => (
        <li key={s.id}>
          <div>
            <Dot tone={sourceTone(s)} />
            <strong>{s.id}</strong>
            <span className='ea-muted'>{` (${s.kind}) · ${SOURCE_STATE_LABEL[s.state] ?? s.state}`}</span>
          </div>
          <div className='ea-small'>
            {'Last line: '}
            <RelativeTime iso={s.lastLineAt} now={now} empty='none yet' />
            {` · ${plural(s.lines, 'line')}`}
            {s.streams.length > 1 ? ` · ${plural(s.streams.length, 'stream')}` : ''}
          </div>
          {s.lastError !== null && (
            <div className='ea-small ea-error-text'>
              {s.lastError}
              {s.lastErrorAt !== null && (
                <>
                  {' ('}
                  <RelativeTime iso={s.lastErrorAt} now={now} />
                  {')'}
                </>
              )}
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

function Outbound({out, now}: {out: MattermostOutboundStatus; now: number}) {
  const tone: Tone = out.state === 'up' ? (out.problems.some((p) => p.severity === 'error') ? 'warn' : 'ok') : out.state === 'down' ? 'error' : 'none';
  const word = out.state === 'up' ? 'Reachable' : out.state === 'down' ? 'Not reachable' : 'Not checked yet';
  return (
    <div>
      <div>
        <Dot tone={tone} />
        <strong>{word}</strong>
        {out.identity !== null && <span className='ea-muted'>{` as @${out.identity.username}${out.identity.isBot ? ' (bot)' : ''}`}</span>}
      </div>
      {out.url !== null && <div className='ea-small ea-code'>{out.url}</div>}
      {out.checkedAt !== null && (
        <div className='ea-small ea-muted'>
          {'Checked '}
          <RelativeTime iso={out.checkedAt} now={now} />
        </div>
      )}
      {out.error !== null && <div className='ea-small ea-error-text'>{out.error}</div>}
      {out.problems.length > 0 && (
        <ul className='ea-list ea-small'>
          {out.problems.map((p) => (
            <li key={p.code} className={p.severity === 'error' ? 'ea-error-text' : undefined}>
              {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const INBOUND_WORD: Record<MattermostInboundStatus['state'], string> = {
  connected: 'Connected',
  waiting: 'Waiting for the plugin',
  'not-configured': 'Not configured',
};

function Inbound({inbound, now}: {inbound: MattermostInboundStatus; now: number}) {
  const tone: Tone = inbound.state === 'connected' ? 'ok' : 'warn';
  return (
    <div>
      <div>
        <Dot tone={tone} />
        <strong>{INBOUND_WORD[inbound.state]}</strong>
      </div>
      {inbound.bridgeUrl !== null && <div className='ea-small ea-code'>{inbound.bridgeUrl}</div>}
      <div className='ea-small'>{inbound.reason}</div>
      {inbound.lastCallAt !== null && (
        <div className='ea-small ea-muted'>
          {'Last call from the plugin: '}
          <RelativeTime iso={inbound.lastCallAt} now={now} />
        </div>
      )}
    </div>
  );
}

const MODE_NAME: Record<HardeningStatus['state'], string> = {
  'registry-only': 'REGISTRY_ONLY',
  'allow-any': 'ALLOW_ANY',
  unknown: 'not known',
};

/**
 * The mesh's own configuration, when it is read, decides the state: the log lines only show what traffic
 * met, and may come from before the last change. Both are shown, so a disagreement can be seen.
 */
function Hardening({hardening, mesh}: {hardening: HardeningStatus | undefined; mesh: MeshReport | null}) {
  if (hardening === undefined) {
    return (
      <div>
        <Dot tone='none' />
        <strong>{'…'}</strong>
      </div>
    );
  }
  const fromMesh = mesh !== null && mesh.outboundMode !== 'unknown' ? MESH_HARDENING[mesh.outboundMode] : null;
  const state = fromMesh ?? hardening.state;
  return (
    <>
      <div>
        <Dot tone={state === 'registry-only' ? 'ok' : state === 'allow-any' ? 'warn' : 'none'} />
        <strong>{HARDENING_LABEL[state]}</strong>
      </div>
      {mesh !== null && (
        <div className='ea-small ea-muted'>
          {fromMesh === null ? `Mesh: ${OUTBOUND_MODE_LABEL.unknown} (${mesh.modeSource})` : `Mesh configuration: ${mesh.modeSource}`}
        </div>
      )}
      <div className='ea-small ea-muted'>{fromMesh === null ? hardening.evidence : `Log lines: ${hardening.evidence}`}</div>
      {fromMesh !== null && hardening.state !== 'unknown' && hardening.state !== fromMesh && (
        <div className='ea-small'>{`The log lines point to ${MODE_NAME[hardening.state]}: they may come from before the mesh changed.`}</div>
      )}
      {state === 'allow-any' && (
        <div className='ea-small'>{'Unregistered traffic passes today; the findings and the configured integrations show what hardening would block.'}</div>
      )}
    </>
  );
}

export function AtAGlance({status, open, now}: Props) {
  const counts = status?.counts.openByVerdict;
  const blocked = counts?.blocked ?? 0;
  const wouldBlock = counts?.passthrough ?? 0;
  const failing = counts?.['external-failed'] ?? 0;
  const features = open === null ? null : featuresAtRisk(open);
  // Read defensively: a bridge older than this webapp sends none of these.
  const mesh = status?.mesh ?? null;
  const integrations = status?.integrations ?? {};
  const willBlock = integrations['will-be-blocked'] ?? 0;
  const integrationsSeen = Object.values(integrations).some((n) => (n ?? 0) > 0);
  const otherIntegrations = (
    [
      [integrations.blocked ?? 0, 'blocked now'],
      [integrations.unknown ?? 0, 'not known'],
      [integrations.allowed ?? 0, 'allowed'],
    ] as const
  )
    .filter(([n]) => n > 0)
    .map(([n, word]) => `${n.toLocaleString('en-US')} ${word}`)
    .join(' · ');

  return (
    <section className='ea-section' aria-labelledby='ea-glance-title'>
      <h3 id='ea-glance-title'>{'At a glance'}</h3>
      {status?.store !== undefined && (status.store.overflowDestinations > 0 || status.store.evictedFindings > 0) && (
        <p className='ea-small ea-error-text' role='status'>
          {`The store holds its maximum of ${status.store.maxFindings.toLocaleString('en-US')} findings: ${status.store.overflowDestinations.toLocaleString('en-US')} new IP-only destinations (${status.store.overflowLines.toLocaleString('en-US')} lines) were not kept and ${status.store.evictedFindings.toLocaleString('en-US')} unexplained IP-only findings were removed to make room. Host names and destinations a configured integration explains are always kept.`}
        </p>
      )}
      {(status?.mattermostRefusals ?? []).length > 0 && (
        <div className='ea-small' role='status' aria-label='Calls Mattermost refused itself'>
          <p className='ea-error-text'>
            {`Mattermost refused ${status!.mattermostRefusals!.length === 1 ? 'a call' : `calls to ${status!.mattermostRefusals!.length} addresses`} itself: this is not the mesh, and no ServiceEntry helps.`}
          </p>
          <ul>
            {status!.mattermostRefusals!.map((r) => (
              <li key={r.url ?? r.host ?? ''}>{`${r.advice}${r.count > 1 ? ` (${r.count.toLocaleString('en-US')} times)` : ''}`}</li>
            ))}
          </ul>
        </div>
      )}
      {status?.replica === 'follower' && (
        <p className='ea-small ea-muted'>
          {
            'This bridge replica is on standby: another one reads the logs and posts the alerts. What is shown comes from the store they share; this replica takes over if the other stops.'
          }
        </p>
      )}
      <div className='ea-cards'>
        <Card label='Blocked destinations'>
          <div className={`ea-card__value${blocked > 0 ? ' ea-error-text' : ''}`}>{status === null ? '…' : blocked.toLocaleString('en-US')}</div>
          {status !== null && (wouldBlock > 0 || failing > 0) && (
            <div className='ea-small ea-muted'>
              {[
                wouldBlock > 0 ? `${wouldBlock.toLocaleString('en-US')} blocked once hardened` : '',
                failing > 0 ? `${failing.toLocaleString('en-US')} registered but unreachable` : '',
              ]
                .filter(Boolean)
                .join(' · ')}
            </div>
          )}
          {status !== null && (
            <div className='ea-small ea-muted'>{`${status.counts.byStatus.ignored.toLocaleString('en-US')} ignored · ${status.counts.byStatus.resolved.toLocaleString('en-US')} resolved`}</div>
          )}
        </Card>
        <Card label='Integrations that will be blocked'>
          <div className='ea-card__value'>{status === null ? '…' : willBlock.toLocaleString('en-US')}</div>
          {status !== null && !integrationsSeen && <div className='ea-small ea-muted'>{'No configured integration read yet'}</div>}
          {status !== null && otherIntegrations !== '' && <div className='ea-small ea-muted'>{otherIntegrations}</div>}
        </Card>
        <Card label='Features at risk'>
          {features === null && <div className='ea-card__value'>{'…'}</div>}
          {features !== null && features.length === 0 && <div className='ea-muted'>{'None'}</div>}
          {features !== null && features.length > 0 && (
            <ul className='ea-list'>
              {features.slice(0, 6).map((f) => (
                <li key={f.name + f.configPath}>
                  {f.name}
                  <span className='ea-muted ea-small'>{` (${plural(f.destinations, 'destination')})`}</span>
                </li>
              ))}
              {features.length > 6 && <li className='ea-muted'>{`and ${features.length - 6} more`}</li>}
            </ul>
          )}
        </Card>
        <Card label='Egress hardening'>
          <Hardening hardening={status?.hardening} mesh={mesh} />
        </Card>
      </div>
      {status !== null && (
        <div className='ea-cards' style={{marginTop: 12}}>
          <Card label='Log sources'>
            <Sources sources={status.sources} now={now} />
          </Card>
          <Card label='Bridge → Mattermost'>
            <Outbound out={status.mattermost.outbound} now={now} />
          </Card>
          <Card label='Plugin → bridge (the page, /egress, alert buttons)'>
            <Inbound inbound={status.mattermost.inbound} now={now} />
          </Card>
        </div>
      )}
    </section>
  );
}
