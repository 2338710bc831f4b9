import {metaJsonArray, readMetaJson} from './meta-json';

test('a meta value is absent, unreadable or read, and the three are told apart', () => {
  expect(readMetaJson(null)).toEqual({state: 'absent'});
  expect(readMetaJson('{"state":"done"')).toEqual({state: 'unreadable'});
  expect(readMetaJson('')).toEqual({state: 'unreadable'});
  expect(readMetaJson('null')).toEqual({state: 'read', value: null});
  expect(readMetaJson('[1,"a"]')).toEqual({state: 'read', value: [1, 'a']});
});

test('an array is read as one, and anything else as none', () => {
  expect(metaJsonArray('[1,"a"]')).toEqual([1, 'a']);
  for (const raw of [null, '', 'not json', '{"a":1}', '"a"', 'null']) expect(metaJsonArray(raw)).toEqual([]);
});
