import React, {useCallback, useEffect, useMemo, useRef, useState} from 'react';
import {useDispatch, useSelector} from 'react-redux';

import type {FindingsPage, FindingsQuery, FindingSummary, StatusReport} from '../../../../common/api';
import type {SuggestionFormat} from '../../../../common/types';
import {asBridgeError, type BridgeClient, type BridgeError} from '../../client';
import {setFormat, setTableView, type SortColumn, type TableView} from '../../reducer';
import {getPluginState} from '../../selectors';
import {plural} from '../../utils/words';
import {ErrorCallout} from '../common/error_callout';

import {AtAGlance} from './at_a_glance';
import {BridgeSetup} from './bridge_setup';
import {FindingDetailView} from './finding_detail';
import {Filters, FindingsTable} from './findings_table';
import {Integrations} from './integrations';
import {useLiveRevision, type LiveMode} from './live';
import {nextSort, sortFindings} from './sort';
import {Suggestions} from './suggestions';

export interface DashboardProps {
  client: BridgeClient;
  /** The plugin's SuggestionFormat setting, until the administrator picks another. */
  defaultFormat: SuggestionFormat;
}

/** The most findings one page shows; the bridge orders them most urgent first. */
export const PAGE_LIMIT = 500;
/** Live updates refetch at most this often, however fast the findings change. */
export const MIN_REFRESH_MS = 2_000;
const CLOCK_MS = 30_000;
const FIRST_LOAD_RETRY_MS = 30_000;
const SEARCH_DEBOUNCE_MS = 300;

function isDefaultQuery(view: TableView, q: string): boolean {
  return view.status === 'open' && view.verdict === '' && q === '';
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return debounced;
}

const LIVE_WORD: Record<LiveMode, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Checking every 15 seconds',
  stopped: 'Not updating',
};

function replaceIn(page: FindingsPage | null, summary: FindingSummary): FindingsPage | null {
  if (page === null || !page.items.some((f) => f.key === summary.key)) return page;
  return {...page, items: page.items.map((f) => (f.key === summary.key ? summary : f))};
}

export function Dashboard({client, defaultFormat}: DashboardProps) {
  const dispatch = useDispatch();
  const {table: view, format: chosenFormat} = useSelector(getPluginState);
  const format = chosenFormat ?? defaultFormat;

  const [text, setText] = useState('');
  const q = useDebounced(text.trim(), SEARCH_DEBOUNCE_MS);
  const tableQuery = useMemo<FindingsQuery>(
    () => ({status: view.status || undefined, verdict: view.verdict || undefined, q: q || undefined, limit: PAGE_LIMIT}),
    [view.status, view.verdict, q],
  );
  const tableQueryId = JSON.stringify(tableQuery);
  const defaultQuery = isDefaultQuery(view, q);

  /** Bumped to read everything again (live update, a change made here, "Refresh"). */
  const [tick, setTick] = useState(0);
  const [status, setStatus] = useState<StatusReport | null>(null);
  const [open, setOpen] = useState<FindingsPage | null>(null);
  const [filtered, setFiltered] = useState<{id: string; page: FindingsPage} | null>(null);
  const [tableError, setTableError] = useState<{id: string; message: string} | null>(null);
  const [error, setError] = useState<BridgeError | null>(null);
  const [unreachable, setUnreachable] = useState<BridgeError | null>(null);
  const [lostContact, setLostContact] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [current, setCurrent] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [now, setNow] = useState(() => Date.now());
  const [focusYaml, setFocusYaml] = useState(0);

  const opener = useRef<HTMLElement | null>(null);
  const yamlHeading = useRef<HTMLHeadingElement>(null);
  const lastLoad = useRef(0);
  const refreshTimer = useRef<number | null>(null);
  const requestedRevision = useRef<number | null>(null);
  const liveUpdate = useRef(false);
  const shownRevision = useRef<number | null>(null);

  const reload = useCallback(() => {
    lastLoad.current = Date.now();
    setTick((t) => t + 1);
  }, []);

  /** A throttled reload, for live updates and after changes. */
  const requestRefresh = useCallback(() => {
    if (refreshTimer.current !== null) return;
    const wait = Math.max(0, lastLoad.current + MIN_REFRESH_MS - Date.now());
    refreshTimer.current = window.setTimeout(() => {
      refreshTimer.current = null;
      reload();
    }, wait);
  }, [reload]);

  useEffect(
    () => () => {
      if (refreshTimer.current !== null) window.clearTimeout(refreshTimer.current);
    },
    [],
  );

  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), CLOCK_MS);
    return () => window.clearInterval(t);
  }, []);

  // The status and the open findings: the at-a-glance cards, and the table while it shows open findings.
  useEffect(() => {
    const abort = new AbortController();
    lastLoad.current = Date.now();
    Promise.allSettled([client.status(abort.signal), client.findings({status: 'open', limit: PAGE_LIMIT}, abort.signal)]).then(([s, o]) => {
      if (abort.signal.aborted) return;
      const errors = [s, o].flatMap((r) => (r.status === 'rejected' ? [asBridgeError(r.reason)] : []));
      const cut = errors.find((e) => e.unreachable) ?? null;
      setUnreachable(cut);
      setError(cut === null ? (errors[0] ?? null) : null);
      if (s.status === 'fulfilled') setStatus(s.value);
      if (o.status === 'fulfilled') {
        setOpen(o.value);
        if (liveUpdate.current && shownRevision.current !== null && shownRevision.current !== o.value.revision) {
          setAnnouncement(`Findings updated: ${plural(o.value.total, 'open destination')}.`);
        }
        shownRevision.current = o.value.revision;
      }
      liveUpdate.current = false;
    });
    return () => abort.abort();
  }, [client, tick]);

  // The table's own query when it differs from "open findings".
  useEffect(() => {
    if (defaultQuery) return undefined;
    const abort = new AbortController();
    client.findings(JSON.parse(tableQueryId) as FindingsQuery, abort.signal).then(
      (page) => {
        setFiltered({id: tableQueryId, page});
        setTableError(null);
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        const e = asBridgeError(err);
        if (e.unreachable) setLostContact(e.message);
        else setTableError({id: tableQueryId, message: e.message});
      },
    );
    return () => abort.abort();
  }, [client, tick, tableQueryId, defaultQuery]);

  const page = defaultQuery ? open : filtered !== null && filtered.id === tableQueryId ? filtered.page : null;
  const items = useMemo(() => (page === null ? [] : sortFindings(page.items, view.sort)), [page, view.sort]);
  const loaded = status !== null || open !== null;

  // The selection only keeps rows that are still shown.
  useEffect(() => {
    if (page === null) return;
    setSelected((sel) => {
      const keep = new Set(page.items.filter((f) => sel.has(f.key)).map((f) => f.key));
      return keep.size === sel.size ? sel : keep;
    });
  }, [page]);

  useEffect(() => {
    if (focusYaml > 0) yamlHeading.current?.focus();
  }, [focusYaml]);

  const heldRevision = Math.max(open?.revision ?? -1, filtered?.page.revision ?? -1);
  const live = useLiveRevision(loaded, client.eventsUrl(), {
    poll: async () => (await client.revision()).revision,
    onRevision: (revision) => {
      // After a lost contact everything is read again, whatever the revision.
      const recovering = lostContact !== null || unreachable !== null;
      setLostContact(null);
      if (!recovering && (revision === heldRevision || revision === requestedRevision.current)) return;
      requestedRevision.current = revision;
      liveUpdate.current = true;
      requestRefresh();
    },
    onPollError: (err) => {
      const e = asBridgeError(err);
      setLostContact(e.unreachable ? e.message : null);
    },
  });

  const onView = (v: Partial<TableView>) => dispatch(setTableView(v));
  const onSort = (column: SortColumn) => dispatch(setTableView({sort: nextSort(view.sort, column)}));
  const onSelect = (key: string, on: boolean) =>
    setSelected((sel) => {
      const next = new Set(sel);
      if (on) next.add(key);
      else next.delete(key);
      return next;
    });
  const onSelectAll = (on: boolean) => setSelected(on ? new Set(items.map((f) => f.key)) : new Set());
  const onOpen = (key: string, el: HTMLElement) => {
    opener.current = el;
    setCurrent(key);
  };
  const onClose = () => {
    // Back to the row the details were opened from (rows are keyed, so its button is still there).
    opener.current?.focus();
    setCurrent(null);
  };
  const onChanged = (summary: FindingSummary, what: string) => {
    setOpen((p) => replaceIn(p, summary));
    setFiltered((f) => (f === null ? f : {...f, page: replaceIn(f.page, summary) ?? f.page}));
    setAnnouncement(`${what}.`);
    requestRefresh();
  };
  const onShowYaml = (key: string) => {
    setSelected(new Set([key]));
    setFocusYaml((n) => n + 1);
  };
  const onFormat = (f: SuggestionFormat) => dispatch(setFormat(f));

  // While nothing could be read (no route yet, the bridge not ready), try again now and then: the
  // page recovers by itself once the route is added or the bridge is up.
  const failedFirstLoad = !loaded && (unreachable !== null || error !== null);
  useEffect(() => {
    if (!failedFirstLoad) return undefined;
    const t = window.setTimeout(reload, FIRST_LOAD_RETRY_MS);
    return () => window.clearTimeout(t);
  }, [failedFirstLoad, reload, tick]);

  if (unreachable !== null && !loaded) {
    return (
      <div className='ea-root'>
        <BridgeSetup error={unreachable} onRetry={reload} />
      </div>
    );
  }

  const noSource = status !== null && status.sources.every((s) => s.lastLineAt === null);
  // A bridge older than the webapp may send no integration counts.
  const atRisk: StatusReport['integrations'] = status?.integrations ?? {};
  const integrationsAtRisk = (atRisk.blocked ?? 0) + (atRisk['will-be-blocked'] ?? 0);
  const somethingToAdd = (open?.total ?? 0) + selected.size + integrationsAtRisk > 0;

  return (
    <div className='ea-root' aria-busy={!loaded}>
      <div className='ea-spread'>
        <h2>{'Egress findings'}</h2>
        <div className='ea-row ea-small'>
          {loaded && (
            <span>
              <span className={`ea-dot${live === 'live' ? ' ea-dot--ok' : live === 'polling' ? ' ea-dot--warn' : ''}`} aria-hidden='true' />
              {LIVE_WORD[live]}
            </span>
          )}
          <button type='button' className='ea-btn ea-btn--secondary ea-btn--small' onClick={reload}>
            {'Refresh'}
          </button>
        </div>
      </div>
      <div className='ea-sr-only' role='status' aria-live='polite' aria-atomic='true'>
        {announcement}
      </div>

      {!loaded && error === null && <p role='status'>{'Loading findings from the bridge…'}</p>}
      {error !== null && <ErrorCallout error={error} onRetry={reload} />}
      {(lostContact !== null || (unreachable !== null && loaded)) && (
        <div className='ea-callout ea-callout--warn' role='alert'>
          {`Lost contact with the bridge: ${lostContact ?? unreachable?.message ?? ''} What is shown may be out of date; it updates again once the bridge answers.`}
        </div>
      )}
      {status !== null && !status.ready.ready && (
        <div className='ea-callout ea-callout--warn'>
          <strong>{'The bridge is not ready yet.'}</strong>
          <ul className='ea-list'>
            {status.ready.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </div>
      )}

      {loaded && (
        <>
          <AtAGlance status={status} open={open?.items ?? null} now={now} />
          <Integrations client={client} refreshToken={tick} onOpenFinding={onOpen} />
          <section className='ea-section' aria-labelledby='ea-findings-title'>
            <h3 id='ea-findings-title'>{'Findings'}</h3>
            <Filters text={text} view={view} onText={setText} onView={onView} />
            {tableError !== null && tableError.id === tableQueryId && <p className='ea-error-text'>{tableError.message}</p>}
            {page === null && (tableError === null || tableError.id !== tableQueryId) && <p role='status'>{'Loading…'}</p>}
            {page !== null && page.total === 0 && defaultQuery && (
              <div className='ea-callout'>
                <strong>{'No open findings. '}</strong>
                {noSource
                  ? 'The bridge has not read an access-log line yet: check the log sources above.'
                  : 'Every outbound connection of Mattermost seen so far is allowed, or has been dealt with.'}
              </div>
            )}
            {page !== null && page.total === 0 && !defaultQuery && <p>{'No findings match these filters.'}</p>}
            {page !== null && page.items.length > 0 && (
              <>
                {page.total > page.items.length && (
                  <p className='ea-small ea-muted'>{`Showing the ${page.items.length.toLocaleString('en-US')} most urgent of ${page.total.toLocaleString('en-US')}; sorting applies to these. Narrow the filters to see the others.`}</p>
                )}
                {page.searchTruncated && (
                  <p className='ea-small ea-muted'>{'The search did not look at every finding; narrow it with the status or verdict filter.'}</p>
                )}
                <FindingsTable
                  items={items}
                  sort={view.sort}
                  onSort={onSort}
                  selected={selected}
                  onSelect={onSelect}
                  onSelectAll={onSelectAll}
                  current={current}
                  onOpen={onOpen}
                  now={now}
                />
              </>
            )}
            {current !== null && (
              <FindingDetailView
                client={client}
                findingKey={current}
                refreshToken={tick}
                now={now}
                onClose={onClose}
                onChanged={onChanged}
                onShowYaml={onShowYaml}
              />
            )}
          </section>
          {somethingToAdd && (
            <Suggestions
              ref={yamlHeading}
              client={client}
              keys={[...selected]}
              onShowAll={() => setSelected(new Set())}
              format={format}
              onFormat={onFormat}
              refreshToken={tick}
            />
          )}
        </>
      )}
    </div>
  );
}
