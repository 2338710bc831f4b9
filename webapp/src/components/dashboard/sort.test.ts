import type {FindingSummary} from '../../../../common/api';
import {makeFinding} from '../../test/fake_bridge';

import {nextSort, sortFindings} from './sort';

const a = makeFinding({host: 'b.example.com', port: 443, count: 5, lastSeen: '2026-05-01T10:00:00Z', pods: ['p1', 'p2'], status: 'open', verdict: 'blocked'});
const b = makeFinding({host: 'a.example.com', port: 25, count: 50, lastSeen: null, pods: [], status: 'ignored', verdict: 'passthrough'});
const c = makeFinding({
  host: null,
  ip: '10.0.0.9',
  port: 5432,
  count: 7,
  lastSeen: '2026-05-01T12:00:00Z',
  pods: ['p1'],
  status: 'resolved',
  verdict: 'external-failed',
});
const c2 = {...c, features: [{id: 'db', name: 'Database', configPath: 'SqlSettings.DataSource'}]};
const items = [a, b, c2];

function keys(list: FindingSummary[]): string[] {
  return list.map((f) => f.destination.host ?? f.destination.ip ?? '');
}

test('no column keeps the bridge order', () => {
  expect(keys(sortFindings(items, {column: null, direction: 'ascending'}))).toEqual(['b.example.com', 'a.example.com', '10.0.0.9']);
});

test.each([
  ['destination', 'ascending', ['10.0.0.9', 'a.example.com', 'b.example.com']],
  ['destination', 'descending', ['b.example.com', 'a.example.com', '10.0.0.9']],
  ['port', 'ascending', ['a.example.com', 'b.example.com', '10.0.0.9']],
  ['count', 'descending', ['a.example.com', '10.0.0.9', 'b.example.com']],
  ['count', 'ascending', ['b.example.com', '10.0.0.9', 'a.example.com']],
  ['pods', 'descending', ['b.example.com', '10.0.0.9', 'a.example.com']],
  ['status', 'ascending', ['b.example.com', 'a.example.com', '10.0.0.9']],
  ['verdict', 'ascending', ['b.example.com', 'a.example.com', '10.0.0.9']],
] as const)('by %s %s', (column, direction, expected) => {
  expect(keys(sortFindings(items, {column, direction}))).toEqual(expected);
});

test('missing values go last in both directions', () => {
  expect(keys(sortFindings(items, {column: 'lastSeen', direction: 'descending'}))).toEqual(['10.0.0.9', 'b.example.com', 'a.example.com']);
  expect(keys(sortFindings(items, {column: 'lastSeen', direction: 'ascending'}))).toEqual(['b.example.com', '10.0.0.9', 'a.example.com']);
  // Only c2 has a feature: the others keep their order after it.
  expect(keys(sortFindings(items, {column: 'feature', direction: 'descending'}))).toEqual(['10.0.0.9', 'b.example.com', 'a.example.com']);
});

test('sorting does not change the input', () => {
  const copy = [...items];
  sortFindings(items, {column: 'count', direction: 'ascending'});
  expect(items).toEqual(copy);
});

test('a click on the same column flips it; a new column starts in its natural direction', () => {
  expect(nextSort({column: null, direction: 'descending'}, 'destination')).toEqual({column: 'destination', direction: 'ascending'});
  expect(nextSort({column: 'destination', direction: 'ascending'}, 'destination')).toEqual({column: 'destination', direction: 'descending'});
  expect(nextSort({column: 'destination', direction: 'ascending'}, 'count')).toEqual({column: 'count', direction: 'descending'});
  expect(nextSort({column: 'count', direction: 'descending'}, 'count')).toEqual({column: 'count', direction: 'ascending'});
});
