/**
 * A small per-container read-through cache for slowly changing settings items (merchant profiles,
 * API-key lookups, a merchant's webhook endpoints), so the hot path stops reading them from
 * DynamoDB on every request and saga step.
 *
 * Rules (README "Settings read cache"):
 * - an entry lives `ttlMs` (env PAYSTEP_SETTINGS_CACHE_TTL_MS, default 1000; 0 turns caching off),
 *   so a change made by another container reaches this one within about a second;
 * - misses are never cached (`undefined` from the loader is not stored): a new key, merchant or
 *   endpoint works at once;
 * - a write through the owning repository in this process calls `invalidate`, and a load that was
 *   already in flight when the entry was invalidated does not store its (possibly older) value;
 * - bounded: least recently used entries are dropped beyond `maxEntries`.
 * Hits return a structured clone, so a caller changing its copy cannot change the cached value.
 */

export const SETTINGS_CACHE_TTL_ENV = 'PAYSTEP_SETTINGS_CACHE_TTL_MS';
export const DEFAULT_SETTINGS_CACHE_TTL_MS = 1000;
export const DEFAULT_SETTINGS_CACHE_MAX_ENTRIES = 500;

export interface ReadCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** Milliseconds clock (tests pass a fake). */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class ReadCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Per key, bumped by invalidate: a load started under an older generation does not store. */
  private readonly generations = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: ReadCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached value of `key`, or the loader's; a defined loader result is stored for ttlMs. */
  async read(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    if (this.options.ttlMs <= 0) return await load();
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      if (hit.expiresAt > this.now()) {
        // Most recently used goes last (Map keeps insertion order).
        this.entries.delete(key);
        this.entries.set(key, hit);
        return structuredClone(hit.value);
      }
      this.entries.delete(key);
    }
    const generation = this.generations.get(key) ?? 0;
    const value = await load();
    if (value !== undefined && (this.generations.get(key) ?? 0) === generation) this.store(key, value);
    return value;
  }

  /** The cached value without touching recency or expiry bookkeeping (undefined when absent or expired). */
  peek(key: string): V | undefined {
    const hit = this.entries.get(key);
    return hit !== undefined && hit.expiresAt > this.now() ? hit.value : undefined;
  }

  /** Stores what a write in this process just wrote (write-through); loads already in flight do not overwrite it. */
  put(key: string, value: V): void {
    this.invalidate(key);
    if (this.options.ttlMs > 0) this.store(key, value);
  }

  /** Drops `key` (a write in this process changed it) and refuses stores from loads already in flight. */
  invalidate(key: string): void {
    this.entries.delete(key);
    if (this.options.ttlMs <= 0) return;
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    // Generations only matter while a load is in flight; keep the map as bounded as the entries.
    if (this.generations.size > this.options.maxEntries * 2) this.generations.clear();
  }

  clear(): void {
    this.entries.clear();
    this.generations.clear();
  }

  private store(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value: structuredClone(value), expiresAt: this.now() + this.options.ttlMs });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** The TTL from PAYSTEP_SETTINGS_CACHE_TTL_MS (milliseconds, default 1000, 0 = off). */
export function settingsCacheTtlMs(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env[SETTINGS_CACHE_TTL_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_SETTINGS_CACHE_TTL_MS;
  const parsed = Number(raw);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new Error(`${SETTINGS_CACHE_TTL_ENV} must be a whole number of milliseconds (0 turns the cache off), not "${raw}"`);
  }
  return parsed;
}

/** A cache with the process's settings TTL and the default bound. */
export function createSettingsCache<V>(): ReadCache<V> {
  return new ReadCache<V>({ ttlMs: settingsCacheTtlMs(), maxEntries: DEFAULT_SETTINGS_CACHE_MAX_ENTRIES });
}
