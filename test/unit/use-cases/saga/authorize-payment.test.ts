/**
 * AuthorizePayment with port fakes (the production path, instrument ledger included): the key
 * `<checkout>:authorize`, the authorization as the checkout's instrument, no second PSP call on a
 * re-run, declines recorded and rethrown, transient errors left to the state machine.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import type { FakeCheckouts, FakeGateway, FakeMerchants } from '../../fakes';
import { input, sagaWorld } from './saga-fixture';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import { PaymentDeclinedError, PspUnavailableError } from '../../../../lambdas/errors';
import { authorizationOf } from '../../../../lambdas/domain/payment-attempt';

let checkouts: FakeCheckouts;
let merchants: FakeMerchants;
let gateway: FakeGateway;
let deps: SagaPorts;

beforeEach(async () => {
  ({ checkouts, merchants, gateway, deps } = await sagaWorld());
});

describe('authorizePayment', () => {
  it('authorizes the full amount with the key <checkout>:authorize and records the reference', async () => {
    const result = await authorizePayment(deps, input);
    expect(result).toEqual({ pspReference: 'auth_chk_1', authorizedAmount: 10050, inventoryConfirmationRequired: true });
    expect(gateway.calls).toEqual([{ op: 'authorize', key: 'chk_1:authorize', amount: 10050 }]);
    const stored = await checkouts.getCheckout('chk_1');
    expect(stored?.payment).toMatchObject({ inventoryConfirmation: 'pending' });
    expect(authorizationOf(stored?.payment)).toEqual({ pspReference: 'auth_chk_1', amount: 10050 });
    expect(checkouts.events.map((e) => e.type)).toEqual(['authorized']);
  });

  it('does not call the PSP again when run twice', async () => {
    await authorizePayment(deps, input);
    const again = await authorizePayment(deps, input);
    expect(again.pspReference).toBe('auth_chk_1');
    expect(gateway.calls).toHaveLength(1);
  });

  it('skips confirmation when the merchant has it disabled', async () => {
    await merchants.updateSettings('mer_1', { inventoryConfirmationEnabled: false });
    const result = await authorizePayment(deps, input);
    expect(result.inventoryConfirmationRequired).toBe(false);
    expect((await checkouts.getCheckout('chk_1'))?.payment?.inventoryConfirmation).toBe('not_required');
  });

  it('records and rethrows a decline', async () => {
    gateway.failNext.authorize = [new PaymentDeclinedError('card_declined')];
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(PaymentDeclinedError);
    expect(checkouts.events).toMatchObject([{ type: 'authorization_declined', data: { decline_code: 'card_declined' } }]);
    expect(authorizationOf((await checkouts.getCheckout('chk_1'))?.payment)).toBeUndefined();
  });

  it('lets transient PSP errors through for the state machine to retry', async () => {
    gateway.failNext.authorize = [new PspUnavailableError('503')];
    await expect(authorizePayment(deps, input)).rejects.toBeInstanceOf(PspUnavailableError);
    await authorizePayment(deps, input);
    expect(gateway.calls.map((c) => c.key)).toEqual(['chk_1:authorize', 'chk_1:authorize']);
  });
});

describe('authorizePayment on a later try (max_payment_attempts)', () => {
  it('authorizes with the try-scoped key <checkout>:t2:authorize, never replaying the declined try', async () => {
    // Prepare
    const stored = (await checkouts.getCheckout('chk_1'))!;
    await checkouts.updatePayment('chk_1', { ...stored.payment!, tries: 2 }, stored.version);
    // Act
    const result = await authorizePayment(deps, input);
    // Assess
    expect(result.pspReference).toBe('auth_chk_1');
    expect(gateway.calls).toEqual([{ op: 'authorize', key: 'chk_1:t2:authorize', amount: 10050 }]);
  });
});
