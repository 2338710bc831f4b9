// A connection test's window through the bridge's ingest path into a real SQLite store: an IP-only address
// blocked on the test's port is named for certain only while it is the one address the window saw there.
// The access lines stand in for Envoy's (recorded BlackHoleCluster shape); the probe is what
// server/bridge/connection-tests.ts adds around Mattermost's test.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {AttributionState, Ingest} from '../../server/bridge/ingest';
import type {SourceBatch} from '../../server/sources/types';
import {openSqliteStore, type SqliteStore} from '../../server/store';

const T0 = Date.parse('2026-11-28T08:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const blocked = (ms: number, dst: string) =>
  `[${at(ms)}] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - ${dst} 10.42.1.17:${41000 + (ms % 1000)} - -`;

let dir: string;
let store: SqliteStore;
let n = 0;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'egress-window-'));
  store = openSqliteStore(join(dir, 'store.db'));
  n = 0;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, {recursive: true, force: true});
});

function batch(lines: string[]): SourceBatch {
  n++;
  return {
    sourceId: 'proxy',
    stream: {id: 'proxy', log: 'proxy', origin: 'proxy'},
    data: Buffer.from(lines.join('\n') + '\n'),
    lines: lines.length,
    cut: [],
    unterminated: false,
    from: n === 1 ? null : `p${n - 1}`,
    position: `p${n}`,
  };
}

function ingestWithProbe(): {ingest: Ingest; changed: string[][]} {
  const attribution = new AttributionState();
  attribution.addProbe({testId: 'test-42', label: 'File storage (S3)', host: 's3.example.com', port: 443, fromMs: T0, toMs: T0 + 2_000});
  const changed: string[][] = [];
  const ingest = new Ingest(
    store,
    attribution,
    () => 60,
    (r) => changed.push(r.changedKeys),
  );
  return {ingest, changed};
}

test('one address in the window: named for certain, under the host key', async () => {
  const {ingest} = ingestWithProbe();
  await ingest.batch(batch([blocked(500, '52.1.2.3:443')]));
  const f = await store.getFinding('s3.example.com:443');
  expect(f?.attribution).toMatchObject({host: 's3.example.com', method: 'connection-test', confidence: 'certain'});
  expect(f?.destination.ip).toBe('52.1.2.3');
});

test('two addresses in one batch: neither is named; each is ambiguous with the test host as its candidate', async () => {
  const {ingest} = ingestWithProbe();
  await ingest.batch(batch([blocked(500, '52.1.2.3:443'), blocked(700, '52.9.9.9:443')]));
  expect(await store.getFinding('s3.example.com:443')).toBeNull();
  for (const key of ['52.1.2.3:443', '52.9.9.9:443']) {
    expect((await store.getFinding(key))?.attribution).toMatchObject({
      host: null,
      candidates: ['s3.example.com'],
      method: 'connection-test',
      confidence: 'ambiguous',
    });
  }
});

test('a second address in a later batch is not named, and the first name becomes likely (same key), which the listener hears', async () => {
  const {ingest, changed} = ingestWithProbe();
  await ingest.batch(batch([blocked(500, '52.1.2.3:443')]));
  await ingest.batch(batch([blocked(900, '52.9.9.9:443')]));
  const first = await store.getFinding('s3.example.com:443');
  expect(first?.attribution).toMatchObject({host: 's3.example.com', confidence: 'likely'});
  expect(first?.attribution.note).toContain('likely, not certain');
  expect((await store.getFinding('52.9.9.9:443'))?.attribution).toMatchObject({host: null, confidence: 'ambiguous'});
  expect(changed[1]).toContain('s3.example.com:443');
});

test('an address outside the window or on another port does not count against the one inside', async () => {
  const {ingest} = ingestWithProbe();
  await ingest.batch(batch([blocked(500, '52.1.2.3:443'), blocked(60_000, '52.9.9.9:443'), blocked(600, '52.8.8.8:8443')]));
  expect((await store.getFinding('s3.example.com:443'))?.attribution.confidence).toBe('certain');
});
