import {untold} from './refusals';

test('refusals: a damaged value starts from none instead of failing, and the list of those told keeps only names', () => {
  const refusals = JSON.stringify([
    {url: 'http://10.0.0.40/preview', host: '10.0.0.40', count: 2, timeMs: null, pod: null},
    {url: 1, count: 'x'},
  ]);
  const key = untold(refusals, '[]').told;
  expect(key).toHaveLength(1);
  // A told list that is damaged, or holds other things than names, tells again rather than never.
  expect(untold(refusals, '{oops').fresh).toHaveLength(1);
  expect(untold(refusals, JSON.stringify([42, ...key])).fresh).toHaveLength(0);
  expect(untold('garbage', JSON.stringify(key))).toEqual({fresh: [], told: key});
});
