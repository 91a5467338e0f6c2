/**
 * PaymentGateway for the `stripe` connector, on the official `stripe` SDK (its types check every
 * request built here). Authorization is a PaymentIntent created and confirmed in one call with
 * `capture_method=manual` and the checkout id in `metadata[reference]`; capture is
 * `amount_to_capture` (partial allowed, the rest is released); void is cancel; refunds are Refunds.
 * The SDK never retries (`maxNetworkRetries: 0`): Paystep's saga does, with the same per-step
 * Idempotency-Key, which Stripe replays. Errors are translated in errors.ts. Card data, when the
 * vault hands it over, goes only into `paymentMethods.create`; nothing here logs it.
 */
import Stripe from 'stripe';
import type { SensitiveCard } from '../../domain/payment-method';
import type {
  AuthorizeInput,
  AuthorizeOutput,
  CaptureInput,
  PaymentGateway,
  PspAuthorizationView,
  PspOperationOutput,
  RefundInput,
  VoidInput,
} from '../../ports/payments';
import { PspRejectedError } from '../../errors';
import { DEFAULT_STRIPE_TIMEOUT_MS } from './config';
import { translateStripeError } from './errors';
import { authenticationOf, networkTransactionIdOf, nextActionOf, toAuthorizationView } from './status';

export interface StripeGatewayOptions {
  /** `sk_live_...` / `sk_test_...` (the merchant's key on AWS; the sandbox's locally). */
  apiKey: string;
  /** Absent: https://api.stripe.com. Locally: the Stripe-protocol sandbox, e.g. http://127.0.0.1:3003. */
  baseUrl?: string;
  /** Per-call timeout; default 8000 ms, as the sandbox connector. */
  timeoutMs?: number;
  /** The SDK's HTTP client (default: Node's); unit tests hand it a fake fetch. */
  httpClient?: Stripe.HttpClient;
}

/**
 * What `authorize` takes: the port's input. A `token` source is a Stripe PaymentMethod id
 * (`pm_...` at Stripe); a `card` source (the vault's SensitiveCard) first becomes a PaymentMethod
 * (its own idempotency key, derived from the authorization's). Card-on-file facts: a stored card
 * paid by the buyer sets `setup_future_usage=off_session`; a merchant-initiated payment sets
 * `off_session` (Stripe sends the network transaction id). 3-D Secure: a buyer-present confirm
 * carries `return_url` (the hosted page), so a challenge comes back as `requires_action` with
 * `next_action.redirect_to_url`; a routing rule's `three_ds: required` asks
 * `payment_method_options[card][request_three_d_secure]=any`; off-session, a card that needs a
 * challenge is a card error `authentication_required`.
 */
export type StripeAuthorizeInput = AuthorizeInput;

export interface StripeAuthorizeOutput extends AuthorizeOutput {
  /** The card network's id for this authorization, when Stripe reports it. */
  networkTransactionId?: string;
}

/** The API version the connector is written against: the SDK's pinned version (its types match it). */
export const STRIPE_API_VERSION = '2026-10-28.endive' satisfies Stripe.LatestApiVersion;

/** SDK client options from a base URL: host, port and protocol (the SDK has no single URL option). */
export function stripeClientConfig(options: StripeGatewayOptions): Stripe.StripeConfig {
  const config: Stripe.StripeConfig = {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? DEFAULT_STRIPE_TIMEOUT_MS,
    telemetry: false,
    appInfo: { name: 'Paystep' },
    ...(options.httpClient !== undefined ? { httpClient: options.httpClient } : {}),
  };
  if (options.baseUrl !== undefined && options.baseUrl !== '') {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('The Stripe base URL must be http(s)');
    config.host = url.hostname.replace(/^\[|\]$/g, '');
    config.protocol = url.protocol === 'http:' ? 'http' : 'https';
    config.port = url.port !== '' ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  }
  return config;
}

export class StripeGateway implements PaymentGateway {
  readonly connector = 'stripe';
  /** The SDK client; the webhook reader shares it for `webhooks.constructEvent`. */
  readonly client: Stripe;

  constructor(options: StripeGatewayOptions) {
    this.client = new Stripe(options.apiKey, stripeClientConfig(options));
  }

  /** Creates and confirms a manual-capture PaymentIntent; `processing` is "result later by webhook". */
  async authorize(input: StripeAuthorizeInput): Promise<StripeAuthorizeOutput> {
    const { source } = input;
    const paymentMethod =
      source.type === 'token'
        ? source.token
        : await this.createPaymentMethod(source.card, `${input.idempotencyKey}:payment_method`);
    const cardOnFile = source.cardOnFile;
    const threeDSecure = input.threeDSecure;
    const offSession = cardOnFile?.initiator === 'merchant' || threeDSecure?.offSession === true;
    const params: Stripe.PaymentIntentCreateParams = {
      amount: input.amount,
      currency: input.currency.toLowerCase(),
      capture_method: 'manual',
      confirm: true,
      payment_method: paymentMethod,
      metadata: { reference: input.reference },
      expand: ['latest_charge'],
      ...(cardOnFile?.initiator === 'customer' && cardOnFile.stored ? { setup_future_usage: 'off_session' as const } : {}),
      ...(offSession ? { off_session: true } : {}),
      // Stripe accepts return_url only for a confirm with the buyer present.
      ...(!offSession && threeDSecure?.returnUrl !== undefined ? { return_url: threeDSecure.returnUrl } : {}),
      payment_method_options: {
        card: {
          // Instruments capture in parts (NewStore's tables); where Stripe offers multicapture, ask for it.
          request_multicapture: 'if_available',
          ...(threeDSecure?.required === true ? { request_three_d_secure: 'any' as const } : {}),
        },
      },
    };
    const intent = await this.call('authorize', () =>
      this.client.paymentIntents.create(params, { idempotencyKey: input.idempotencyKey }),
    );
    const networkTransactionId = networkTransactionIdOf(intent);
    const extra = networkTransactionId !== undefined ? { networkTransactionId } : {};
    if (intent.status === 'processing') return { pspReference: intent.id, authorizedAmount: 0, pending: true, ...extra };
    if (intent.status === 'requires_capture') {
      const authentication = authenticationOf(intent);
      return {
        pspReference: intent.id,
        authorizedAmount: intent.amount_capturable,
        ...extra,
        ...(authentication !== undefined ? { authentication } : {}),
      };
    }
    if (intent.status === 'requires_action') {
      // A 3-D Secure challenge: the buyer goes to the bank's page; the webhook reports the result.
      const nextAction = nextActionOf(intent);
      if (nextAction !== undefined) return { pspReference: intent.id, authorizedAmount: 0, nextAction, ...extra };
      throw new PspRejectedError(
        `Stripe PaymentIntent ${intent.id} asks for ${intent.next_action?.type ?? 'an undescribed'} action, not a redirect`,
      );
    }
    // Nothing else follows a confirm.
    throw new PspRejectedError(`Stripe PaymentIntent ${intent.id} is ${intent.status} after confirm`);
  }

  /**
   * Captures `amount` of the authorization. A final capture (the default) releases the rest; a
   * non-final one (`final: false`, an instrument's partial capture) is Stripe's multicapture
   * (`final_capture=false`), which keeps the rest capturable; Stripe refuses it where multicapture
   * is not available for the PaymentIntent.
   */
  async capture(input: CaptureInput): Promise<PspOperationOutput> {
    const params: Stripe.PaymentIntentCaptureParams = {
      amount_to_capture: input.amount,
      expand: ['latest_charge'],
      ...(input.final === false ? { final_capture: false } : {}),
    };
    const intent = await this.call('capture', () =>
      this.client.paymentIntents.capture(input.pspReference, params, { idempotencyKey: input.idempotencyKey }),
    );
    // amount_received sums every capture so far; a non-final capture reports its own part.
    return {
      pspOperationId: captureIdOf(intent, input.amount),
      amount: input.final === false ? input.amount : intent.amount_received,
    };
  }

  /**
   * Cancels the authorization; `amount` is what was released. A PaymentIntent canceled before it
   * was ever authorized (an abandoned 3-D Secure challenge: no charge) released nothing.
   */
  async voidAuthorization(input: VoidInput): Promise<PspOperationOutput> {
    const params: Stripe.PaymentIntentCancelParams = { cancellation_reason: 'abandoned' };
    const intent = await this.call('void', () =>
      this.client.paymentIntents.cancel(input.pspReference, params, { idempotencyKey: input.idempotencyKey }),
    );
    const released = intent.latest_charge === null ? 0 : intent.amount - intent.amount_received;
    // Not the PaymentIntent's id alone: that is the authorization's, and each operation's id is its own.
    return { pspOperationId: `${intent.id}:canceled`, amount: released };
  }

  /** Refunds up to what was captured and not yet refunded. */
  async refund(input: RefundInput): Promise<PspOperationOutput> {
    const params: Stripe.RefundCreateParams = {
      payment_intent: input.pspReference,
      amount: input.amount,
      metadata: { reference: input.reference },
    };
    const refund = await this.call('refund', () => this.client.refunds.create(params, { idempotencyKey: input.idempotencyKey }));
    return { pspOperationId: refund.id, amount: refund.amount };
  }

  /** The PaymentIntent's amounts (refunds read from its expanded charge). */
  async getAuthorization(pspReference: string): Promise<PspAuthorizationView> {
    const intent = await this.call('get authorization', () =>
      this.client.paymentIntents.retrieve(pspReference, { expand: ['latest_charge'] }),
    );
    return toAuthorizationView(intent);
  }

  /**
   * The PaymentIntents filed under our reference, via the Search API. On real Stripe, search is
   * eventually consistent (new PaymentIntents can take up to a minute to appear), so recovery must
   * not read an empty answer for a fresh attempt as "never authorized" before that delay.
   */
  async findAuthorizations(reference: string): Promise<PspAuthorizationView[]> {
    const query = `metadata['reference']:'${reference.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const result = await this.call('find authorizations', () =>
      this.client.paymentIntents.search({ query, limit: 100, expand: ['data.latest_charge'] }),
    );
    return result.data.map(toAuthorizationView);
  }

  /** A PaymentMethod from card data (the vault's), so the PaymentIntent refers to it by id. */
  async createPaymentMethod(card: SensitiveCard, idempotencyKey: string): Promise<string> {
    const cvc = card.revealCvc();
    const params: Stripe.PaymentMethodCreateParams = {
      type: 'card',
      card: {
        number: card.revealNumber(),
        exp_month: card.expMonth,
        exp_year: card.expYear,
        ...(cvc !== undefined ? { cvc } : {}),
      },
    };
    const method = await this.call('create payment method', () => this.client.paymentMethods.create(params, { idempotencyKey }));
    return method.id;
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw translateStripeError(error, operation);
    }
  }
}

/**
 * One id per capture: the charge's id for the first capture; a multicapture's later captures share
 * that charge, so theirs add the running amount received (strictly increasing, and the same on a
 * replay of the same request).
 */
function captureIdOf(intent: Stripe.PaymentIntent, amount: number): string {
  const charge = chargeIdOf(intent);
  return intent.amount_received === amount ? charge : `${charge}:captured:${intent.amount_received}`;
}

function chargeIdOf(intent: Stripe.PaymentIntent): string {
  const charge = intent.latest_charge;
  if (typeof charge === 'string') return charge;
  return charge?.id ?? intent.id;
}
