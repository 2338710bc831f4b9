import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {benchFileFollow} from './bench';

jest.setTimeout(60_000);

it('measures follow throughput on a real file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-bench-'));
  try {
    const rate = await benchFileFollow(join(dir, 'follow.log'), 20_000);
    expect(rate).toBeGreaterThan(0);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
});
