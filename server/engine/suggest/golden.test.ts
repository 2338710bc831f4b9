// Golden files: the exact text of every format for one realistic set of findings, with and without the
// administrator's values. The goldens under test/fixtures/golden/suggest/ are reviewed by hand; UPDATE_GOLDEN=1
// rewrites them after a deliberate change, and the diff is then reviewed like code.
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

import {parse} from 'yaml';

import type {Finding, SuggestionFormat} from '../types';
import {checkServiceEntrySpec, readBack, suggest} from './index';

const DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'golden', 'suggest');
const findings = JSON.parse(readFileSync(join(DIR, 'findings.json'), 'utf8')) as Finding[];
const values = readFileSync(join(DIR, 'values-umbrella.yaml'), 'utf8');

function golden(file: string, actual: string): void {
  const path = join(DIR, file);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.UPDATE_GOLDEN !== '1') {
      throw new Error(`golden file ${file} is missing; write it (or run with UPDATE_GOLDEN=1 and review it)`);
    }
    writeFileSync(path, actual);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const CASES: {file: string; format: SuggestionFormat; values?: string; namespace?: string}[] = [
  {file: 'bigbang.yaml', format: 'bigbang'},
  {file: 'bigbang-legacy.yaml', format: 'bigbang-legacy'},
  {file: 'package.yaml', format: 'package'},
  {file: 'package-legacy.yaml', format: 'package-legacy'},
  {file: 'serviceentry.yaml', format: 'serviceentry', namespace: 'mattermost'},
  {file: 'bigbang-with-values.yaml', format: 'bigbang', values},
  {file: 'bigbang-legacy-with-values.yaml', format: 'bigbang-legacy', values},
];

describe('golden suggestions', () => {
  test.each(CASES)('$file', ({file, format, values: v, namespace}) => {
    const result = suggest(findings, {format, ...(v !== undefined ? {values: v} : {}), ...(namespace !== undefined ? {namespace} : {})});
    golden(file, result.yaml);

    // Every document of the golden re-parses, and every entry in it passes the schema and Istio's rules.
    const back = readBack(result.yaml, format);
    expect(back.errors).toEqual([]);
    expect(back.entries.length).toBe(result.entries.length);
    for (const entry of back.entries) {
      expect(checkServiceEntrySpec(entry.spec, {namespace: 'mattermost'})).toEqual([]);
      expect(entry.objectName.length).toBeLessThanOrEqual(63);
    }
    expect(back.entries.map((e) => e.spec.hosts)).toEqual(result.entries.map((e) => e.hosts));
  });

  test('the skipped list explains every finding that got no entry', () => {
    const result = suggest(findings, {format: 'bigbang'});
    const text = JSON.stringify(result.skipped, null, 2) + '\n';
    golden('skipped.json', text);
  });

  test('the skipped list with values names the route that already allows a host', () => {
    const result = suggest(findings, {format: 'bigbang', values});
    golden('skipped-with-values.json', JSON.stringify(result.skipped, null, 2) + '\n');
  });

  test('the goldens never contain a host from a rejected or hostile name', () => {
    for (const {file} of CASES) {
      const text = readFileSync(join(DIR, file), 'utf8');
      expect(text).not.toContain('evil.example');
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    }
    // A parse of the umbrella golden yields exactly one top-level key.
    expect(Object.keys(parse(readFileSync(join(DIR, 'bigbang.yaml'), 'utf8')) as object)).toEqual(['addons']);
  });
});
