/**
 * The operator's view per connector (attempts, authorization rate, failovers in the last hour),
 * pure. Counts come from per-connector, per-minute counter items that the checkout repository
 * bumps right after the conditional write that changes the attempt (lambdas/adapters/
 * dynamo-connector-stats.ts): a write that loses its condition counts nothing and a re-run that
 * changes no attempt counts nothing. This module says what a write counts (a diff of the attempt
 * lists before and after it) and how minute rows add up to a window.
 *
 * An attempt is counted once, by the write that gives it its first answer (it leaves the statuses
 * that await the PSP: authorized, failed, voided...), together with that answer: on the success
 * path the attempt and its authorization are one counter update (at authorization), not one at the
 * start and one at the answer. Failovers are counted when the next connector's attempt is appended.
 */
import { isAwaitingPsp, type PaymentAttempt } from './payment-attempt';

/** What one connector did in some stretch of time. */
export interface ConnectorCounts {
  /**
   * Attempts at the connector, counted when they got their first answer (authorized, failed,
   * voided...): an attempt still waiting for the PSP (or the buyer's 3-D Secure) is not in it yet.
   */
  attempts: number;
  /** Attempts the connector authorized (counted once, when the attempt first reaches `authorized`). */
  authorized: number;
  /** Attempts that ended `failed` there (declines, PSP errors, settled timeouts). */
  failed: number;
  /** Failed attempts there after which the payment moved on to another connector. */
  failoversOut: number;
  /** Attempts started there because an earlier connector failed in the same try. */
  failoversIn: number;
}

export const COUNTER_NAMES = [
  'attempts',
  'authorized',
  'failed',
  'failoversOut',
  'failoversIn',
] as const satisfies readonly (keyof ConnectorCounts)[];

export function zeroCounts(): ConnectorCounts {
  return { attempts: 0, authorized: 0, failed: 0, failoversOut: 0, failoversIn: 0 };
}

/** Minutes the operator view covers. */
export const STATS_WINDOW_MINUTES = 60;

/** The counter bucket a write at `at` falls in: the UTC minute, `YYYY-MM-DDTHH:MM`. */
export function minuteBucket(at: Date): string {
  return at.toISOString().slice(0, 16);
}

/** The first and last minute buckets of the window ending at `now` (both inclusive). */
export function windowBuckets(now: Date, minutes = STATS_WINDOW_MINUTES): { first: string; last: string } {
  return { first: minuteBucket(new Date(now.getTime() - (minutes - 1) * 60_000)), last: minuteBucket(now) };
}

/**
 * What a write of a checkout's attempt list counts, per connector: `before` is the stored list the
 * conditional write replaces, `after` the list it stores. `sameTry` says whether the write keeps
 * the checkout in the try that `before` belongs to (the checkout was already `processing`); an
 * attempt appended then after a failed one is a failover. A new try (the buyer paying again after
 * a decline, from `open`) is not.
 */
export function attemptCounterDeltas(
  before: readonly PaymentAttempt[],
  after: readonly PaymentAttempt[],
  sameTry: boolean,
): Map<string, ConnectorCounts> {
  const deltas = new Map<string, ConnectorCounts>();
  const bump = (connector: string, counter: keyof ConnectorCounts): void => {
    const counts = deltas.get(connector) ?? zeroCounts();
    counts[counter] += 1;
    deltas.set(connector, counts);
  };
  const previous = new Map(before.map((attempt) => [attempt.id, attempt]));
  after.forEach((attempt, index) => {
    const old = previous.get(attempt.id);
    if ((old === undefined || isAwaitingPsp(old.status)) && !isAwaitingPsp(attempt.status)) bump(attempt.connector, 'attempts');
    if (old === undefined) {
      const earlier = index > 0 ? after[index - 1] : undefined;
      if (sameTry && earlier !== undefined && earlier.status === 'failed' && earlier.connector !== attempt.connector) {
        bump(earlier.connector, 'failoversOut');
        bump(attempt.connector, 'failoversIn');
      }
    }
    if (attempt.authorizedAmount !== undefined && old?.authorizedAmount === undefined) bump(attempt.connector, 'authorized');
    if (attempt.status === 'failed' && old?.status !== 'failed') bump(attempt.connector, 'failed');
  });
  return deltas;
}

/** One connector's row in the operator view. */
export interface ConnectorStats extends ConnectorCounts {
  connector: string;
  /**
   * Authorized out of the attempts that got an answer (authorized + failed), in basis points
   * (8750 = 87.50 %), rounded down; null when none did. Integer, like every figure here.
   */
  authorizationRateBps: number | null;
}

/** Adds minute rows up per connector; every connector in `connectors` gets a row, zero if idle. */
export function summarizeConnectorStats(
  connectors: readonly string[],
  rows: readonly ({ connector: string } & Partial<ConnectorCounts>)[],
): ConnectorStats[] {
  const totals = new Map(connectors.map((connector) => [connector, zeroCounts()]));
  for (const row of rows) {
    const counts = totals.get(row.connector) ?? zeroCounts();
    for (const name of COUNTER_NAMES) counts[name] += row[name] ?? 0;
    totals.set(row.connector, counts);
  }
  return [...totals].map(([connector, counts]) => {
    const answered = counts.authorized + counts.failed;
    return {
      connector,
      ...counts,
      authorizationRateBps: answered === 0 ? null : Math.floor((counts.authorized * 10_000) / answered),
    };
  });
}
