import {PassThrough} from 'node:stream';
import {Progress, humanBytes} from './progress';

function stream(isTTY: boolean): PassThrough & {isTTY?: boolean; text: () => string} {
  const s = new PassThrough() as PassThrough & {isTTY?: boolean; text: () => string};
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  s.isTTY = isTTY;
  s.text = () => out;
  return s;
}

describe('Progress', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('draws one updating line on a terminal and clears it at the end', () => {
    const err = stream(true);
    const p = new Progress(err, () => ({bytes: 2_500_000, lines: 12_345, blocked: 7}));
    p.input('proxy.log');
    jest.advanceTimersByTime(600);
    p.stop();
    expect(err.text()).toMatch(/\r\x1b\[2Kscanning proxy\.log: 2\.5 MB, 12,345 lines, 7 blocked/);
    expect(err.text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('stays silent when stderr is a file or a pipe', () => {
    const err = stream(false);
    const p = new Progress(err, () => ({bytes: 1, lines: 1, blocked: 0}));
    jest.advanceTimersByTime(2000);
    p.stop();
    expect(err.text()).toBe('');
  });
});

it('humanBytes uses decimal units', () => {
  expect(humanBytes(999)).toBe('999 B');
  expect(humanBytes(1_500_000_000)).toBe('1.5 GB');
});
