/**
 * VoidAuthorization with port fakes (through the checkout's instrument): a no-op without an
 * authorization, one void keyed `<checkout>:void`, never a void (or refund) of captured money.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import type { FakeGateway, FakeMerchants } from '../../fakes';
import { input, sagaWorld } from './saga-fixture';
import { authorizePayment } from '../../../../lambdas/use-cases/saga/authorize-payment';
import { capturePayment } from '../../../../lambdas/use-cases/saga/capture-payment';
import { voidAuthorization } from '../../../../lambdas/use-cases/saga/void-authorization';

let merchants: FakeMerchants;
let gateway: FakeGateway;
let deps: SagaPorts;

beforeEach(async () => {
  ({ merchants, gateway, deps } = await sagaWorld());
});

describe('voidAuthorization', () => {
  it('is a no-op when nothing was authorized', async () => {
    expect(await voidAuthorization(deps, input)).toEqual({ voided: false, skipped: 'not_authorized' });
    expect(gateway.calls).toHaveLength(0);
  });

  it('voids once with <checkout>:void', async () => {
    await authorizePayment(deps, input);
    expect(await voidAuthorization(deps, input)).toEqual({ voided: true });
    expect(await voidAuthorization(deps, input)).toEqual({ voided: true });
    expect(gateway.calls.filter((c) => c.op === 'void')).toEqual([{ op: 'void', key: 'chk_1:void' }]);
  });

  it('never voids (or refunds) money already captured', async () => {
    await merchants.updateSettings('mer_1', { inventoryConfirmationEnabled: false });
    await authorizePayment(deps, input);
    await capturePayment(deps, input);
    expect(await voidAuthorization(deps, input)).toEqual({ voided: false, skipped: 'already_captured' });
    expect(gateway.calls.map((c) => c.op)).toEqual(['authorize', 'capture']);
  });
});
