/**
 * The saga steps' unit-test world: in-memory fakes of every port a step uses, the instrument
 * ledger and the authorization holds included (they are mandatory: the steps run the production
 * path), a merchant with inventory confirmation on, and checkout `chk_1` in `processing`.
 */
import { DEFAULT_RETRY_SCHEDULE } from '../../../../lambdas/domain/webhook-schedule';
import type { CaptureAndNotifyPorts } from '../../../../lambdas/use-cases/saga/capture-payment';
import type { FailPaymentPorts } from '../../../../lambdas/use-cases/saga/fail-payment';
import type { SagaPorts } from '../../../../lambdas/use-cases/saga/shared';
import type { Checkout } from '../../../../lambdas/domain/model';
import { confirmBeforeCapture, type InventoryPhaseInput } from '../../../../lambdas/use-cases/saga/inventory-confirmation';
import { aPayment } from '../../../support/payments';
import {
  aCheckout,
  aMerchant,
  fakeCipher,
  FakeAuthorizationHolds,
  FakeCheckouts,
  FakeConfirmer,
  FakeEventStore,
  FakeGateway,
  FakeInstruments,
  FakeMerchants,
  FakeWebhookEndpoints,
  FakeWebhookSender,
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
  /** The terminal steps' ports: the saga's plus the webhook event store, one endpoint (`we_1`, every event) and its sender. */
  terminalDeps: CaptureAndNotifyPorts & FailPaymentPorts;
  events: FakeEventStore;
  sender: FakeWebhookSender;
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
  const events = new FakeEventStore();
  const sender = new FakeWebhookSender();
  const webhookEndpoints = new FakeWebhookEndpoints();
  await webhookEndpoints.createEndpoint({
    id: 'we_1',
    merchantId: 'mer_1',
    url: 'https://merchant.example/webhooks',
    enabledEvents: ['*'],
    secretCiphertext: 'enc(whsec_1)',
    status: 'enabled',
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const terminalDeps = {
    ...deps,
    events,
    webhookEndpoints,
    webhookSender: sender,
    schedule: DEFAULT_RETRY_SCHEDULE,
    random: () => 0.5,
  };
  return { checkouts, merchants, gateway, confirmer, instruments, holds, deps, terminalDeps, events, sender };
}

/**
 * The confirm phase of CapturePayment on its own (inventory-confirmation.ts), on the checkout as
 * stored: for tests that need the merchant's decision recorded before they look at the capture.
 */
export async function runConfirmPhase(
  deps: Pick<SagaPorts, 'checkouts' | 'merchants' | 'cipher' | 'confirmer'>,
  stepInput: InventoryPhaseInput & { checkoutId: string },
): Promise<Checkout> {
  const checkout = await deps.checkouts.getCheckout(stepInput.checkoutId);
  if (checkout === undefined) throw new Error(`no checkout ${stepInput.checkoutId}`);
  return confirmBeforeCapture(deps, checkout, stepInput);
}
