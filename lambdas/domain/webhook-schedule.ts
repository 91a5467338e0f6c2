/**
 * When to attempt a webhook delivery again: the retry schedule from docs/design.md (immediately, 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), jitter so a merchant coming back up is not hit
 * by every queued delivery at once, and the receiver's `Retry-After` (bounded). Pure: the clock and
 * the random source are parameters.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delay before attempt n+1 (index n); attempt 1 is immediate. Ten attempts spread over ~3 days. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  0,
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  24 * HOUR,
]);

/** Each delay is moved by up to this fraction either way (5 min -> 4.5..5.5 min). */
export const DEFAULT_JITTER_RATIO = 0.1;

export interface RetrySchedule {
  /** delaysMs[i] = wait before attempt i+1; its length is the number of attempts. */
  readonly delaysMs: readonly number[];
  readonly jitterRatio: number;
  /** A receiver's Retry-After never pushes the next attempt further than this. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = Object.freeze({
  delaysMs: DEFAULT_RETRY_DELAYS_MS,
  jitterRatio: DEFAULT_JITTER_RATIO,
  maxRetryAfterMs: 24 * HOUR,
});

/**
 * The schedule from configuration: an explicit list of delays in ms (`0,200,400`) wins, else the
 * default schedule multiplied by `scale` (0.001 turns 24 h into 86.4 s). Retry-After is bounded by
 * the longest delay of the resulting schedule, so it compresses too.
 */
export function retryScheduleFromConfig(config: { delaysMs?: string | undefined; scale?: string | undefined }): RetrySchedule {
  let delays: number[];
  if (config.delaysMs !== undefined && config.delaysMs.trim() !== '') {
    delays = config.delaysMs.split(',').map((part) => Number(part.trim()));
    if (delays.length === 0 || delays.some((delay) => !Number.isSafeInteger(delay) || delay < 0)) {
      throw new Error(
        `The webhook retry schedule must be a comma-separated list of non-negative integers (ms), got "${config.delaysMs}"`,
      );
    }
  } else {
    const scale = config.scale === undefined || config.scale.trim() === '' ? 1 : Number(config.scale);
    if (!Number.isFinite(scale) || scale <= 0 || scale > 1)
      throw new Error(`The webhook schedule scale must be in (0, 1], got "${config.scale}"`);
    delays = DEFAULT_RETRY_DELAYS_MS.map((delay) => Math.round(delay * scale));
  }
  return { delaysMs: delays, jitterRatio: DEFAULT_JITTER_RATIO, maxRetryAfterMs: Math.max(...delays) };
}

/** `delayMs` moved uniformly within ±ratio (random() in [0, 1)); never negative, 0 stays 0. */
export function applyJitter(delayMs: number, ratio: number, random: () => number): number {
  if (delayMs <= 0) return 0;
  const spread = delayMs * ratio;
  return Math.max(0, Math.round(delayMs - spread + random() * 2 * spread));
}

/**
 * A `Retry-After` header in ms from `now`: delta-seconds (`120`) or an HTTP date. Undefined when
 * absent or unparsable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return Number.isSafeInteger(seconds * SECOND) ? seconds * SECOND : undefined;
  }
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

export type NextAttempt = { kind: 'retry'; at: Date; delayMs: number } | { kind: 'exhausted' };

/**
 * After `attemptsMade` failed attempts (1-based count, including the one that just failed): when
 * to try again, or `exhausted` when the schedule has no attempt left (then: dead letter). A
 * Retry-After can only push the attempt later, up to the bound, never earlier.
 */
export function planNextAttempt(input: {
  attemptsMade: number;
  schedule: RetrySchedule;
  now: Date;
  random: () => number;
  retryAfterMs?: number | undefined;
}): NextAttempt {
  const { attemptsMade, schedule } = input;
  if (attemptsMade >= schedule.delaysMs.length) return { kind: 'exhausted' };
  const scheduled = applyJitter(schedule.delaysMs[attemptsMade] ?? 0, schedule.jitterRatio, input.random);
  const requested = input.retryAfterMs === undefined ? 0 : Math.min(input.retryAfterMs, schedule.maxRetryAfterMs);
  const delayMs = Math.max(scheduled, requested);
  return { kind: 'retry', at: new Date(input.now.getTime() + delayMs), delayMs };
}
