/**
 * importOnce, the loader of every `*-lazy.ts` wiring file: one import shared by concurrent and
 * later calls, and a failed import forgotten so the next call tries again.
 */
import { describe, expect, it, vi } from 'vitest';
import { importOnce } from '../../../lambdas/shared/import-once';

describe('importOnce', () => {
  it('runs the import once for concurrent and later calls and hands every caller the same module', async () => {
    // Prepare
    const module = { name: 'chunk' };
    const load = vi.fn(async () => module);
    const loaded = importOnce(load);
    // Act
    const [first, second] = await Promise.all([loaded(), loaded()]);
    const third = await loaded();
    // Assess
    expect(load).toHaveBeenCalledTimes(1);
    expect(first).toBe(module);
    expect(second).toBe(module);
    expect(third).toBe(module);
  });

  it('forgets a failed import, so the next call imports again instead of failing for good', async () => {
    // Prepare
    const module = { name: 'chunk' };
    const load = vi.fn<() => Promise<typeof module>>().mockRejectedValueOnce(new Error('ENOENT chunk')).mockResolvedValue(module);
    const loaded = importOnce(load);
    // Act
    const failure = await loaded().catch((error: unknown) => error);
    const retried = await loaded();
    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('ENOENT chunk');
    expect(retried).toBe(module);
    expect(load).toHaveBeenCalledTimes(2);
  });
});
