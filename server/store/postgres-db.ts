// The thin layer between the PostgreSQL store and `pg`: numbers, the NUL escape, and transactions.
//
// NUL: PostgreSQL text cannot hold U+0000, but the store's contract is that strings round-trip unchanged.
// Every string parameter is therefore escaped on the way in and every string column unescaped on the way
// out, with U+0001 as the escape character: U+0001 → U+0001 U+0001, U+0000 → U+0001 "0". The mapping is
// injective, so equality lookups and uniqueness (keys, source ids, meta keys) behave as on SQLite; only the
// sort position of strings holding U+0000/U+0001 differs. JSON text never holds either character raw
// (JSON.stringify escapes control characters), so JSON columns pass through untouched in practice.
import {Pool, types as pgTypes, type PoolClient, type PoolConfig} from 'pg';

const ESCAPABLE = /[\u0000\u0001]/;
const ESCAPED = /\u0001/;

export function escapeNul(s: string): string {
  if (!ESCAPABLE.test(s)) return s;
  return s.replace(/[\u0000\u0001]/g, (c) => (c === '\u0000' ? '\u00010' : '\u0001\u0001'));
}

export function unescapeNul(s: string): string {
  if (!ESCAPED.test(s)) return s;
  return s.replace(/\u0001([\s\S])/g, (_, c: string) => (c === '0' ? '\u0000' : c));
}

const INT8 = 20;
const NUMERIC = 1700;

/** BIGINT (epoch milliseconds, counts, ids) and SUM() results as numbers; they stay below 2^53. */
const TYPES: NonNullable<PoolConfig['types']> = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pgTypes.getTypeParser(oid, format as 'text')) as NonNullable<
    PoolConfig['types']
  >['getTypeParser'],
};

export function createPool(url: string, max = 5): Pool {
  return new Pool({connectionString: url, max, types: TYPES, idleTimeoutMillis: 30_000});
}

export function poolTypes(): NonNullable<PoolConfig['types']> {
  return TYPES;
}

/** `?` placeholders (query.ts's SQL, shared with SQLite) as $1, $2… */
export function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function encodeParam(p: unknown): unknown {
  if (typeof p === 'string') return escapeNul(p);
  return Array.isArray(p) ? p.map(encodeParam) : p;
}

function decodeRow<R>(row: Record<string, unknown>): R {
  for (const k of Object.keys(row)) {
    const v = row[k];
    if (typeof v === 'string') row[k] = unescapeNul(v);
  }
  return row as R;
}

/** One connection (a transaction's) or the pool, with the escape applied both ways. */
export class Db {
  constructor(private readonly q: Pool | PoolClient) {}

  async rows<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const r = await this.q.query(sql, params.map(encodeParam));
    return r.rows.map((row: Record<string, unknown>) => decodeRow<R>(row));
  }

  async one<R>(sql: string, params: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.rows<R>(sql, params))[0];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    const r = await this.q.query(sql, params.map(encodeParam));
    return r.rowCount ?? 0;
  }
}

/** Errors after which the whole transaction may simply run again. */
function retryable(e: unknown): boolean {
  const code = (e as {code?: unknown} | null)?.code;
  // serialization_failure, deadlock_detected, unique_violation (two writers inserting the same new row)
  return code === '40001' || code === '40P01' || code === '23505';
}

/** Runs fn in a READ COMMITTED transaction on its own connection, again (at most 5 times) after a conflict. */
export async function transaction<T>(pool: Pool, fn: (db: Db) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    // A connection cut while checked out (a server restart) is reported as an 'error' event as well as by
    // the query in flight; without a listener that event would end the process.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(new Db(client));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      if (attempt >= 5 || !retryable(e)) throw e;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}
