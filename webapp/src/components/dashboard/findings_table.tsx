import React from 'react';

import {FINDING_STATUSES, type FindingStatus, type FindingSummary} from '../../../../common/api';
import {VERDICTS, type Verdict} from '../../../../common/types';
import type {SortColumn, SortState, TableView} from '../../reducer';
import {plural, STATUS_LABEL, VERDICT_HELP, VERDICT_LABEL} from '../../utils/words';
import {RelativeTime} from '../common/relative_time';

import {destinationLabel} from './sort';

/** The verdicts a finding can have (the others are never findings). */
const FINDING_VERDICTS: Verdict[] = VERDICTS.filter((v) => v === 'blocked' || v === 'passthrough' || v === 'external-failed');

interface FiltersProps {
  text: string;
  view: TableView;
  onText: (text: string) => void;
  onView: (view: Partial<TableView>) => void;
}

export function Filters({text, view, onText, onView}: FiltersProps) {
  const filtered = text !== '' || view.status !== 'open' || view.verdict !== '';
  return (
    <div className='ea-row' role='search' aria-label='Filter findings' style={{marginBottom: 8}}>
      <label className='ea-field'>
        {'Search'}
        <input
          className='ea-input'
          type='search'
          value={text}
          placeholder='Host, address, feature, pod…'
          maxLength={200}
          onChange={(e) => onText(e.target.value)}
        />
      </label>
      <label className='ea-field'>
        {'Status'}
        <select className='ea-input' value={view.status} onChange={(e) => onView({status: e.target.value as FindingStatus | ''})}>
          {FINDING_STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABEL[s]}
            </option>
          ))}
          <option value=''>{'All'}</option>
        </select>
      </label>
      <label className='ea-field'>
        {'Verdict'}
        <select className='ea-input' value={view.verdict} onChange={(e) => onView({verdict: e.target.value as Verdict | ''})}>
          <option value=''>{'All'}</option>
          {FINDING_VERDICTS.map((v) => (
            <option key={v} value={v}>
              {VERDICT_LABEL[v]}
            </option>
          ))}
        </select>
      </label>
      {filtered && (
        <button
          type='button'
          className='ea-btn ea-btn--secondary'
          style={{alignSelf: 'flex-end'}}
          onClick={() => {
            onText('');
            onView({status: 'open', verdict: ''});
          }}
        >
          {'Clear filters'}
        </button>
      )}
    </div>
  );
}

const COLUMNS: Array<{id: SortColumn; label: string; numeric?: boolean}> = [
  {id: 'destination', label: 'Destination'},
  {id: 'port', label: 'Port'},
  {id: 'verdict', label: 'Verdict'},
  {id: 'feature', label: 'Feature'},
  {id: 'count', label: 'Attempts', numeric: true},
  {id: 'firstSeen', label: 'First seen'},
  {id: 'lastSeen', label: 'Last seen'},
  {id: 'pods', label: 'Pods'},
  {id: 'status', label: 'Status'},
];

interface TableProps {
  items: FindingSummary[];
  sort: SortState;
  onSort: (column: SortColumn) => void;
  selected: ReadonlySet<string>;
  onSelect: (key: string, on: boolean) => void;
  onSelectAll: (on: boolean) => void;
  current: string | null;
  onOpen: (key: string, opener: HTMLElement) => void;
  now: number;
}

export function verdictBadgeClass(v: Verdict): string {
  if (v === 'blocked') return 'ea-badge ea-badge--blocked';
  if (v === 'passthrough' || v === 'external-failed') return 'ea-badge ea-badge--passthrough';
  return 'ea-badge';
}

function DestinationCell({f, onOpen}: {f: FindingSummary; onOpen: TableProps['onOpen']}) {
  const label = destinationLabel(f);
  const unnamed = f.destination.host === null;
  const candidates = unnamed ? f.attribution.candidates : [];
  return (
    <>
      <button
        type='button'
        className='ea-link ea-code'
        data-key={f.key}
        onClick={(e) => onOpen(f.key, e.currentTarget)}
        aria-label={`Details of ${label}:${f.destination.port}`}
      >
        {label}
      </button>
      {unnamed && <div className='ea-small ea-muted'>{candidates.length > 0 ? `maybe ${candidates.slice(0, 3).join(', ')}` : 'host not named yet'}</div>}
      {!unnamed && f.destination.ip !== null && <div className='ea-small ea-muted ea-code'>{f.destination.ip}</div>}
      {f.rejectedHost !== null && (
        <div>
          <span className='ea-badge ea-badge--error' title={f.rejectedHost.reason}>
            {'unusable name'}
          </span>
        </div>
      )}
    </>
  );
}

function StatusCell({f, now}: {f: FindingSummary; now: number}) {
  if (f.status === 'ignored' && f.ignored !== null) {
    return (
      <span title={`Ignored by @${f.ignored.by.username}: ${f.ignored.reason}`}>
        {STATUS_LABEL.ignored}
        <div className='ea-small ea-muted'>
          {`by @${f.ignored.by.username}, `}
          <RelativeTime iso={f.ignored.at} now={now} />
        </div>
      </span>
    );
  }
  if (f.status === 'resolved') {
    return (
      <span>
        {STATUS_LABEL.resolved}
        {f.resolvedAt !== null && (
          <div className='ea-small ea-muted'>
            <RelativeTime iso={f.resolvedAt} now={now} />
          </div>
        )}
      </span>
    );
  }
  return <span>{STATUS_LABEL[f.status]}</span>;
}

/**
 * Rows drawn per step. A table of thousands is drawn in steps, so the first screen appears at once and the
 * page stays responsive while the rest follows; nothing is left out.
 */
export const ROWS_PER_STEP = 150;

function useProgressiveCount(total: number): number {
  const [shown, setShown] = React.useState(Math.min(total, ROWS_PER_STEP));
  React.useEffect(() => {
    if (shown >= total) return undefined;
    const t = setTimeout(() => setShown((n) => Math.min(total, n + ROWS_PER_STEP)), 0);
    return () => clearTimeout(t);
  }, [shown, total]);
  return Math.min(shown, total);
}

/** The row blocks of the first `shown` rows: [from, to) in steps of ROWS_PER_STEP. */
function blocks(shown: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let from = 0; from < shown; from += ROWS_PER_STEP) out.push([from, Math.min(shown, from + ROWS_PER_STEP)]);
  return out;
}

interface RowBlockProps {
  items: FindingSummary[];
  from: number;
  to: number;
  selected: ReadonlySet<string>;
  onSelect: TableProps['onSelect'];
  current: string | null;
  onOpen: TableProps['onOpen'];
  now: number;
}

/**
 * One step of rows in its own tbody, memoised: drawing the next step leaves the earlier ones alone, so a
 * long list costs its rows once instead of once per step.
 */
const RowBlock = React.memo(function RowBlock({items, from, to, selected, onSelect, current, onOpen, now}: RowBlockProps) {
  return (
    <tbody>
      {items.slice(from, to).map((f) => (
        <tr key={f.key} className={current === f.key ? 'ea-row--current' : undefined}>
          <td>
            <input
              type='checkbox'
              aria-label={`Select ${destinationLabel(f)}:${f.destination.port}`}
              checked={selected.has(f.key)}
              onChange={(e) => onSelect(f.key, e.target.checked)}
            />
          </td>
          <td>
            <DestinationCell f={f} onOpen={onOpen} />
          </td>
          <td className='ea-code'>{`${f.destination.port}/${f.protocol}`}</td>
          <td>
            <span className={verdictBadgeClass(f.verdict)} title={VERDICT_HELP[f.verdict]}>
              {VERDICT_LABEL[f.verdict]}
            </span>
          </td>
          <td>{f.features.length === 0 ? <span className='ea-muted'>{'Not known'}</span> : f.features.map((x) => x.name).join(', ')}</td>
          <td className='ea-num'>{f.count.toLocaleString('en-US')}</td>
          <td>
            <RelativeTime iso={f.firstSeen} now={now} />
          </td>
          <td>
            <RelativeTime iso={f.lastSeen} now={now} />
          </td>
          <td title={f.pods.join('\n')}>
            {f.pods.length === 0 ? (
              <span className='ea-muted'>{'—'}</span>
            ) : (
              <>
                <span className='ea-code'>{f.pods[0]}</span>
                {f.pods.length > 1 && <span className='ea-muted'>{` +${f.pods.length - 1}`}</span>}
              </>
            )}
          </td>
          <td>
            <StatusCell f={f} now={now} />
          </td>
        </tr>
      ))}
    </tbody>
  );
});

export function FindingsTable({items, sort, onSort, selected, onSelect, onSelectAll, current, onOpen, now}: TableProps) {
  const shown = useProgressiveCount(items.length);
  const allSelected = items.length > 0 && items.every((f) => selected.has(f.key));
  const someSelected = !allSelected && items.some((f) => selected.has(f.key));
  const sortedBy = COLUMNS.find((c) => c.id === sort.column);
  return (
    <div className='ea-table-wrap' tabIndex={0} role='region' aria-label='Findings table, scrolls sideways'>
      <table className='ea-table ea-table--findings'>
        <caption className='ea-sr-only'>
          {`Findings: ${plural(items.length, 'destination')}, ${sortedBy ? `sorted by ${sortedBy.label.toLowerCase()}, ${sort.direction}` : 'most urgent first'}`}
        </caption>
        <thead>
          <tr>
            <th scope='col'>
              <input
                type='checkbox'
                aria-label='Select every destination shown'
                checked={allSelected}
                ref={(el) => {
                  if (el) el.indeterminate = someSelected;
                }}
                onChange={(e) => onSelectAll(e.target.checked)}
                disabled={items.length === 0}
              />
            </th>
            {COLUMNS.map((c) => {
              const active = sort.column === c.id;
              return (
                <th key={c.id} scope='col' className={c.numeric ? 'ea-num' : undefined} aria-sort={active ? sort.direction : 'none'}>
                  <button type='button' className='ea-sort' onClick={() => onSort(c.id)}>
                    {c.label}
                    <span className='ea-sort__mark' aria-hidden='true'>
                      {active ? (sort.direction === 'ascending' ? '▲' : '▼') : '↕'}
                    </span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        {blocks(shown).map(([from, to]) => (
          <RowBlock key={from} items={items} from={from} to={to} selected={selected} onSelect={onSelect} current={current} onOpen={onOpen} now={now} />
        ))}
      </table>
    </div>
  );
}
