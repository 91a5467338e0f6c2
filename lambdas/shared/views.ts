/**
 * The API's snake_case views of Paystep records. Every response body is built here, so field
 * names and null conventions stay identical across endpoints: optional fields are `null`, not
 * absent; secrets appear only in the one response that creates them.
 */
import type {
  Checkout,
  CheckoutEvent,
  CheckoutItem,
  CheckoutPayment,
  CheckoutStatus,
  Merchant,
  MerchantSettings,
} from '../domain/model';
import { DEFAULT_EXPIRED_AUTHORIZATION_ACTION, paymentBalances, type CaptureMethod } from '../domain/authorization-hold';
import { instrumentTransactions } from '../domain/instrument-ledger';
import { authorizationOf, connectorOf, isVoided, openChallengeOf, type PaymentAttempt } from '../domain/payment-attempt';
import { maxTriesOf } from '../domain/payment-tries';
import { toNextActionView } from '../domain/three-d-secure';
import type { FinancialInstrument, InstrumentTransaction } from '../domain/instrument-model';
import type { WebhookEndpoint } from '../domain/webhook-endpoint';
import type { EventWithDeliveries } from '../ports/events';
import { LATEST_API_VERSION } from '../domain/api-version';
import type { ConnectorStatsOutput } from '../use-cases/operator/get-connector-stats';

export interface SettingsView {
  object: 'settings';
  inventory_confirmation_url: string | null;
  inventory_confirmation_enabled: boolean;
  default_success_url: string | null;
  default_failure_url: string | null;
  /** Manual capture: what happens to a held authorization at expiry (`void` or `capture`). */
  expired_authorization_action: 'void' | 'capture';
  /** Ports the merchant's URLs may use besides 443 and 80 outside local mode. */
  allowed_ports: number[];
}

/** GET/PUT /v1/settings, and `settings` inside the merchant. */
export function toSettingsView(settings: MerchantSettings): SettingsView {
  return {
    object: 'settings',
    inventory_confirmation_url: settings.inventoryConfirmationUrl ?? null,
    inventory_confirmation_enabled: settings.inventoryConfirmationEnabled,
    default_success_url: settings.defaultSuccessUrl ?? null,
    default_failure_url: settings.defaultFailureUrl ?? null,
    expired_authorization_action: settings.expiredAuthorizationAction ?? DEFAULT_EXPIRED_AUTHORIZATION_ACTION,
    allowed_ports: settings.allowedPorts ?? [],
  };
}

/** The onboarding response: the only time the secret key and signing secret are shown. */
export function toCreatedMerchantView(merchant: Merchant, secrets: { secretKey: string; signingSecret: string }) {
  return {
    id: merchant.id,
    object: 'merchant' as const,
    name: merchant.name,
    merchant_key: merchant.merchantKey,
    secret_key: secrets.secretKey,
    signing_secret: secrets.signingSecret,
    settings: toSettingsView(merchant.settings),
    created_at: merchant.createdAt,
  };
}

function toItemView(item: CheckoutItem) {
  return { sku: item.sku, name: item.name ?? null, quantity: item.quantity, unit_amount: item.unitAmount ?? null };
}

/** One `payment.attempts[]` row (DESIGN Part 2): one authorization try at one connector. */
export function toAttemptView(attempt: PaymentAttempt) {
  return {
    id: attempt.id,
    connector: attempt.connector,
    status: attempt.status,
    amount: attempt.amount,
    currency: attempt.currency,
    psp_reference: attempt.pspReference ?? null,
    failure_code: attempt.failureCode ?? null,
    next_action: attempt.status === 'requires_action' && attempt.nextAction ? toNextActionView(attempt.nextAction) : null,
    three_d_secure:
      attempt.authentication === undefined
        ? null
        : {
            flow: attempt.authentication.flow,
            authenticated: attempt.authentication.authenticated,
            liability_shift: attempt.authentication.liabilityShift,
          },
    created_at: attempt.createdAt,
  };
}

/**
 * 3-D Secure (DESIGN Part 2): while a challenge is open, a processing checkout shows
 * `status: "requires_action"` and the buyer's `next_action`; otherwise its stored status and null.
 */
export function challengeStatusView(checkout: Pick<Checkout, 'status' | 'payment'>) {
  const open = checkout.status === 'processing' ? openChallengeOf(checkout.payment) : undefined;
  return open === undefined
    ? { status: checkout.status as CheckoutStatus | 'requires_action', next_action: null }
    : { status: 'requires_action' as const, next_action: toNextActionView(open) };
}

/**
 * `payment` of a checkout: PSP references and amounts, never the token or card data.
 * `capturable_amount` is what is authorized and not captured nor released; for a manual-capture
 * checkout the merchant captures it through the instrument (`instrument_id`) before
 * `authorization_expires_at`. `attempts[]` lists every authorization try, oldest first. The amounts come from the payment's
 * financial instrument (`instrument`, the one money ledger; undefined when it has none yet).
 */
export function toPaymentView(
  payment: CheckoutPayment | undefined,
  captureMethod: CaptureMethod,
  instrument: FinancialInstrument | undefined,
) {
  if (payment === undefined) return null;
  const authorization = authorizationOf(payment);
  const balances = paymentBalances(payment, instrument);
  return {
    connector: connectorOf(payment),
    psp_reference: authorization?.pspReference ?? null,
    capture_method: captureMethod,
    authorized_amount: authorization?.amount ?? 0,
    captured_amount: balances.capturedAmount,
    capturable_amount: balances.capturableAmount,
    voided: isVoided(payment),
    instrument_id: payment.instrumentId ?? null,
    authorization_expires_at: payment.authorizationExpiresAt ?? null,
    attempts: payment.attempts.map(toAttemptView),
  };
}

/** One `events[]` row. */
export function toEventView(event: CheckoutEvent) {
  return { type: event.type, at: event.at, data: event.data ?? {} };
}

export interface CheckoutViewOptions {
  /** `PUBLIC_CHECKOUT_BASE_URL`; the checkout page is `<base>/checkout/<id>`. */
  checkoutBaseUrl: string;
  /** Timeline rows; omitted in list responses (one query per checkout would be too costly). */
  events?: readonly CheckoutEvent[];
  /** Only in the create response (also appended to `checkout_url` as its `#fragment`). */
  clientSecret?: string;
  /**
   * The payment's financial instrument, where its amounts are read (captured_amount,
   * capturable_amount); undefined when the payment has none yet. Required, so no view forgets it.
   */
  instrument: FinancialInstrument | undefined;
}

/** `<base>/checkout/<id>`, tolerant of a trailing slash in the configured base. */
export function checkoutUrl(checkoutBaseUrl: string, checkoutId: string): string {
  return `${checkoutBaseUrl.replace(/\/+$/, '')}/checkout/${encodeURIComponent(checkoutId)}`;
}

/** The merchant's full view of a checkout. */
export function toCheckoutView(checkout: Checkout, options: CheckoutViewOptions) {
  return {
    id: checkout.id,
    object: 'checkout' as const,
    merchant_order_ref: checkout.merchantOrderRef,
    ...challengeStatusView(checkout),
    amount: checkout.amount,
    currency: checkout.currency,
    items: checkout.items.map(toItemView),
    customer:
      checkout.customerId ??
      (checkout.customer === undefined ? null : { email: checkout.customer.email ?? null, name: checkout.customer.name ?? null }),
    save_payment_method: checkout.savePaymentMethod === true,
    success_url: checkout.successUrl,
    failure_url: checkout.failureUrl,
    capture_method: checkout.captureMethod ?? 'automatic',
    metadata: checkout.metadata ?? {},
    // In the create response the URL carries the client secret in its fragment, which browsers
    // never send to a server: the hosted page reads it there. Later reads cannot (only its hash is kept).
    checkout_url:
      checkoutUrl(options.checkoutBaseUrl, checkout.id) + (options.clientSecret !== undefined ? `#${options.clientSecret}` : ''),
    ...(options.clientSecret !== undefined ? { client_secret: options.clientSecret } : {}),
    payment: toPaymentView(checkout.payment, checkout.captureMethod ?? 'automatic', options.instrument),
    failure_reason: checkout.failureReason ?? null,
    failure_message: checkout.failureMessage ?? null,
    max_payment_attempts: maxTriesOf(checkout),
    last_payment_error: checkout.lastPaymentError ?? null,
    created_at: checkout.createdAt,
    updated_at: checkout.updatedAt,
    expires_at: checkout.expiresAt,
    ...(options.events !== undefined ? { events: options.events.map(toEventView) } : {}),
  };
}

/**
 * What the buyer's browser may see with the client secret: enough to render the payment page,
 * nothing about the merchant's references, URLs, customer data or PSP details.
 */
export function toPublicCheckoutView(checkout: Checkout, merchantName: string) {
  return {
    id: checkout.id,
    object: 'checkout' as const,
    ...challengeStatusView(checkout),
    amount: checkout.amount,
    currency: checkout.currency,
    items: checkout.items.map(toItemView),
    merchant_name: merchantName,
    failure_reason: checkout.failureReason ?? null,
    last_payment_error: checkout.lastPaymentError ?? null,
    /** The hosted page offers "save my card" only when the merchant asked to save it for a customer. */
    save_payment_method: checkout.savePaymentMethod === true && checkout.customerId !== undefined,
    expires_at: checkout.expiresAt,
  };
}

/** `{object: "list", data, has_more, next_cursor}`: `has_more` is true exactly when a cursor to the next page is given. */
export function toListView<T>(data: readonly T[], nextCursor: string | undefined) {
  return { object: 'list' as const, data, has_more: nextCursor !== undefined, next_cursor: nextCursor ?? null };
}

// ---- Financial instruments --------------------------------------------------------------------

/** One `transactions[]` row (NewStore shape): signed deltas of the capturable and refundable amounts. */
export function toInstrumentTransactionView(transaction: InstrumentTransaction) {
  return {
    transaction_id: transaction.transactionId,
    object: 'transaction' as const,
    type: transaction.type,
    status: transaction.status,
    capture_amount: transaction.captureAmount,
    refund_amount: transaction.refundAmount,
    currency: transaction.currency,
    operation_id: transaction.operationId,
    psp_reference: transaction.pspReference ?? null,
    failure_code: transaction.failureCode ?? null,
    created_at: transaction.createdAt,
  };
}

/** GET /v1/financial_instruments/{id} and the create response: balances plus every transaction. */
export function toInstrumentView(instrument: FinancialInstrument) {
  return {
    id: instrument.id,
    object: 'financial_instrument' as const,
    type: instrument.type,
    status: instrument.status,
    amount: instrument.amount,
    currency: instrument.currency,
    capturable_amount: instrument.capturableAmount,
    refundable_amount: instrument.refundableAmount,
    connector: instrument.connector,
    psp_reference: instrument.pspReference ?? null,
    checkout_id: instrument.checkoutId ?? null,
    metadata: instrument.metadata ?? {},
    transactions: instrumentTransactions(instrument).map(toInstrumentTransactionView),
    created_at: instrument.createdAt,
    updated_at: instrument.updatedAt,
  };
}

/** The answer of _capture, _refund, _revoke: the transactions that operation made, and the balances right after it. */
export function toInstrumentOperationView(
  instrument: FinancialInstrument,
  operationId: string,
  transactions: readonly InstrumentTransaction[],
) {
  return {
    object: 'financial_instrument_operation' as const,
    instrument_id: instrument.id,
    operation_id: operationId,
    transactions: transactions.map(toInstrumentTransactionView),
    capturable_amount: instrument.capturableAmount,
    refundable_amount: instrument.refundableAmount,
  };
}

// ---- Webhooks ---------------------------------------------------------------------------------

/** The public shape of an event with its deliveries (snake_case). */
export function toEventLogView({ event, deliveries }: EventWithDeliveries) {
  const body = JSON.parse(event.body) as { data?: unknown };
  return {
    id: event.id,
    object: 'event' as const,
    type: event.type,
    created: event.created,
    created_at: event.createdAt,
    data: body.data ?? {},
    deliveries: deliveries.map((delivery) => ({
      endpoint_id: delivery.endpointId,
      status: delivery.status,
      attempt: delivery.attempt,
      next_attempt_at: delivery.status === 'pending' ? delivery.nextAttemptAt : null,
      attempts: delivery.attempts.map((attempt) => ({
        number: attempt.number,
        at: attempt.at,
        status: attempt.ok ? 'succeeded' : 'failed',
        http_status: attempt.httpStatus ?? null,
        latency_ms: attempt.latencyMs,
        error: attempt.error ?? null,
        response_excerpt: attempt.responseExcerpt ?? null,
      })),
    })),
  };
}

/** A webhook endpoint; `secret` only in the create and rotate responses. */
export function toWebhookEndpointView(endpoint: WebhookEndpoint, secret?: string) {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint' as const,
    url: endpoint.url,
    enabled_events: endpoint.enabledEvents,
    status: endpoint.status,
    ...(endpoint.disabledReason !== undefined ? { disabled_reason: endpoint.disabledReason } : {}),
    description: endpoint.description ?? null,
    api_version: endpoint.apiVersion ?? LATEST_API_VERSION,
    previous_secret_expires_at: endpoint.previousSecretExpiresAt ?? null,
    created_at: endpoint.createdAt,
    ...(secret !== undefined ? { secret } : {}),
  };
}

/** The operator view (GET /v1/operator/connectors), snake_case. */
export function toConnectorStatsView(output: ConnectorStatsOutput) {
  return {
    object: 'list' as const,
    window: output.window,
    data: output.connectors.map((stats) => ({
      connector: stats.connector,
      attempts: stats.attempts,
      authorized: stats.authorized,
      failed: stats.failed,
      authorization_rate_bps: stats.authorizationRateBps,
      failovers_out: stats.failoversOut,
      failovers_in: stats.failoversIn,
    })),
  };
}
