import { describe, expect, it } from 'vitest';
import {
  attemptCounterDeltas,
  minuteBucket,
  summarizeConnectorStats,
  windowBuckets,
  zeroCounts,
} from '../../../lambdas/domain/connector-stats';
import { newAttempt, type PaymentAttempt } from '../../../lambdas/domain/payment-attempt';

const AT = '2026-11-30T20:00:00.000Z';

function attempt(id: string, connector: string, overrides: Partial<PaymentAttempt> = {}): PaymentAttempt {
  return { ...newAttempt({ id, connector, amount: 1000, currency: 'USD', at: AT }), ...overrides };
}

describe('attemptCounterDeltas', () => {
  it('counts nothing for an attempt that starts and still awaits the PSP', () => {
    // Prepare
    const started = [attempt('att_1', 'sandbox')];
    const pending = [attempt('att_1', 'sandbox', { status: 'authorization_pending', pspReference: 'psp_1' })];
    const challenged = [attempt('att_1', 'sandbox', { status: 'requires_action', pspReference: 'psp_1' })];
    // Act
    const onStart = attemptCounterDeltas([], started, false);
    const onPending = attemptCounterDeltas(started, pending, true);
    const onChallenge = attemptCounterDeltas(pending, challenged, true);
    // Assess
    expect(onStart.size).toBe(0);
    expect(onPending.size).toBe(0);
    expect(onChallenge.size).toBe(0);
  });

  it('counts the attempt and its authorization together, when the attempt first holds an authorized amount, not again on capture', () => {
    // Prepare
    const authorizing = attempt('att_1', 'stripe');
    const authorized = { ...authorizing, status: 'authorized' as const, pspReference: 'pi_1', authorizedAmount: 1000 };
    const captured = { ...authorized, status: 'captured' as const };
    // Act
    const onAuthorize = attemptCounterDeltas([authorizing], [authorized], true);
    const onCapture = attemptCounterDeltas([authorized], [captured], true);
    // Assess
    expect([...onAuthorize]).toEqual([['stripe', { ...zeroCounts(), attempts: 1, authorized: 1 }]]);
    expect(onCapture.size).toBe(0);
  });

  it('counts an attempt that is stored already answered, or voided before any answer, once', () => {
    // Prepare
    const declinedAtOnce = attempt('att_1', 'sandbox', { status: 'failed', failureCode: 'do_not_honor' });
    const authorizing = attempt('att_2', 'stripe');
    const voided = { ...authorizing, status: 'voided' as const };
    // Act
    const stored = attemptCounterDeltas([], [declinedAtOnce], false);
    const onVoid = attemptCounterDeltas([authorizing], [voided], true);
    // Assess
    expect(stored.get('sandbox')).toEqual({ ...zeroCounts(), attempts: 1, failed: 1 });
    expect(onVoid.get('stripe')).toEqual({ ...zeroCounts(), attempts: 1 });
  });

  it('counts a failover out of the failed connector and into the next one within the same try, when the next attempt is appended', () => {
    // Prepare
    const failed = attempt('att_1', 'sandbox', { status: 'failed', failureCode: 'psp_error' });
    const next = attempt('att_2', 'stripe');
    // Act
    const deltas = attemptCounterDeltas([failed], [failed, next], true);
    // Assess
    expect(deltas.get('sandbox')).toEqual({ ...zeroCounts(), failoversOut: 1 });
    expect(deltas.get('stripe')).toEqual({ ...zeroCounts(), failoversIn: 1 });
  });

  it('does not count a new try by the buyer after a decline as a failover', () => {
    // Prepare
    const declined = attempt('att_1', 'sandbox', { status: 'failed', failureCode: 'do_not_honor' });
    const retry = attempt('att_2', 'stripe');
    // Act
    const deltas = attemptCounterDeltas([declined], [declined, retry], false);
    // Assess
    expect(deltas.size).toBe(0);
  });

  it('counts a failure once and nothing for a write that leaves the attempts as they were', () => {
    // Prepare
    const pending = attempt('att_1', 'sandbox', { status: 'outcome_unknown' });
    const failed = { ...pending, status: 'failed' as const, failureCode: 'psp_error' };
    // Act
    const onFail = attemptCounterDeltas([pending], [failed], true);
    const rerun = attemptCounterDeltas([failed], [failed], true);
    // Assess
    expect(onFail.get('sandbox')).toEqual({ ...zeroCounts(), attempts: 1, failed: 1 });
    expect(rerun.size).toBe(0);
  });
});

describe('summarizeConnectorStats', () => {
  it('adds minute rows per connector and gives the authorization rate in basis points, rounded down', () => {
    // Prepare
    const rows = [
      { connector: 'sandbox', attempts: 2, authorized: 1, failed: 1 },
      { connector: 'sandbox', attempts: 1, authorized: 1, failoversOut: 1 },
      { connector: 'stripe', attempts: 1, failoversIn: 1 },
    ];
    // Act
    const stats = summarizeConnectorStats(['sandbox', 'stripe', 'idle'], rows);
    // Assess
    expect(stats).toEqual([
      {
        connector: 'sandbox',
        attempts: 3,
        authorized: 2,
        failed: 1,
        failoversOut: 1,
        failoversIn: 0,
        authorizationRateBps: 6666,
      },
      { connector: 'stripe', attempts: 1, authorized: 0, failed: 0, failoversOut: 0, failoversIn: 1, authorizationRateBps: null },
      { connector: 'idle', ...zeroCounts(), authorizationRateBps: null },
    ]);
  });
});

describe('window buckets', () => {
  it('covers the 60 UTC minutes ending with the current one', () => {
    // Act
    const window = windowBuckets(new Date('2026-11-30T20:15:42.123Z'));
    // Assess
    expect(window).toEqual({ first: '2026-11-30T19:16', last: '2026-11-30T20:15' });
    expect(minuteBucket(new Date('2026-11-30T20:15:59.999Z'))).toBe('2026-11-30T20:15');
  });
});
