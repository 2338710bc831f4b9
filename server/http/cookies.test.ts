import {readCookie} from './cookies';

test.each([
  ['MMAUTHTOKEN=abc; MMCSRF=def', 'MMCSRF', 'def'],
  ['MMAUTHTOKEN=abc;MMCSRF=def', 'MMCSRF', 'def'],
  ['  MMAUTHTOKEN = abc ', 'MMAUTHTOKEN', 'abc'],
  ['MMAUTHTOKEN="abc"', 'MMAUTHTOKEN', 'abc'],
  ['MMAUTHTOKEN=a%20b', 'MMAUTHTOKEN', 'a b'],
  ['MMAUTHTOKEN=a%zzb', 'MMAUTHTOKEN', 'a%zzb'],
  ['MMAUTHTOKEN=first; MMAUTHTOKEN=second', 'MMAUTHTOKEN', 'first'],
  ['XMMAUTHTOKEN=no; MMAUTHTOKENX=no', 'MMAUTHTOKEN', undefined],
  ['MMAUTHTOKEN', 'MMAUTHTOKEN', undefined],
  ['', 'MMAUTHTOKEN', undefined],
  ['a=b; c=d=e', 'c', 'd=e'],
])('readCookie(%j, %s) is %j', (header, name, expected) => {
  expect(readCookie(header, name)).toBe(expected);
});

test('several Cookie headers are read as one', () => {
  expect(readCookie(['a=1', 'MMCSRF=x'], 'MMCSRF')).toBe('x');
  expect(readCookie(undefined, 'MMCSRF')).toBeUndefined();
});
