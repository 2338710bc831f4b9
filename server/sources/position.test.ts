import {decodeFilePosition, encodeFilePosition, headHash, type FilePosition} from './position';

const p: FilePosition = {dev: '2049', ino: '18446744073709551615', offset: 1234, skip: false, headLen: 256, head: headHash(Buffer.from('x'))};

describe('file positions', () => {
  it('round-trip, inode numbers beyond 2^53 included', () => {
    expect(decodeFilePosition(encodeFilePosition(p))).toEqual(p);
  });

  it('encode the same position to the same string, whatever the key order given', () => {
    const shuffled = {head: p.head, headLen: p.headLen, skip: p.skip, offset: p.offset, ino: p.ino, dev: p.dev};
    expect(encodeFilePosition(shuffled)).toBe(encodeFilePosition(p));
  });

  it.each([
    ['not JSON', 'file:1:2:3'],
    ['another kind', JSON.stringify({t: 'stdin', v: 1, bytes: 3})],
    ['a negative offset', encodeFilePosition({...p, offset: -1})],
    ['a fractional offset', encodeFilePosition({...p, offset: 1.5})],
    ['a non-numeric inode', encodeFilePosition({...p, ino: '12a'})],
    ['a head that is not a hash', encodeFilePosition({...p, head: 'zz'})],
    ['an oversized head length', encodeFilePosition({...p, headLen: 9999})],
    ['null', 'null'],
  ])('reject %s', (_what, s) => {
    expect(decodeFilePosition(s)).toBeNull();
  });
});
