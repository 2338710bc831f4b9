// The cursor arithmetic on its own: what a resumed log request sends again, and what must be dropped.
import {LineFramer} from '../frame';
import {keepNew} from './lines';
import {advance, decodeCursor, encodeCursor, freshCursor, ResumeFilter, sinceTimeOf, type Cursor} from './resume';
import {compareTime, formatTime, lineTime, parseTime, type LogTime} from './timestamp';

function t(text: string): LogTime {
  const v = parseTime(text);
  if (v === null) throw new Error(`bad time ${text}`);
  return v;
}

/** A log as the kubelet serves it with timestamps=true. */
function log(lines: [string, string][]): string {
  return lines.map(([ts, text]) => `${ts} ${text}\n`).join('');
}

/** What the API server sends for sinceTime: every line from that whole second on, in file order. */
function resend(lines: [string, string][], since: string | null): [string, string][] {
  if (since === null) return lines;
  const s = t(since).sec;
  return lines.filter(([ts]) => t(ts).sec >= s);
}

/** Delivers `take` lines through a cursor, then resumes on what the server sends again; returns all kept lines. */
function breakAndResume(lines: [string, string][], take: number): string[] {
  const framer = new LineFramer(1 << 20);
  const cursor = freshCursor('u');
  const first = keepNew(framer.push(Buffer.from(log(lines.slice(0, take)))), cursor, null);
  const decoded = decodeCursor(encodeCursor(cursor)) as Cursor;
  const again = resend(lines, sinceTimeOf(decoded));
  const second = keepNew(new LineFramer(1 << 20).push(Buffer.from(log(again))), decoded, new ResumeFilter({...decoded}));
  return (first.data.toString() + second.data.toString())
    .split('\n')
    .slice(0, -1)
    .map((l) => l.slice(l.indexOf(' ') + 1));
}

describe('timestamps', () => {
  it('reads the kubelet prefix, whatever the zone or the number of digits', () => {
    expect(t('2026-03-02T09:00:01.104217655Z')).toEqual({sec: Date.UTC(2026, 2, 2, 9, 0, 1) / 1000, nanos: 104217655});
    expect(t('2026-03-02T10:00:01.5+01:00')).toEqual({sec: Date.UTC(2026, 2, 2, 9, 0, 1) / 1000, nanos: 500000000});
    expect(t('2026-03-02T09:00:01Z').nanos).toBe(0);
    expect(parseTime('2026-13-02T09:00:01Z')).toBeNull();
    expect(parseTime('yesterday')).toBeNull();
    const data = Buffer.from('2026-03-02T09:00:01.000000001Z hello\nno stamp here\n');
    expect(lineTime(data, 0, 37)).toEqual(t('2026-03-02T09:00:01.000000001Z'));
    expect(lineTime(data, 37, data.length)).toBeNull();
    expect(formatTime(t('2026-03-02T10:00:01.5+01:00'))).toBe('2026-03-02T09:00:01.500000000Z');
    expect(compareTime(t('2026-03-02T09:00:01.1Z'), t('2026-03-02T09:00:01.01Z'))).toBeGreaterThan(0);
  });
});

describe('the cursor', () => {
  it('counts the lines from the last whole second on, in file order', () => {
    const c = freshCursor('u');
    advance(c, t('2026-03-02T09:00:01.9Z'));
    advance(c, t('2026-03-02T09:00:02.1Z'));
    advance(c, t('2026-03-02T09:00:02.1Z'));
    advance(c, t('2026-03-02T09:00:02.05Z'));
    expect(sinceTimeOf(c)).toBe('2026-03-02T09:00:02Z');
    expect(c).toMatchObject({count: 3, total: 4});
    expect(formatTime(c.latest as LogTime)).toBe('2026-03-02T09:00:02.100000000Z');
    // A line stamped before S (stdout and stderr read apart) is not sent again for sinceTime=S.
    advance(c, t('2026-03-02T09:00:01.99Z'));
    expect(c).toMatchObject({count: 3, total: 5});
  });

  it('encodes to the same string for the same cursor, and refuses what it did not write', () => {
    const c = freshCursor('uid-1');
    advance(c, t('2026-03-02T09:00:02.1Z'));
    const s = encodeCursor(c);
    expect(JSON.parse(s)).toEqual({
      t: 'k8s-log',
      v: 1,
      uid: 'uid-1',
      since: '2026-03-02T09:00:02Z',
      count: 1,
      latest: '2026-03-02T09:00:02.100000000Z',
      total: 1,
    });
    expect(encodeCursor(decodeCursor(s) as Cursor)).toBe(s);
    expect(decodeCursor('{"t":"file","v":1}')).toBeNull();
    expect(decodeCursor('not json')).toBeNull();
    expect(decodeCursor(s.replace('"count":1', '"count":2'))).toBeNull();
    expect(decodeCursor(s.replace('09:00:02Z', '09:00:02.5Z'))).toBeNull();
  });
});

describe('resuming', () => {
  const lines: [string, string][] = [
    ['2026-03-02T09:00:01.100000000Z', 'a'],
    ['2026-03-02T09:00:02.100000000Z', 'b'],
    ['2026-03-02T09:00:02.100000000Z', 'c'],
    ['2026-03-02T09:00:02.900000000Z', 'd'],
    ['2026-03-02T09:00:02.900000000Z', 'e'],
    ['2026-03-02T09:00:03.000000000Z', 'f'],
  ];

  it.each([0, 1, 2, 3, 4, 5, 6])('after %i lines delivers every line exactly once', (take) => {
    expect(breakAndResume(lines, take)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('keeps file order when stamps inside a second are out of order', () => {
    const shuffled: [string, string][] = [
      ['2026-03-02T09:00:02.500000000Z', 'a'],
      ['2026-03-02T09:00:02.100000000Z', 'b'],
      ['2026-03-02T09:00:02.300000000Z', 'c'],
      ['2026-03-02T09:00:02.200000000Z', 'd'],
    ];
    for (let take = 0; take <= 4; take++) expect(breakAndResume(shuffled, take)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('stops skipping at a line newer than anything delivered (the kubelet rotated the file meanwhile)', () => {
    const c = freshCursor('u');
    advance(c, t('2026-03-02T09:00:02.1Z'));
    advance(c, t('2026-03-02T09:00:02.2Z'));
    advance(c, t('2026-03-02T09:00:02.3Z'));
    const f = new ResumeFilter(c);
    // The current file starts after the break: nothing in it was delivered.
    expect(f.accept(t('2026-03-02T09:00:02.4Z'))).toBe(true);
    expect(f.done).toBe(true);
  });

  it('drops lines from before the second when a server ignores the fraction the other way', () => {
    const c = freshCursor('u');
    advance(c, t('2026-03-02T09:00:02.1Z'));
    const f = new ResumeFilter(c);
    expect(f.accept(t('2026-03-02T09:00:01.9Z'))).toBe(false);
    expect(f.accept(t('2026-03-02T09:00:02.1Z'))).toBe(false);
    expect(f.accept(t('2026-03-02T09:00:02.1Z'))).toBe(true);
  });

  it('keeps the marks of cut lines where the kept lines are', () => {
    const framer = new LineFramer(40);
    const c = freshCursor('u');
    const data = Buffer.from(
      log([
        ['2026-03-02T09:00:02.100000000Z', 'short'],
        ['2026-03-02T09:00:02.200000000Z', 'x'.repeat(60)],
      ]),
    );
    const framed = framer.push(data);
    expect(framed.cut).toEqual([1]);
    const f = new ResumeFilter({...freshCursor('u'), since: t('2026-03-02T09:00:02Z').sec, count: 1, latest: t('2026-03-02T09:00:02.1Z'), total: 1});
    const kept = keepNew(framed, c, f);
    expect(kept).toMatchObject({lines: 1, cut: [0], dropped: 1});
    expect(kept.data.toString()).toMatch(/^2026-03-02T09:00:02.200000000Z x+\n$/);
  });
});
