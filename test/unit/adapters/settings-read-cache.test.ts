import { describe, expect, it } from 'vitest';
import { ReadCache, settingsCacheTtlMs } from '../../../lambdas/adapters/settings-read-cache';

function fakeClock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function counting<V>(values: (V | undefined)[]) {
  let calls = 0;
  return {
    load: async () => values[Math.min(calls++, values.length - 1)],
    calls: () => calls,
  };
}

describe('ReadCache', () => {
  it('serves a loaded value until the TTL ends, then loads again', async () => {
    const clock = fakeClock();
    const cache = new ReadCache<{ n: number }>({ ttlMs: 1000, maxEntries: 10, now: clock.now });
    const source = counting([{ n: 1 }, { n: 2 }]);
    expect(await cache.read('a', source.load)).toEqual({ n: 1 });
    clock.advance(999);
    expect(await cache.read('a', source.load)).toEqual({ n: 1 });
    expect(source.calls()).toBe(1);
    clock.advance(1);
    expect(await cache.read('a', source.load)).toEqual({ n: 2 });
    expect(source.calls()).toBe(2);
  });

  it('never caches a miss: a key created after the miss is found at once', async () => {
    const cache = new ReadCache<string>({ ttlMs: 1000, maxEntries: 10, now: fakeClock().now });
    const source = counting<string>([undefined, 'merchant_1']);
    expect(await cache.read('key', source.load)).toBeUndefined();
    expect(await cache.read('key', source.load)).toBe('merchant_1');
    expect(source.calls()).toBe(2);
  });

  it('invalidate drops the entry, so the next read loads the written value', async () => {
    const cache = new ReadCache<number>({ ttlMs: 1000, maxEntries: 10, now: fakeClock().now });
    const source = counting([1, 2]);
    await cache.read('a', source.load);
    cache.invalidate('a');
    expect(await cache.read('a', source.load)).toBe(2);
  });

  it('a load in flight when the key is invalidated does not store its older value', async () => {
    const cache = new ReadCache<number>({ ttlMs: 1000, maxEntries: 10, now: fakeClock().now });
    let release!: (value: number) => void;
    const slow = cache.read('a', () => new Promise<number>((resolve) => (release = resolve)));
    cache.invalidate('a');
    release(1);
    expect(await slow).toBe(1);
    expect(await cache.read('a', async () => 2)).toBe(2);
  });

  it('put stores a written value (write-through) and peek sees it', async () => {
    const cache = new ReadCache<number>({ ttlMs: 1000, maxEntries: 10, now: fakeClock().now });
    await cache.read('a', async () => 1);
    cache.put('a', 5);
    expect(cache.peek('a')).toBe(5);
    expect(await cache.read('a', async () => 9)).toBe(5);
  });

  it('is bounded: the least recently used entry goes first', async () => {
    const cache = new ReadCache<string>({ ttlMs: 1000, maxEntries: 2, now: fakeClock().now });
    await cache.read('a', async () => 'A');
    await cache.read('b', async () => 'B');
    await cache.read('a', async () => 'not read'); // a is now the most recent
    await cache.read('c', async () => 'C');
    expect(cache.size).toBe(2);
    expect(cache.peek('b')).toBeUndefined();
    expect(await cache.read('a', async () => 'reloaded')).toBe('A');
  });

  it('hands out copies: changing an answer does not change the cache', async () => {
    const cache = new ReadCache<{ list: string[] }>({ ttlMs: 1000, maxEntries: 10, now: fakeClock().now });
    const first = await cache.read('a', async () => ({ list: ['x'] }));
    first!.list.push('changed');
    expect(await cache.read('a', async () => ({ list: ['reloaded'] }))).toEqual({ list: ['x'] });
  });

  it('with TTL 0 every read loads', async () => {
    const cache = new ReadCache<number>({ ttlMs: 0, maxEntries: 10, now: fakeClock().now });
    const source = counting([1, 2]);
    await cache.read('a', source.load);
    expect(await cache.read('a', source.load)).toBe(2);
    cache.put('a', 3);
    expect(cache.size).toBe(0);
  });
});

describe('settingsCacheTtlMs', () => {
  it('defaults to one second and reads PAYSTEP_SETTINGS_CACHE_TTL_MS', () => {
    expect(settingsCacheTtlMs({})).toBe(1000);
    expect(settingsCacheTtlMs({ PAYSTEP_SETTINGS_CACHE_TTL_MS: '0' })).toBe(0);
    expect(settingsCacheTtlMs({ PAYSTEP_SETTINGS_CACHE_TTL_MS: '250' })).toBe(250);
    expect(() => settingsCacheTtlMs({ PAYSTEP_SETTINGS_CACHE_TTL_MS: 'soon' })).toThrow(/whole number/);
  });
});
