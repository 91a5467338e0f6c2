/**
 * The webhook retry schedule: the delays of docs/design.md, compression by config, jitter bounds,
 * Retry-After parsing and bounding, and the dead-letter point after the last attempt.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyJitter,
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_RETRY_SCHEDULE,
  parseRetryAfter,
  planNextAttempt,
  retryScheduleFromConfig,
} from '../../../lambdas/domain/webhook-schedule';

const now = new Date('2026-03-01T12:00:00.000Z');

describe('retry schedule', () => {
  it('is the schedule of docs/design.md: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h', () => {
    const s = 1_000;
    const h = 3_600 * s;
    expect(DEFAULT_RETRY_DELAYS_MS).toEqual([0, 5 * s, 300 * s, 1_800 * s, 2 * h, 5 * h, 10 * h, 14 * h, 20 * h, 24 * h]);
  });

  it('compresses by a scale, or takes an explicit list that wins over the scale', () => {
    // Act
    const scaled = retryScheduleFromConfig({ scale: '0.001' });
    const explicit = retryScheduleFromConfig({ delaysMs: '0, 100,200', scale: '0.5' });
    // Assess
    expect(scaled.delaysMs).toEqual([0, 5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400]);
    expect(scaled.maxRetryAfterMs).toBe(86_400);
    expect(explicit.delaysMs).toEqual([0, 100, 200]);
    expect(retryScheduleFromConfig({}).delaysMs).toEqual(DEFAULT_RETRY_DELAYS_MS);
  });

  it.each([['-1'], ['1,x'], ['1.5']])('refuses the list %s at cold start', (delaysMs) => {
    expect(() => retryScheduleFromConfig({ delaysMs })).toThrow(/non-negative integers/);
  });

  it.each([['0'], ['2'], ['abc']])('refuses the scale %s', (scale) => {
    expect(() => retryScheduleFromConfig({ scale })).toThrow(/scale/);
  });
});

describe('applyJitter', () => {
  it('stays within ±10 % of the delay for any random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 86_400_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (delay, r) => {
          const jittered = applyJitter(delay, 0.1, () => r);
          expect(jittered).toBeGreaterThanOrEqual(Math.floor(delay * 0.9));
          expect(jittered).toBeLessThanOrEqual(Math.ceil(delay * 1.1));
        },
      ),
    );
  });

  it('keeps "immediately" immediate and spans the whole band', () => {
    expect(applyJitter(0, 0.1, () => 0.99)).toBe(0);
    expect(applyJitter(300_000, 0.1, () => 0)).toBe(270_000);
    expect(applyJitter(300_000, 0.1, () => 0.5)).toBe(300_000);
    expect(applyJitter(300_000, 0.1, () => 0.999_999)).toBe(330_000);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Sun, 01 Mar 2026 12:01:00 GMT', 60_000],
    ['Sun, 01 Mar 2026 11:00:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s -> %s ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe('planNextAttempt', () => {
  const noJitter = () => 0.5;

  it('schedules attempt n+1 after the n-th delay, from now', () => {
    expect(planNextAttempt({ attemptsMade: 1, schedule: DEFAULT_RETRY_SCHEDULE, now, random: noJitter })).toEqual({
      kind: 'retry',
      at: new Date(now.getTime() + 5_000),
      delayMs: 5_000,
    });
    expect(planNextAttempt({ attemptsMade: 9, schedule: DEFAULT_RETRY_SCHEDULE, now, random: noJitter })).toMatchObject({
      delayMs: 24 * 3_600_000,
    });
  });

  it('is exhausted after the tenth attempt (dead letter)', () => {
    expect(planNextAttempt({ attemptsMade: 10, schedule: DEFAULT_RETRY_SCHEDULE, now, random: noJitter })).toEqual({
      kind: 'exhausted',
    });
  });

  it('lets Retry-After push the attempt later, never earlier, and never past the bound', () => {
    const schedule = { ...DEFAULT_RETRY_SCHEDULE, maxRetryAfterMs: 3_600_000 };
    expect(planNextAttempt({ attemptsMade: 1, schedule, now, random: noJitter, retryAfterMs: 60_000 })).toMatchObject({
      delayMs: 60_000,
    });
    expect(planNextAttempt({ attemptsMade: 2, schedule, now, random: noJitter, retryAfterMs: 1_000 })).toMatchObject({
      delayMs: 300_000,
    });
    expect(planNextAttempt({ attemptsMade: 1, schedule, now, random: noJitter, retryAfterMs: 10 * 3_600_000 })).toMatchObject({
      delayMs: 3_600_000,
    });
  });
});
