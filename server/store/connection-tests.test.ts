import type {ConnectionTestResult} from '../../common/connection-tests';
import {connectionTestResult} from '../../test/support/connection-test-result';
import {StoreInputError} from './errors';
import {MAX_TEST_RESULT_BYTES} from './connection-tests';
import {removeDir, tempDir} from './testing/support';
import {STORE_KINDS, TestStoreHome} from './testing/stores';
import type {Store} from './types';

const result = (id: string, over: Partial<ConnectionTestResult> = {}): ConnectionTestResult => connectionTestResult({id, ...over});

const at = (minute: number) => `2026-12-07T12:${String(minute).padStart(2, '0')}:00.000Z`;

// The connection test history, one row per result, against both implementations.
describe.each(STORE_KINDS)('%s store: connection test results', (kind) => {
  const home = new TestStoreHome(kind);
  let dir: string;
  let store: Store;

  beforeAll(() => home.setUp(), 30_000);
  afterAll(() => home.tearDown(), 30_000);
  beforeEach(async () => {
    dir = tempDir();
    await home.reset(dir);
    store = await home.open();
  });
  afterEach(async () => {
    await store.close();
    removeDir(dir);
  });

  it('keeps each result whole, newest first, and narrows to one integration', async () => {
    await store.addConnectionTest(result('a', {startedAt: at(1)}));
    await store.addConnectionTest(result('b', {startedAt: at(3), kind: 'smtp', label: 'Email (SMTP)', message: 'NUL \u0000 and ünïcode'}));
    await store.addConnectionTest(result('c', {startedAt: at(2), outcome: 'failed', httpStatus: 500, findingKeys: ['203.0.113.5:443']}));
    expect((await store.listConnectionTests()).map((r) => r.id)).toEqual(['b', 'c', 'a']);
    expect(await store.listConnectionTests({kind: 'smtp'})).toEqual([
      result('b', {startedAt: at(3), kind: 'smtp', label: 'Email (SMTP)', message: 'NUL \u0000 and ünïcode'}),
    ]);
    expect((await store.listConnectionTests({kind: 's3', limit: 1}))[0]).toEqual(
      result('c', {startedAt: at(2), outcome: 'failed', httpStatus: 500, findingKeys: ['203.0.113.5:443']}),
    );
  });

  it('tests that started in the same millisecond come newest-added first', async () => {
    for (const id of ['x', 'y', 'z']) await store.addConnectionTest(result(id));
    expect((await store.listConnectionTests()).map((r) => r.id)).toEqual(['z', 'y', 'x']);
  });

  it('adds a result with a known id once', async () => {
    await store.addConnectionTest(result('a'));
    await store.addConnectionTest(result('a', {outcome: 'failed'}));
    expect(await store.listConnectionTests()).toEqual([result('a')]);
  });

  it('keeps only the newest results of each integration, without touching the others', async () => {
    for (let i = 0; i < 6; i++) await store.addConnectionTest(result(`s3-${i}`, {startedAt: at(i)}), 3);
    await store.addConnectionTest(result('smtp-0', {kind: 'smtp', startedAt: at(0)}), 3);
    expect((await store.listConnectionTests({kind: 's3'})).map((r) => r.id)).toEqual(['s3-5', 's3-4', 's3-3']);
    expect((await store.listConnectionTests({kind: 'smtp'})).map((r) => r.id)).toEqual(['smtp-0']);
  });

  it('two writers adding at once lose neither result (each is a row of its own)', async () => {
    const other = await home.open();
    try {
      await Promise.all(
        Array.from({length: 10}, (_, i) => (i % 2 === 0 ? store : other).addConnectionTest(result(`r${i}`, {startedAt: at(i), kind: i < 5 ? 's3' : 'ldap'}))),
      );
      expect((await store.listConnectionTests()).map((r) => r.id).sort()).toEqual(Array.from({length: 10}, (_, i) => `r${i}`));
    } finally {
      await other.close();
    }
  });

  it('refuses a result it could not order or that is too large, with a clear error, and keeps what it had', async () => {
    await store.addConnectionTest(result('kept'));
    await expect(store.addConnectionTest(result('bad-time', {startedAt: 'yesterday'}))).rejects.toThrow(StoreInputError);
    await expect(store.addConnectionTest(result('', {}))).rejects.toThrow('test id must not be empty');
    await expect(store.addConnectionTest(result('huge', {message: 'x'.repeat(MAX_TEST_RESULT_BYTES)}))).rejects.toThrow(/larger than/);
    await expect(store.addConnectionTest(null as unknown as ConnectionTestResult)).rejects.toThrow(StoreInputError);
    expect((await store.listConnectionTests()).map((r) => r.id)).toEqual(['kept']);
  });
});
