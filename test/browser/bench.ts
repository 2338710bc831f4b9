/*
 * Render time of the System Console dashboard with 5,000 findings, for `npm run bench`.
 *
 * The data is real: the bridge follows an istio-proxy log with 5,000 blocked TLS connections to
 * 5,000 distinct hosts, so its store holds 5,000 open findings; the page is the harness page of the
 * browser suite (built bundle loaded from a real Mattermost, calls through the plugin) in Debian's Chromium.
 *
 * Two figures:
 * - "bridge": the page as shipped. The bridge answers at most 500 findings per page (its
 *   MAX_LIMIT, which the dashboard asks for), so the table draws the 500 most urgent of 5,000.
 * - "all 5,000 rows": the same findings, all 5,000 in one bridge-shaped answer: the bridge's own
 *   pages (offset 0 … 4,500) joined into one FindingsPage, which the browser answers the findings
 *   path with (a Playwright route, as a static file); status, suggestions and events still come from the bridge. This is what the
 *   table costs if every finding were drawn at once.
 *
 * Measured in the page: from the moment the last of the two answers the first render needs
 * (findings and status; Resource Timing responseEnd) has arrived, to the first frame after the
 * table holds its rows (a MutationObserver sees the rows, then requestAnimationFrame + a task).
 * The DOM-only figure (rows committed, before the frame) is given too. Median of several loads.
 */
import fs from 'node:fs';
import path from 'node:path';

import {API_BASE_PATH, type FindingsPage} from '../../common/api';
import type {Win} from './dom';
import {BrowserRig, harnessState} from './harness';
import {blockedTls, PODS} from './lines';

export const BENCH_FINDINGS = 5_000;
/** The dashboard's page size and the bridge's MAX_LIMIT. */
const BRIDGE_PAGE = 500;

export interface RenderFigure {
  /** Median ms from data arrival to the first frame with the table's rows. */
  ms: number;
  /** Median ms from data arrival to the first frame showing the first step of rows (the first screen). */
  firstMs: number;
  /** Median ms from data arrival to the rows being in the DOM. */
  domMs: number;
  /** Rows the table drew. */
  rows: number;
  runs: number[];
}

export interface RenderBench extends RenderFigure {
  /** Findings in the bridge's store. */
  total: number;
  source: 'bridge store (5,000 findings), 500 per page as the bridge answers';
  allRows: RenderFigure & {source: 'bridge-shaped static JSON answered by the browser at the findings path (the same 5,000 findings in one page)'};
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** 5,000 blocked connections to distinct hosts (RFC 2544 benchmarking addresses). */
export function benchLines(n = BENCH_FINDINGS): string[] {
  const start = Date.now() - 60 * 60_000;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ip = `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const host = `svc-${String(i).padStart(4, '0')}.bench.example.com`;
    lines.push(blockedTls(ip, 443, host, {pod: PODS[i % 2], at: new Date(start + i * 500)}));
  }
  return lines;
}

async function measureLoads(
  rig: BrowserRig,
  staticJson: Record<string, string> | undefined,
  expectedRows: number,
  runs: number,
  screenshot: string,
): Promise<RenderFigure> {
  const {page} = await rig.newPage({staticJson});
  await rig.login(page, 'admin');
  const frames: number[] = [];
  const doms: number[] = [];
  const firsts: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs + 1; i++) {
    await rig.open(page, `view=dashboard&measure=${expectedRows}`);
    await page.waitForFunction(() => (globalThis as unknown as {__harness: {timings: {frameAt?: number}}}).__harness.timings.frameAt !== undefined, undefined, {
      timeout: 60_000,
    });
    const t = await page.evaluate(
      ({api}) => {
        const g = globalThis as unknown as Win & {
          __harness: {timings: {rowsAt: number; frameAt: number; firstFrameAt: number; rows: number}};
          performance: {getEntriesByType(t: string): Array<{name: string; responseEnd: number}>};
        };
        const entries = g.performance.getEntriesByType('resource');
        const end = (needle: string): number => Math.max(...entries.filter((e) => e.name.includes(needle)).map((e) => e.responseEnd));
        const arrived = Math.max(end(`${api}/findings?`), end(`${api}/status`));
        return {
          arrived,
          rowsAt: g.__harness.timings.rowsAt,
          frameAt: g.__harness.timings.frameAt,
          firstFrameAt: g.__harness.timings.firstFrameAt,
          rows: g.__harness.timings.rows,
        };
      },
      {api: API_BASE_PATH},
    );
    if (!Number.isFinite(t.arrived)) throw new Error('no resource timing for the findings and status requests');
    rows = t.rows;
    // The first load warms Chromium's caches (script compile, fonts); it is not counted.
    if (i === 0) continue;
    frames.push(t.frameAt - t.arrived);
    doms.push(t.rowsAt - t.arrived);
    firsts.push(t.firstFrameAt - t.arrived);
  }
  await rig.screenshot(page, screenshot, {fullPage: false});
  const state = await harnessState(page);
  if (state.errors.length > 0) throw new Error(`the page reported errors: ${state.errors.join('\n')}`);
  await rig.closePages();
  return {ms: Math.round(median(frames)), firstMs: Math.round(median(firsts)), domMs: Math.round(median(doms)), rows, runs: frames.map((x) => Math.round(x))};
}

/** Joins the bridge's pages of open findings (read through the plugin) into one FindingsPage holding them all. */
async function allFindingsPage(rig: BrowserRig): Promise<FindingsPage> {
  const get = async (offset: number): Promise<FindingsPage> => {
    const res = await fetch(`${rig.url}${API_BASE_PATH}/findings?status=open&limit=${BRIDGE_PAGE}&offset=${offset}`, {
      headers: {Authorization: `Bearer ${rig.mm.adminToken}`},
    });
    if (!res.ok) throw new Error(`bridge findings answered ${res.status}`);
    return (await res.json()) as FindingsPage;
  };
  const first = await get(0);
  const items = [...first.items];
  for (let offset = BRIDGE_PAGE; offset < first.total; offset += BRIDGE_PAGE) items.push(...(await get(offset)).items);
  return {...first, items, limit: items.length, offset: 0};
}

export async function benchRender5000(opts: {runs?: number; print?: boolean} = {}): Promise<RenderBench> {
  const runs = opts.runs ?? 5;
  const print = opts.print ?? true;
  const row = (k: string, v: string): void => {
    if (print) process.stdout.write(`${k.padEnd(28)} ${v}\n`);
  };
  if (print)
    process.stdout.write(`\n== webapp: dashboard render with ${BENCH_FINDINGS.toLocaleString('en-US')} findings (Chromium, real bridge and Mattermost) ==\n`);
  const rig = await BrowserRig.start({lines: benchLines(), expectFindings: BENCH_FINDINGS, digestSeconds: 1});
  try {
    const total = (await rig.bridge.store.countFindings()).byStatus.open;
    const shipped = await measureLoads(rig, undefined, Math.min(total, BRIDGE_PAGE), runs, 'bench-5000-findings');

    const all = await allFindingsPage(rig);
    if (all.items.length !== total) throw new Error(`joined ${all.items.length} findings, the bridge has ${total}`);
    const file = path.join(rig.dir, 'findings-all.json');
    fs.writeFileSync(file, JSON.stringify(all));
    const everything = await measureLoads(rig, {[`${API_BASE_PATH}/findings`]: file}, total, runs, 'bench-5000-rows');

    const result: RenderBench = {
      ...shipped,
      total,
      source: 'bridge store (5,000 findings), 500 per page as the bridge answers',
      allRows: {...everything, source: 'bridge-shaped static JSON answered by the browser at the findings path (the same 5,000 findings in one page)'},
    };
    row('findings in the bridge', total.toLocaleString('en-US'));
    row('table rows (bridge page)', `${shipped.rows} (the ${BRIDGE_PAGE} most urgent)`);
    row('data → first screen painted', `${shipped.firstMs} ms median`);
    row('data → table painted', `${shipped.ms} ms median (runs ${shipped.runs.join(', ')} ms)`);
    row('data → rows in the DOM', `${shipped.domMs} ms median`);
    row(
      'all rows (static JSON)',
      `${everything.rows} rows: first screen painted in ${everything.firstMs} ms; all rows ${everything.ms} ms to painted (runs ${everything.runs.join(', ')} ms), ${everything.domMs} ms to DOM`,
    );
    return result;
  } finally {
    await rig.stop();
  }
}

if (require.main === module) {
  benchRender5000().then(
    () => undefined,
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
