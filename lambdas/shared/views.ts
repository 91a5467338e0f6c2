/**
 * The API's snake_case views of Paystep records. Every response body is built here, so field
 * names and null conventions stay identical across endpoints: optional fields are `null`, not
 * absent; secrets appear only in the one response that creates them.
 */
import type { Checkout, CheckoutEvent, CheckoutItem, CheckoutPayment, Merchant, MerchantSettings } from '../domain/model';

export interface SettingsView {
  object: 'settings';
  inventory_confirmation_url: string | null;
  inventory_confirmation_enabled: boolean;
  default_success_url: string | null;
  default_failure_url: string | null;
}

/** GET/PUT /v1/settings, and `settings` inside the merchant. */
export function toSettingsView(settings: MerchantSettings): SettingsView {
  return {
    object: 'settings',
    inventory_confirmation_url: settings.inventoryConfirmationUrl ?? null,
    inventory_confirmation_enabled: settings.inventoryConfirmationEnabled,
    default_success_url: settings.defaultSuccessUrl ?? null,
    default_failure_url: settings.defaultFailureUrl ?? null,
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

/** `payment` of a checkout: PSP references and amounts, never the token or card data. */
export function toPaymentView(payment: CheckoutPayment | undefined) {
  if (payment === undefined) return null;
  return {
    connector: payment.connector,
    psp_reference: payment.pspReference ?? null,
    authorized_amount: payment.authorizedAmount,
    captured_amount: payment.capturedAmount,
    voided: payment.voided,
    instrument_id: payment.instrumentId ?? null,
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
  /** Only in the create response. */
  clientSecret?: string;
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
    status: checkout.status,
    amount: checkout.amount,
    currency: checkout.currency,
    items: checkout.items.map(toItemView),
    customer: checkout.customer === undefined ? null : { email: checkout.customer.email ?? null, name: checkout.customer.name ?? null },
    success_url: checkout.successUrl,
    failure_url: checkout.failureUrl,
    checkout_url: checkoutUrl(options.checkoutBaseUrl, checkout.id),
    ...(options.clientSecret !== undefined ? { client_secret: options.clientSecret } : {}),
    payment: toPaymentView(checkout.payment),
    failure_reason: checkout.failureReason ?? null,
    failure_message: checkout.failureMessage ?? null,
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
    status: checkout.status,
    amount: checkout.amount,
    currency: checkout.currency,
    items: checkout.items.map(toItemView),
    merchant_name: merchantName,
    failure_reason: checkout.failureReason ?? null,
    expires_at: checkout.expiresAt,
  };
}

/** `{object: "list", data, next_cursor}`. */
export function toListView<T>(data: readonly T[], nextCursor: string | undefined) {
  return { object: 'list' as const, data, next_cursor: nextCursor ?? null };
}
