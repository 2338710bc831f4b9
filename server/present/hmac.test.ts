import fc from 'fast-check';

import {CONTEXT_TTL_MS, expiryFor, sealContext, signContext, verifyContext, type ContextValue} from './hmac';
import {KEY, NOW} from './testing';

const OTHER_KEY = Buffer.from('fedcba9876543210fedcba9876543210', 'utf8');
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const fieldName = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/).filter((n) => n !== 'exp' && n !== 'sig');
const fieldValue: fc.Arbitrary<ContextValue> = fc.oneof(fc.string({maxLength: 40}), fc.array(fc.string({maxLength: 20}), {maxLength: 5}));
const fieldsArb = fc.dictionary(fieldName, fieldValue, {minKeys: 0, maxKeys: 8});

function sealed(fields: Record<string, ContextValue> = {action: 'ignore', key: 's3.amazonaws.com:443', digest_id: 'd1'}) {
  return sealContext(KEY, fields, NOW);
}

describe('sign and verify', () => {
  test('round trip, also through JSON as Mattermost hands the context back', () => {
    const ctx = sealed();
    expect(ctx.exp).toBe(String(Math.floor((NOW.getTime() + CONTEXT_TTL_MS) / 1000)));
    expect(ctx.sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const v = verifyContext(KEY, JSON.parse(JSON.stringify(ctx)), NOW);
    expect(v).toEqual({ok: true, fields: {action: 'ignore', key: 's3.amazonaws.com:443', digest_id: 'd1', exp: ctx.exp}});
  });

  test('field order does not matter; signContext equals what sealContext put in', () => {
    const ctx = sealed();
    const reordered = Object.fromEntries(Object.entries(ctx).reverse());
    expect(verifyContext(KEY, reordered, NOW).ok).toBe(true);
    const {sig, ...fields} = ctx;
    expect(signContext(KEY, fields)).toBe(sig);
  });

  test('property: any fields round-trip', () => {
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        const ctx = sealContext(KEY, fields, NOW);
        const v = verifyContext(KEY, JSON.parse(JSON.stringify(ctx)), NOW);
        expect(v.ok).toBe(true);
      }),
    );
  });

  test('property: changing, adding or removing any field fails', () => {
    fc.assert(
      fc.property(fieldsArb, fieldName, fieldValue, fc.nat(), (fields, extraName, extraValue, pick) => {
        const ctx = sealContext(KEY, fields, NOW);
        const names = Object.keys(ctx).filter((n) => n !== 'sig');
        const name = names[pick % names.length];
        const changed: Record<string, ContextValue> = {...ctx};
        const old = changed[name];
        changed[name] = typeof old === 'string' ? `${old}x` : [...old, 'x'];
        expect(verifyContext(KEY, changed, NOW)).toEqual({ok: false, reason: name === 'exp' ? 'malformed' : 'bad-signature'});
        if (name === 'exp') {
          const later = {...ctx, exp: String(Number(ctx.exp) + 1)};
          expect(verifyContext(KEY, later, NOW)).toEqual({ok: false, reason: 'bad-signature'});
        }

        if (!(extraName in ctx)) {
          expect(verifyContext(KEY, {...ctx, [extraName]: extraValue}, NOW)).toEqual({ok: false, reason: 'bad-signature'});
        }
        const removable = names.filter((n) => n !== 'exp');
        if (removable.length > 0) {
          const without: Record<string, ContextValue> = {...ctx};
          delete without[removable[pick % removable.length]];
          expect(verifyContext(KEY, without, NOW)).toEqual({ok: false, reason: 'bad-signature'});
        }
      }),
    );
  });

  test('every changed signature character fails (no two spellings of one MAC)', () => {
    const ctx = sealed();
    for (let i = 0; i < ctx.sig.length; i++) {
      for (const c of B64URL) {
        if (c === ctx.sig[i]) continue;
        const sig = `${ctx.sig.slice(0, i)}${c}${ctx.sig.slice(i + 1)}`;
        expect(verifyContext(KEY, {...ctx, sig}, NOW)).toEqual({ok: false, reason: 'bad-signature'});
      }
    }
  });

  test('a string and a one-element list, or a joined list, sign differently', () => {
    const exp = expiryFor(NOW);
    expect(signContext(KEY, {a: 'b', exp})).not.toBe(signContext(KEY, {a: ['b'], exp}));
    expect(signContext(KEY, {a: ['x', 'y'], exp})).not.toBe(signContext(KEY, {a: ['x,y'], exp}));
    expect(signContext(KEY, {a: 'x', b: 'y', exp})).not.toBe(signContext(KEY, {a: 'x","b', exp}));
  });

  test('wrong key fails', () => {
    expect(verifyContext(OTHER_KEY, sealed(), NOW)).toEqual({ok: false, reason: 'bad-signature'});
  });

  test('expiry: valid until the second it ends, then expired', () => {
    const ctx = sealed();
    const end = Number(ctx.exp) * 1000;
    expect(verifyContext(KEY, ctx, new Date(end - 1)).ok).toBe(true);
    expect(verifyContext(KEY, ctx, new Date(end))).toEqual({ok: false, reason: 'expired'});
    expect(verifyContext(KEY, ctx, new Date(end + 365 * 86400_000))).toEqual({ok: false, reason: 'expired'});
  });

  test('an expired context with a bad signature reports the signature, nothing about time', () => {
    const ctx = {...sealed(), sig: 'A'.repeat(43)};
    expect(verifyContext(KEY, ctx, new Date(NOW.getTime() + 365 * 86400_000))).toEqual({ok: false, reason: 'bad-signature'});
  });

  test('malformed input is refused', () => {
    const good = sealed();
    const cases: Array<[unknown, string]> = [
      [null, 'malformed'],
      [undefined, 'malformed'],
      ['a string', 'malformed'],
      [42, 'malformed'],
      [[good], 'malformed'],
      [{...good, sig: 5}, 'malformed'],
      [{...good, sig: 'short'}, 'malformed'],
      [{...good, sig: `${good.sig}=`}, 'malformed'],
      [{...good, sig: `${good.sig.slice(0, 42)}+`}, 'malformed'],
      [{...good, exp: Number(good.exp)}, 'malformed'],
      [{...good, exp: '0'}, 'malformed'],
      [{...good, exp: '1e12'}, 'malformed'],
      [{...good, exp: ' 1'}, 'malformed'],
      [{...good, key: {nested: 'x'}}, 'malformed'],
      [{...good, key: 12}, 'malformed'],
      [{...good, key: ['a', 1]}, 'malformed'],
      [{...good, key: null}, 'malformed'],
      [{...good, Key: 'x'}, 'malformed'],
      [{...good, 'a-b': 'x'}, 'malformed'],
      [{...good, key: 'x'.repeat(5000)}, 'malformed'],
      [{...good, keys: Array.from({length: 500}, () => 'k')}, 'malformed'],
      [{...good, ...Object.fromEntries(Array.from({length: 20}, (_, i) => [`f${i}`, 'x']))}, 'malformed'],
      [JSON.parse(`{"__proto__": {"x": "y"}, "exp": "${good.exp}", "sig": "${good.sig}"}`), 'malformed'],
      [Object.assign(Object.create({inherited: 'x'}), good), 'malformed'],
      [{action: 'ignore', exp: good.exp}, 'missing-signature'],
      [{action: 'ignore', sig: good.sig}, 'missing-expiry'],
      [{}, 'missing-signature'],
    ];
    for (const [ctx, reason] of cases) expect(verifyContext(KEY, ctx, NOW)).toEqual({ok: false, reason});
  });

  test('property: arbitrary JSON is never accepted', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(verifyContext(KEY, v, NOW).ok).toBe(false);
      }),
    );
  });

  test('signing refuses what verification would refuse, and short keys', () => {
    const exp = expiryFor(NOW);
    expect(() => signContext(Buffer.alloc(16), {exp})).toThrow(/at least 32 bytes/);
    expect(() => verifyContext(Buffer.alloc(0), sealed(), NOW)).toThrow(/at least 32 bytes/);
    expect(() => signContext(KEY, {a: 'x'})).toThrow(/expiry/);
    expect(() => signContext(KEY, {exp, sig: 'x'})).toThrow(/signature/);
    expect(() => signContext(KEY, {exp, 'Bad-Name': 'x'})).toThrow(/cannot be signed/);
    expect(() => signContext(KEY, {exp, a: 'x'.repeat(2000)})).toThrow(/cannot be signed/);
  });
});
