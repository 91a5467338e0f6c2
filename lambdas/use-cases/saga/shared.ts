/**
 * What every saga step shares: the saga's ports (one name per port; each step takes only the ones
 * it uses, `Pick<SagaPorts, ...>`), the step input, the PSP idempotency key, loading the checkout
 * and recording an attempt transition. Each step (one file per ASL Task state in this folder)
 * reads: load -> decide (lambdas/domain/payment-attempt.ts) -> call one port -> record.
 */
import type { AuthorizationPolicy } from '../../domain/authorization-hold';
import type { Checkout, CheckoutPayment } from '../../domain/model';
import { recordAttemptEvent, type AttemptEvent } from '../../domain/payment-attempt';
import { tryScopedKey } from '../../domain/payment-tries';
import { NotFoundError, PaymentNotStartedError, RecoveryTakeoverError } from '../../errors';
import type { AuthorizationHoldStore } from '../../ports/authorization-holds';
import type { CheckoutRepository } from '../../ports/checkouts';
import type { InstrumentRepository } from '../../ports/instruments';
import type { InventoryConfirmer } from '../../ports/inventory';
import type { MerchantRepository } from '../../ports/merchants';
import type { ConnectorGateways, PaymentGateway } from '../../ports/payments';
import type { RecoveryStore } from '../../ports/recovery';
import type { SecretCipher } from '../../ports/secrets';
import type { RenderCheckout } from '../payment-ledger';
import type { ThreeDSecureSettings } from '../three-d-secure';

/** Every port a saga step may use. The instrument ledger is mandatory: it is where the money lives. */
export interface SagaPorts extends ThreeDSecureSettings {
  checkouts: CheckoutRepository;
  merchants: MerchantRepository;
  gateway: PaymentGateway;
  /** Every connector's gateway (the registry's): each call goes to its attempt's connector. */
  gateways: ConnectorGateways;
  confirmer: InventoryConfirmer;
  cipher: SecretCipher;
  /** Each authorization becomes an instrument linked to the checkout; capture and void move its balances. */
  instruments: InstrumentRepository;
  /** Manual capture: the expiry watch written with the hand-over (lambdas/domain/authorization-hold.ts). */
  authorizationHolds: AuthorizationHoldStore;
  /** How long a held authorization lasts and when the merchant is warned; default 7 days / 24 h. */
  authorizationPolicy?: AuthorizationPolicy;
  /** Renders the checkout as the API shows it; the result webhook's `data.object` (notifyMerchant). */
  renderCheckout: RenderCheckout;
  /** The watch the terminal write left for this checkout; notifyMerchant drops it once the result events are stored. */
  outcomeWatch?: Pick<RecoveryStore, 'forgetCheckout'>;
}

export interface StepInput {
  checkoutId: string;
}

/**
 * The PSP idempotency key for one saga step of one try of one checkout: stable across every
 * retry; `<checkout>:<step>` for the first try (lambdas/domain/payment-tries.ts).
 */
export function pspIdempotencyKey(checkoutId: string, step: 'authorize' | 'capture' | 'void', tryNumber = 1): string {
  return tryScopedKey(checkoutId, tryNumber, step);
}

/** The checkout, or NotFoundError: every step starts from the stored truth. */
export async function loadCheckout(
  deps: { checkouts: Pick<CheckoutRepository, 'getCheckout'> },
  checkoutId: string,
): Promise<Checkout> {
  const checkout = await deps.checkouts.getCheckout(checkoutId);
  if (!checkout) throw new NotFoundError(`Checkout ${checkoutId} does not exist`);
  return checkout;
}

/** The checkout's payment, or PaymentNotStartedError. */
export function requirePayment(checkout: Checkout): CheckoutPayment {
  if (!checkout.payment) throw new PaymentNotStartedError(`Checkout ${checkout.id} has no payment to process`);
  return checkout.payment;
}

/** Throws when the reconciliation sweep took the checkout over: a late saga step must not act. */
export function assertNotRecovered(checkout: Checkout): void {
  if (checkout.payment?.recoveredBy !== undefined) {
    throw new RecoveryTakeoverError(`Checkout ${checkout.id} was taken over by recovery (${checkout.payment.recoveredBy})`);
  }
}

/**
 * Moves the current attempt by `event` and stores it (with `timeline` when given); writes nothing
 * when the attempt already stands there (a re-run) or the machine refuses the move.
 */
export async function recordAttempt(
  deps: Pick<SagaPorts, 'checkouts'>,
  checkout: Checkout,
  payment: CheckoutPayment,
  event: AttemptEvent,
  timeline?: Parameters<CheckoutRepository['updatePayment']>[3],
): Promise<void> {
  const { payment: next, transition } = recordAttemptEvent(payment, event, new Date().toISOString());
  if (transition.kind !== 'moved') return;
  await deps.checkouts.updatePayment(checkout.id, next, checkout.version, timeline, checkout);
}
