// Published istio-proxy lines (Istio docs and public issue reports, each with its source in cases.json and
// SOURCES.md) and hand-made hostile lines, against the expected verdicts written down for each of them.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import type {PortProtocol, Verdict} from '../../common/types';
import {classifiedLine} from '../../server/cli/classify';
import {LineReader} from '../../server/engine/lines';

interface Case {
  file: string;
  line: number;
  source: string;
  layout: string;
  expected: {verdict: Verdict; host: string | null; ip: string | null; port: number | null; protocol: PortProtocol | null};
  acceptable?: Verdict[];
  hostExact?: boolean;
  hostileHost?: boolean;
  why: string;
}

const DIR = join(__dirname, '..', 'fixtures', 'access-logs');
const cases = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as Case[];

/** Lines exactly as the CLI reads them (same reader, same decoding, same length limit). */
function linesOf(file: string): Map<number, {text: string; truncated: boolean}> {
  const out = new Map<number, {text: string; truncated: boolean}>();
  const reader = new LineReader((text, n, truncated) => out.set(n, {text, truncated}));
  reader.push(readFileSync(join(DIR, file)));
  reader.end();
  return out;
}

const files = new Map<string, ReturnType<typeof linesOf>>();
function line(c: Case): {text: string; truncated: boolean} {
  if (!files.has(c.file)) files.set(c.file, linesOf(c.file));
  const l = files.get(c.file)!.get(c.line);
  if (!l) throw new Error(`${c.file} has no line ${c.line}`);
  return l;
}

const FINDING_VERDICTS = new Set<Verdict>(['blocked', 'passthrough', 'external-failed', 'external-ok']);

describe.each(cases.map((c) => [`${c.file}:${c.line} (${c.layout})`, c] as const))('%s', (_name, c) => {
  it(`is ${c.expected.verdict}: ${c.why}`, () => {
    const {text, truncated} = line(c);
    const got = classifiedLine(text, c.line, truncated);
    const allowed = new Set([c.expected.verdict, ...(c.acceptable ?? [])]);
    expect(allowed).toContain(got.verdict);
    if (got.verdict !== c.expected.verdict || !FINDING_VERDICTS.has(got.verdict)) return;
    expect({ip: got.ip, port: got.port}).toEqual({ip: c.expected.ip, port: c.expected.port});
    if (c.hostExact !== false) expect(got.host).toBe(c.expected.host);
    if (got.verdict !== 'external-ok') expect(got.protocol).toBe(c.expected.protocol);
  });
});

it('covers every verdict and at least 40 published lines', () => {
  const verdicts = new Set(cases.map((c) => c.expected.verdict));
  expect([...verdicts].sort()).toEqual(['blocked', 'external-failed', 'external-ok', 'internal', 'not-access-log', 'passthrough']);
  expect(cases.filter((c) => c.source !== 'hand-made').length).toBeGreaterThanOrEqual(40);
});
