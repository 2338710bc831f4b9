// Everything stored may come from an attacker's traffic or a careless caller: it must come back exactly as
// given (or made printable, for samples), never reach the SQL text, and stay within its bounds.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import {join} from 'node:path';
import {Client} from 'pg';
import {printable} from '../engine/hostname';
import {wellFormed} from './sanitize';
import {obs, removeDir, tempDir} from './testing/support';
import {STORE_KINDS, TestStoreHome, type StoreKind} from './testing/stores';
import type {Store} from './types';

// The property runs make hundreds of round trips to PostgreSQL each; on a loaded machine that outlasts jest's
// default 5 s per test without anything being wrong.
jest.setTimeout(60_000);

describe.each(STORE_KINDS)('%s store', (kind: StoreKind) => {
  const home = new TestStoreHome(kind);
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    dir = tempDir();
    await home.setUp();
    await home.reset(dir);
    store = await home.open();
  }, 30_000);
  afterAll(async () => {
    await store.close();
    await home.tearDown();
    removeDir(dir);
  }, 30_000);

  /** The tables as the database itself lists them, to prove no hostile string dropped one. */
  async function tableNames(): Promise<string[]> {
    if (kind === 'sqlite') {
      const raw = new Database(join(dir, 'store.db'), {readonly: true});
      try {
        return (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {name: string}[]).map((r) => r.name);
      } finally {
        raw.close();
      }
    }
    const c = new Client({connectionString: home.url});
    await c.connect();
    try {
      return (await c.query<{tablename: string}>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename);
    } finally {
      await c.end();
    }
  }

  const NASTY = [
    "'; DROP TABLE findings; --",
    '" OR 1=1 --',
    'a\u0000b',
    '\u0000',
    '',
    ' ',
    '\r\n\t\u001b[31mred\u001b[0m',
    '<script>alert(1)</script>',
    '[x](javascript:alert(1)) **bold** @channel',
    '\u202eevil.com',
    '😀 emoji and 𝕦𝕟𝕚𝕔𝕠𝕕𝕖',
    'é'.normalize('NFD'),
    '\\x41 \\u{1f600}',
    '{{template}} ${expr} %s %n',
    'x'.repeat(200),
    '?',
    '?1',
    ':name @name $name',
  ];

  // Any UTF-16 code unit, lone surrogates included.
  const anyUnits = fc.string({unit: fc.integer({min: 0, max: 0xffff}).map((c) => String.fromCharCode(c)), maxLength: 60});
  const wellFormedText = fc.string({unit: 'binary', maxLength: 60});

  describe('hostile strings', () => {
    it('round-trip unchanged as keys, reasons, user names, meta, resume points and outbox payloads', async () => {
      let i = 0;
      for (const s of NASTY) {
        i += 1;
        const key = `${s}|${i}`;
        await store.applyBatch({
          sourceId: `src ${s}`,
          from: null,
          position: `pos ${s}`,
          observations: [obs(key, 1, {pods: [s.slice(0, 200), `${s.slice(0, 200)}!`]})],
        });
        const f = await store.getFinding(key);
        expect(f).toMatchObject({key, pods: [s.slice(0, 200), `${s.slice(0, 200)}!`]});
        expect((await store.getResumePoint(`src ${s}`))?.position).toBe(`pos ${s}`);
        // User ids and names are bounded (128), as Mattermost's own are.
        const by = {userId: `id${s.slice(0, 100)}`, username: `name${s.slice(0, 100)}`};
        await store.ignore(key, by, s);
        expect((await store.listDecisions(key)).at(-1)).toMatchObject({by, reason: s});
        expect((await store.getFinding(key))?.ignored).toMatchObject({by, reason: s});
        await store.setMeta(`meta ${s}`, s);
        expect(await store.getMeta(`meta ${s}`)).toBe(s);
        const {id} = await store.enqueue({kind: 'notice', payload: {text: s, [s]: [s]}, dedupeKey: `dk ${s}`});
        expect((await store.getOutboxItem(id))?.payload).toEqual({text: s, [s]: [s]});
        expect((await store.getOutboxItem(id))?.dedupeKey).toBe(`dk ${s}`);
      }
      const names = await tableNames();
      expect(names).toEqual(expect.arrayContaining(['findings', 'outbox', 'decisions', 'meta', 'resume_points']));
    });

    it('round-trip any well-formed text (property)', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(wellFormedText, wellFormedText, async (a, b) => {
          run += 1;
          await store.setMeta(`p:${a}`, b);
          expect(await store.getMeta(`p:${a}`)).toBe(b);
          const key = `k${run}:${a}`;
          await store.applyBatch({sourceId: `s:${a}`, position: `q:${b}`, observations: [obs(key, 1, {pods: [b]})]});
          const f = await store.getFinding(key);
          expect(f?.pods).toContain(b);
          expect((await store.getResumePoint(`s:${a}`))?.position).toBe(`q:${b}`);
        }),
        {numRuns: 150},
      );
    });

    it('keep outbox payloads exactly, lone surrogates included (property)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), anyUnits, async (value, s) => {
          const payload = {value, s};
          const {id} = await store.enqueue({kind: 'notice', payload});
          expect((await store.getOutboxItem(id))?.payload).toEqual(JSON.parse(JSON.stringify(payload)));
          expect(((await store.getOutboxItem(id))?.payload as {s: string}).s).toBe(s);
        }),
        {numRuns: 150},
      );
    });

    it('replace lone surrogates in text columns, which UTF-8 cannot hold, and nothing else (property)', async () => {
      await fc.assert(
        fc.asyncProperty(anyUnits, async (s) => {
          await store.setMeta('lone', s);
          const back = await store.getMeta('lone');
          expect(back).toBe(wellFormed(s));
          expect(back?.length).toBe(s.length);
        }),
        {numRuns: 200},
      );
      expect(wellFormed('a\ud800b\udc00c\ud83d\ude00')).toBe('a\ufffdb\ufffdc\ud83d\ude00');
    });
  });

  describe('bounds and printable samples', () => {
    it('stores samples printable (no control characters), leaves already printable samples unchanged, and caps their size', async () => {
      const already = printable('[2024-05-01T10:00:00Z] "GET / HTTP/1.1" 502 - \u001b[2J <b>');
      await store.applyBatch({
        sourceId: 'samples',
        position: '1',
        observations: [obs('samples:1', 1, {samples: ['\u001b[2J<img src=x onerror=alert(1)>\r\n', already, 'y'.repeat(1_000_000)]})],
      });
      const f = await store.getFinding('samples:1');
      expect(f?.samples[0]).toBe(printable('\u001b[2J<img src=x onerror=alert(1)>\r\n', 2_000));
      expect(f?.samples[0]).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(f?.samples[1]).toBe(already);
      expect(f?.samples[2].length).toBeLessThanOrEqual(2_000);
    });

    it('cuts oversized traffic-derived values instead of refusing the batch', async () => {
      const huge = 'h'.repeat(100_000);
      const r = await store.applyBatch({
        sourceId: 'bounds',
        position: '1',
        observations: [
          obs(huge, 1, {
            pods: Array.from({length: 100}, (_, i) => `pod-${i}-${'p'.repeat(400)}`),
            samples: Array.from({length: 50}, (_, i) => `s${i}`),
            destination: {host: huge, ip: huge, port: 99_999},
            features: Array.from({length: 500}, (_, i) => ({id: `f${i}`, name: huge, configPath: 'X'})),
          }),
        ],
      });
      expect(r.newKeys).toHaveLength(1);
      const f = await store.getFinding(r.newKeys[0]);
      expect(f?.key.length).toBe(1_000);
      expect(f?.pods).toHaveLength(20);
      expect(f?.pods.every((p) => p.length <= 253)).toBe(true);
      expect(f?.samples).toHaveLength(5);
      expect(f?.features).toHaveLength(50);
      expect(f?.destination.port).toBe(0);
      expect(f?.destination.host?.length).toBe(1_000);
      // Looked up by the key it was given, as the caller knows it.
      expect((await store.getFinding(huge))?.key).toBe(f?.key);
    });

    it('finds a finding by a key with lone surrogates, as it was given', async () => {
      const key = 'x\ud800y:443';
      await store.applyBatch({sourceId: 'lone', position: '1', observations: [obs(key, 1)]});
      expect((await store.getFinding(key))?.key).toBe('x\ufffdy:443');
      expect((await store.ignore(key, {userId: 'u', username: 'n'}, 'r')).status).toBe('ignored');
    });

    it('never splits a surrogate pair when cutting', async () => {
      const r = await store.applyBatch({sourceId: 'cut', position: '1', observations: [obs(`${'k'.repeat(999)}😀tail`, 1)]});
      expect(r.newKeys[0]).toBe('k'.repeat(999));
    });

    it('refuses observations of the wrong shape, which are bugs rather than traffic', async () => {
      for (const bad of [{count: -1}, {count: 1.5}, {count: Number.NaN}, {key: ''}, {verdict: 'maybe'}, {protocol: 'UDP'}]) {
        await expect(store.applyBatch({sourceId: 'shape', position: 'x', observations: [obs('shape:1', 1, bad as never)]})).rejects.toThrow();
      }
      expect(await store.getResumePoint('shape')).toBeNull();
    });
  });
});
