/**
 * The reconciliation sweep settling a checkout whose saga stopped while a 3-D Secure challenge
 * was decided (a host crash in `npm run chaos`): the PSP reports the authorization declined with
 * an authentication failure, so the checkout fails `authentication_failed` (as the saga would
 * have), not `payment_declined`; a plain decline stays `payment_declined`.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { runReconciliationSweep, type ReconciliationDependencies } from '../../../lambdas/use-cases/reconciliation';
import { declinedFailureReason } from '../../../lambdas/use-cases/three-d-secure';
import { aPayment } from '../../support/payments';
import { aCheckout, FakeCheckouts, FakeGateway } from '../fakes';
import { FakeRecovery, sweepDependencies } from './reconciliation-fixture';

let checkouts: FakeCheckouts;
let gateway: FakeGateway;
let recovery: FakeRecovery;
let deps: ReconciliationDependencies;

beforeEach(async () => {
  checkouts = new FakeCheckouts();
  gateway = new FakeGateway();
  recovery = new FakeRecovery();
  deps = await sweepDependencies({ checkouts, gateway, recovery });
});

/** A checkout stuck in processing with a pending authorization the PSP now reports declined with `failureCode`. */
async function stuckWithDeclinedChallenge(id: string, failureCode: string): Promise<void> {
  const pspReference = `pi_${id}`;
  gateway.authorizations.set(pspReference, {
    id: pspReference,
    state: 'declined',
    pspStatus: 'requires_payment_method',
    amount: 10050,
    currency: 'USD',
    reference: id,
    capturedAmount: 0,
    refundedAmount: 0,
    capturableAmount: 0,
    refundableAmount: 0,
    failureCode,
  });
  await checkouts.createCheckout(
    aCheckout({
      id,
      status: 'processing',
      updatedAt: '2026-03-01T12:00:00.000Z',
      payment: aPayment({ paymentToken: 'tok_1', connector: 'fake', pendingPspReference: pspReference }, { id }),
    }),
  );
  recovery.watches.set(id, '2026-03-01T12:00:00.000Z');
}

describe('reconciliation of a declined authorization', () => {
  it('fails a challenge the PSP reports failed as authentication_failed', async () => {
    // Prepare
    await stuckWithDeclinedChallenge('chk_auth', 'authentication_failed');
    // Act
    const report = await runReconciliationSweep(deps);
    // Assess
    expect(report.errors).toBe(0);
    expect(await checkouts.getCheckout('chk_auth')).toMatchObject({ status: 'failed', failureReason: 'authentication_failed' });
  });

  it('keeps payment_declined for a decline that is not about authentication', async () => {
    // Prepare
    await stuckWithDeclinedChallenge('chk_funds', 'insufficient_funds');
    // Act
    const report = await runReconciliationSweep(deps);
    // Assess
    expect(report.errors).toBe(0);
    expect(await checkouts.getCheckout('chk_funds')).toMatchObject({ status: 'failed', failureReason: 'payment_declined' });
  });
});

describe('declinedFailureReason', () => {
  it.each([
    [['authentication_failed'], 'authentication_failed'],
    [['insufficient_funds', 'authentication_required'], 'authentication_required'],
    [['insufficient_funds'], 'payment_declined'],
    [[undefined], 'payment_declined'],
    [[], 'payment_declined'],
  ] as const)('reads %j as %s', (codes, expected) => {
    // Act
    const reason = declinedFailureReason(codes);
    // Assess
    expect(reason).toBe(expected);
  });
});
