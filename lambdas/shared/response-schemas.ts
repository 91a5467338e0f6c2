/**
 * zod schemas of what the API answers (the views in views.ts and the use cases' answers), for the
 * OpenAPI document only: requests are validated with validation.ts and request-schemas.ts, answers
 * are built by the view functions, and test/unit/shared/openapi.test.ts parses real views with these
 * schemas so the two cannot drift apart. `.meta({ id })` makes each one a named component.
 */
import * as z from 'zod';
import { API_VERSIONS } from '../domain/api-version';
import { CAPTURE_METHODS, EXPIRED_AUTHORIZATION_ACTIONS } from '../domain/authorization-hold';
import { ATTEMPT_STATUSES } from '../domain/payment-attempt';

const timestamp = z.string().meta({ format: 'date-time', example: '2026-11-30T12:00:00.000Z' });
const minorAmount = z
  .int()
  .meta({ description: "Integer amount in the currency's minor unit (10050 = USD 100.50).", example: 10050 });
const currency = z.string().meta({ description: 'ISO 4217 code, upper case.', example: 'USD' });
const metadata = z
  .record(z.string(), z.string())
  .meta({ description: "The merchant's key/value pairs, as given.", example: { order_channel: 'web' } });

export const CHECKOUT_STATUSES = ['open', 'processing', 'requires_action', 'succeeded', 'failed', 'expired', 'canceled'] as const;
export const FAILURE_REASONS = [
  'payment_declined',
  'authentication_failed',
  'authentication_required',
  'inventory_rejected',
  'inventory_timeout',
  'inventory_unreachable',
  'psp_error',
  'expired',
] as const;

export const errorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().meta({ description: 'Stable snake_case code to switch on.', example: 'parameter_missing' }),
      message: z.string().meta({ example: 'amount is required' }),
      param: z.string().optional().meta({ description: 'The offending field (dotted path) or header.', example: 'amount' }),
      request_id: z.string().optional().meta({
        description: "The request's id (also the `apigw-requestid` header); quote it to support.",
        example: 'Kd8Z3jRyoAMEVsg=',
      }),
    }),
  })
  .meta({ id: 'Error', description: 'Every error: HTTP status plus this body.' });

export const settingsSchema = z
  .strictObject({
    object: z.literal('settings'),
    inventory_confirmation_url: z.string().nullable(),
    inventory_confirmation_enabled: z.boolean(),
    default_success_url: z.string().nullable(),
    default_failure_url: z.string().nullable(),
    expired_authorization_action: z.enum(EXPIRED_AUTHORIZATION_ACTIONS),
    allowed_ports: z
      .array(z.number().int())
      .meta({ description: 'Ports your URLs may use besides 443 and 80 (outside local mode).' }),
  })
  .meta({ id: 'Settings' });

export const createdMerchantSchema = z
  .strictObject({
    id: z.string().meta({ example: 'mer_9d2k3LrQeW4' }),
    object: z.literal('merchant'),
    name: z.string(),
    merchant_key: z.string().meta({ description: 'Public key (mk_) sent in inventory-confirmation requests.' }),
    secret_key: z.string().meta({ description: 'API secret key (sk_test_), shown only here.', example: 'sk_test_51Hx...' }),
    signing_secret: z.string().meta({ description: 'Inventory-confirmation signing secret (whsec_), shown only here.' }),
    settings: settingsSchema,
    created_at: timestamp,
  })
  .meta({ id: 'CreatedMerchant' });

const checkoutItemSchema = z.strictObject({
  sku: z.string(),
  name: z.string().nullable(),
  quantity: z.int(),
  unit_amount: minorAmount.nullable(),
});

/** 3-D Secure (DESIGN Part 2): the buyer's next step while a challenge is open. */
export const nextActionSchema = z
  .strictObject({
    type: z.literal('redirect_to_url'),
    redirect_to_url: z.strictObject({
      url: z.string().meta({
        description: "The issuer's challenge page: send the buyer there.",
        example: 'http://127.0.0.1:3001/v1/challenges/auth_5f2c',
      }),
      return_url: z
        .string()
        .nullable()
        .meta({ description: 'Where the challenge sends the buyer back (the hosted checkout page).' }),
    }),
  })
  .meta({ id: 'NextAction', description: 'What the buyer must do next: follow `redirect_to_url.url`.' });

const nextActionField = nextActionSchema
  .nullable()
  .meta({ description: 'While `status` is `requires_action`: the 3-D Secure challenge to send the buyer to; else null.' });

export const paymentAttemptSchema = z
  .strictObject({
    id: z.string().meta({ example: 'att_T3b9kLmQ2xW8' }),
    connector: z.string().meta({ example: 'sandbox' }),
    status: z.enum(ATTEMPT_STATUSES),
    amount: minorAmount,
    currency,
    psp_reference: z.string().nullable(),
    failure_code: z
      .string()
      .nullable()
      .meta({ description: "Why the attempt failed: the PSP's decline code, or `psp_error`.", example: 'card_declined' }),
    next_action: nextActionSchema.nullable().meta({ description: 'While the attempt is `requires_action`: the challenge.' }),
    three_d_secure: z
      .strictObject({
        flow: z.enum(['challenge', 'frictionless']),
        authenticated: z.boolean(),
        liability_shift: z.boolean().meta({ description: 'Whether fraud liability moved to the card issuer.' }),
      })
      .nullable()
      .meta({ description: '3-D Secure result (liability-shift data), once the PSP reported it.' }),
    created_at: timestamp,
  })
  .meta({ id: 'PaymentAttempt', description: 'One authorization try at one connector.' });

/** Why the last try failed, when a declined try reopened the checkout for another card. */
const lastPaymentErrorSchema = z
  .strictObject({
    code: z.string().meta({ example: 'insufficient_funds' }),
    message: z.string().meta({ example: 'The payment was declined (insufficient_funds). Try another card.' }),
  })
  .nullable()
  .meta({ description: 'Why the last try failed (another card may be tried while the checkout is open); null if none failed.' });

export const paymentSchema = z
  .strictObject({
    connector: z.string().meta({ example: 'sandbox' }),
    psp_reference: z.string().nullable(),
    capture_method: z.enum(CAPTURE_METHODS),
    authorized_amount: minorAmount,
    captured_amount: minorAmount,
    capturable_amount: minorAmount,
    voided: z.boolean(),
    instrument_id: z.string().nullable(),
    authorization_expires_at: timestamp.nullable(),
    attempts: z
      .array(paymentAttemptSchema)
      .meta({ description: 'Every authorization try, oldest first; at most one ever holds money.' }),
  })
  .meta({ id: 'CheckoutPayment' });

export const checkoutSchema = z
  .strictObject({
    id: z.string().meta({ example: 'chk_Q2x8b1lH0rX3mJz7kP4aVw' }),
    object: z.literal('checkout'),
    merchant_order_ref: z.string().meta({ example: 'order-10042' }),
    status: z.enum(CHECKOUT_STATUSES),
    next_action: nextActionField,
    amount: minorAmount,
    currency,
    items: z.array(checkoutItemSchema),
    customer: z
      .union([z.string(), z.strictObject({ email: z.string().nullable(), name: z.string().nullable() })])
      .nullable()
      .meta({ description: 'The Paystep customer id (cus_...) when created with one; else the buyer details given, or null.' }),
    save_payment_method: z.boolean().meta({ description: 'Its payment method is saved on `customer` once it succeeds.' }),
    success_url: z.string(),
    failure_url: z.string(),
    capture_method: z.enum(CAPTURE_METHODS),
    metadata,
    checkout_url: z
      .string()
      .meta({ description: 'The hosted payment page; in the create answer it carries the client secret in its #fragment.' }),
    client_secret: z
      .string()
      .optional()
      .meta({ description: "Only in the create answer: the buyer's bearer token (cs_) for pay and status." }),
    payment: paymentSchema.nullable(),
    failure_reason: z.enum(FAILURE_REASONS).nullable(),
    failure_message: z.string().nullable(),
    max_payment_attempts: z.int().meta({ description: 'How many cards the buyer may try (1-5).', example: 3 }),
    last_payment_error: lastPaymentErrorSchema,
    created_at: timestamp,
    updated_at: timestamp,
    expires_at: timestamp,
    events: z
      .array(z.strictObject({ type: z.string(), at: timestamp, data: z.record(z.string(), z.unknown()) }))
      .optional()
      .meta({ description: 'The timeline; not in list answers.' }),
  })
  .meta({ id: 'Checkout' });

export const publicCheckoutSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('checkout'),
    status: z.enum(CHECKOUT_STATUSES),
    next_action: nextActionField,
    amount: minorAmount,
    currency,
    items: z.array(checkoutItemSchema),
    merchant_name: z.string(),
    failure_reason: z.enum(FAILURE_REASONS).nullable(),
    last_payment_error: lastPaymentErrorSchema,
    save_payment_method: z.boolean(),
    expires_at: timestamp,
  })
  .meta({ id: 'PublicCheckout', description: "What the buyer's browser sees with the client secret." });

export const checkoutStatusSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('checkout_status'),
    status: z.enum(CHECKOUT_STATUSES),
    failure_reason: z.enum(FAILURE_REASONS).nullable(),
    failure_message: z.string().nullable(),
    last_payment_error: lastPaymentErrorSchema,
    redirect_url: z.string().nullable().meta({ description: 'Where to send the buyer once terminal.' }),
    next_action: nextActionField,
  })
  .meta({ id: 'CheckoutStatus' });

export const webhookEndpointSchema = z
  .strictObject({
    id: z.string().meta({ example: 'we_3kQ9xL0aPz2mR7bT1cV5nA' }),
    object: z.literal('webhook_endpoint'),
    url: z.string(),
    enabled_events: z.array(z.string()),
    status: z.enum(['enabled', 'disabled']),
    disabled_reason: z.string().optional(),
    description: z.string().nullable(),
    api_version: z.enum(API_VERSIONS),
    previous_secret_expires_at: timestamp.nullable(),
    created_at: timestamp,
    secret: z.string().optional().meta({ description: 'The whsec_ signing secret: only in the create and rotate answers.' }),
  })
  .meta({ id: 'WebhookEndpoint' });

export const deletedWebhookEndpointSchema = z
  .strictObject({ id: z.string(), object: z.literal('webhook_endpoint'), deleted: z.literal(true) })
  .meta({ id: 'DeletedWebhookEndpoint' });

export const eventSchema = z
  .strictObject({
    id: z.string().meta({ example: 'evt_5f1c0e2b7a9d4c3e8f6a1b2c' }),
    object: z.literal('event'),
    type: z.string().meta({ example: 'checkout.succeeded' }),
    created: z.int().meta({ description: 'Unix seconds.' }),
    created_at: timestamp,
    data: z.unknown().meta({ description: "The event's data, usually `{ object: <resource> }`." }),
    deliveries: z.array(
      z.strictObject({
        endpoint_id: z.string(),
        status: z.enum(['pending', 'delivered', 'dead_lettered', 'disabled']),
        attempt: z.int(),
        next_attempt_at: timestamp.nullable(),
        attempts: z.array(
          z.strictObject({
            number: z.int(),
            at: timestamp,
            status: z.enum(['succeeded', 'failed']),
            http_status: z.int().nullable(),
            latency_ms: z.number(),
            error: z.string().nullable(),
            response_excerpt: z.string().nullable(),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'Event' });

export const instrumentTransactionSchema = z
  .strictObject({
    transaction_id: z.string(),
    object: z.literal('transaction'),
    type: z.enum(['authorization', 'capture', 'refund', 'revoke', 'dispute']),
    status: z.enum(['pending', 'succeeded', 'failed']),
    capture_amount: z.int().meta({ description: 'Signed change of the capturable amount (minor units).' }),
    refund_amount: z.int().meta({ description: 'Signed change of the refundable amount (minor units).' }),
    currency,
    operation_id: z.string(),
    psp_reference: z.string().nullable(),
    failure_code: z.string().nullable(),
    created_at: timestamp,
  })
  .meta({ id: 'InstrumentTransaction' });

export const instrumentSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('financial_instrument'),
    type: z.enum(['token', 'authorized', 'captured']),
    status: z.enum(['pending', 'active', 'voided', 'failed']),
    amount: minorAmount,
    currency,
    capturable_amount: minorAmount,
    refundable_amount: minorAmount,
    connector: z.string(),
    psp_reference: z.string().nullable(),
    checkout_id: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    transactions: z.array(instrumentTransactionSchema),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'FinancialInstrument' });

export const instrumentOperationSchema = z
  .strictObject({
    object: z.literal('financial_instrument_operation'),
    instrument_id: z.string(),
    operation_id: z.string(),
    transactions: z.array(instrumentTransactionSchema),
    capturable_amount: minorAmount,
    refundable_amount: minorAmount,
  })
  .meta({ id: 'FinancialInstrumentOperation' });

export const pspCallbackAnswerSchema = z
  .strictObject({
    received: z.literal(true),
    callback_id: z.string(),
    result: z.enum(['applied', 'duplicate', 'stale']),
    state: z.string(),
  })
  .meta({ id: 'PspCallbackAnswer' });

/** `{object: "list", data, has_more, next_cursor}` of `item`. */
export function listSchema<T extends z.ZodType>(item: T, id: string) {
  return z
    .strictObject({
      object: z.literal('list'),
      data: z.array(item),
      has_more: z.boolean().meta({ description: 'Whether another page exists (then `next_cursor` fetches it).' }),
      next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
    })
    .meta({ id });
}

export const paymentMethodSchema = z
  .strictObject({
    id: z.string().meta({ example: 'pm_7Hq2mXcV9aB' }),
    object: z.literal('payment_method'),
    type: z.literal('card'),
    card: z.strictObject({
      brand: z.enum(['visa', 'mastercard', 'amex', 'discover', 'diners', 'jcb', 'unionpay']),
      last4: z.string().meta({ example: '4242' }),
      exp_month: z.int(),
      exp_year: z.int(),
      fingerprint: z.string().meta({
        description: 'Same card number at the same merchant = same fingerprint (keyed HMAC).',
        example: 'Xb3kQ9sLmP2aR7tY',
      }),
    }),
    customer: z.string().nullable().meta({ description: 'The customer it is saved on.' }),
    status: z
      .enum(['active', 'detached', 'shredded'])
      .meta({ description: '`detached` and `shredded` (customer deleted) can never pay; their card data is destroyed.' }),
    created_at: timestamp,
  })
  .meta({ id: 'PaymentMethod', description: 'A vaulted card. The number and CVC are never returned.' });

export const customerSchema = z
  .strictObject({
    id: z.string().meta({ example: 'cus_4fR8pLq2nZ' }),
    object: z.literal('customer'),
    email: z.string().nullable(),
    name: z.string().nullable(),
    metadata,
    created_at: timestamp,
  })
  .meta({ id: 'Customer' });

export const deletedCustomerSchema = z
  .strictObject({ id: z.string(), object: z.literal('customer'), deleted: z.literal(true) })
  .meta({ id: 'DeletedCustomer', description: 'A deleted customer: its saved cards are crypto-shredded.' });

const connectorStatsSchema = z
  .strictObject({
    connector: z.string().meta({ example: 'sandbox' }),
    attempts: z.number().int().meta({ description: 'Authorization attempts started at this connector in the window.' }),
    authorized: z.number().int().meta({ description: 'Attempts it authorized.' }),
    failed: z.number().int().meta({ description: 'Attempts that ended failed there (declines, PSP errors, settled timeouts).' }),
    authorization_rate_bps: z.number().int().nullable().meta({
      description:
        'authorized / (authorized + failed) in basis points (8750 = 87.50 %), rounded down; null when no attempt got an answer.',
      example: 8750,
    }),
    failovers_out: z
      .number()
      .int()
      .meta({ description: 'Failed attempts there after which the payment failed over to another connector.' }),
    failovers_in: z.number().int().meta({ description: 'Attempts started there by a failover from another connector.' }),
  })
  .meta({ id: 'ConnectorStats' });

export const connectorStatsListSchema = z
  .strictObject({
    object: z.literal('list'),
    window: z
      .strictObject({ start: timestamp, end: timestamp, minutes: z.number().int() })
      .meta({ description: "The counted UTC minutes: from the start of `start`'s minute to the end of `end`'s." }),
    data: z.array(connectorStatsSchema),
  })
  .meta({ id: 'ConnectorStatsList' });
