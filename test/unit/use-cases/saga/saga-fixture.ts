/**
 * The saga steps' unit-test world: in-memory fakes of every port a step uses, the instrument
 * ledger and the authorization holds included (they are mandatory: the steps run the production
 * path), a merchant with inventory confirmation on, and checkout `chk_1` in `processing`.
 */
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import { aPayment } from '../../../support/payments';
import {
  aCheckout,
  aMerchant,
  fakeCipher,
  FakeAuthorizationHolds,
  FakeCheckouts,
  FakeConfirmer,
  FakeGateway,
  FakeInstruments,
  FakeMerchants,
  oneConnector,
} from '../../fakes';

export interface SagaWorld {
  checkouts: FakeCheckouts;
  merchants: FakeMerchants;
  gateway: FakeGateway;
  confirmer: FakeConfirmer;
  instruments: FakeInstruments;
  holds: FakeAuthorizationHolds;
  deps: SagaPorts;
}

export const input = { checkoutId: 'chk_1' };

export async function sagaWorld(): Promise<SagaWorld> {
  const checkouts = new FakeCheckouts();
  const merchants = new FakeMerchants();
  const gateway = new FakeGateway();
  const confirmer = new FakeConfirmer();
  const instruments = new FakeInstruments();
  const holds = new FakeAuthorizationHolds(instruments);
  const deps: SagaPorts = {
    checkouts,
    merchants,
    ...oneConnector(gateway),
    confirmer,
    cipher: fakeCipher,
    instruments,
    authorizationHolds: holds,
    renderCheckout: (c) => ({ id: c.id, status: c.status, merchant_order_ref: c.merchantOrderRef }),
  };
  await merchants.createMerchant(aMerchant());
  await checkouts.createCheckout(
    aCheckout({ status: 'processing', payment: aPayment({ paymentToken: 'tok_1', connector: 'fake' }) }),
  );
  return { checkouts, merchants, gateway, confirmer, instruments, holds, deps };
}
