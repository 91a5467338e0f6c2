/**
 * The sweep leaves a checkout to another sweep whose live lease the watch list shows: the lease a
 * sweep of the previous version kept in its own watch item (RECOVERY#PROCESSING), which the claim
 * on the checkout item cannot see while both versions run during a deploy.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { runReconciliationSweep, type ReconciliationDependencies } from '../../../lambdas/use-cases/reconciliation';
import { aPayment } from '../../support/payments';
import { aCheckout, FakeCheckouts, FakeGateway } from '../fakes';
import { FakeRecovery, SWEEP_NOW, sweepDependencies } from './reconciliation-fixture';

let checkouts: FakeCheckouts;
let recovery: FakeRecovery;
let deps: ReconciliationDependencies;

beforeEach(async () => {
  checkouts = new FakeCheckouts();
  recovery = new FakeRecovery();
  deps = await sweepDependencies({ checkouts, gateway: new FakeGateway(), recovery });
});

/** A checkout stuck in processing since 12:00 (the sweep runs at 12:10, the bound is 60 s); nothing at the PSP. */
async function stuck(id: string): Promise<void> {
  await checkouts.createCheckout(
    aCheckout({
      id,
      status: 'processing',
      updatedAt: '2026-03-01T12:00:00.000Z',
      payment: aPayment({ paymentToken: 'tok_1', connector: 'fake' }, { id }),
    }),
  );
  recovery.watches.set(id, '2026-03-01T12:00:00.000Z');
}

describe("the sweep and another sweep's listed lease", () => {
  it('leaves a stuck checkout alone while another owner holds a live lease on it', async () => {
    // Prepare
    await stuck('chk_held');
    recovery.listedLeases.set('chk_held', {
      leaseUntil: new Date(SWEEP_NOW.getTime() + 30_000).toISOString(),
      leaseOwner: 'old-sweep',
    });
    // Act
    const report = await runReconciliationSweep(deps);
    // Assess
    expect(recovery.claims).toEqual([]);
    expect(report.recovered).toEqual([]);
    expect((await checkouts.getCheckout('chk_held'))?.status).toBe('processing');
  });

  it('takes over once that lease has expired, or when the lease is its own', async () => {
    // Prepare
    await stuck('chk_expired');
    await stuck('chk_own');
    recovery.listedLeases.set('chk_expired', {
      leaseUntil: new Date(SWEEP_NOW.getTime() - 1).toISOString(),
      leaseOwner: 'old-sweep',
    });
    recovery.listedLeases.set('chk_own', {
      leaseUntil: new Date(SWEEP_NOW.getTime() + 30_000).toISOString(),
      leaseOwner: deps.owner,
    });
    // Act
    const report = await runReconciliationSweep(deps);
    // Assess
    expect(recovery.claims).toEqual(['chk_expired', 'chk_own']);
    expect(report.recovered.map((entry) => entry.checkoutId)).toEqual(['chk_expired', 'chk_own']);
    expect((await checkouts.getCheckout('chk_expired'))?.status).toBe('failed');
  });
});
