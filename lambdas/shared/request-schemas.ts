/**
 * The request schemas of the routes whose handlers used to define them inline (webhook endpoints,
 * events, pay, financial instruments). They live here, free of any wiring, so that the handlers
 * validate with them and the OpenAPI document (lambdas/shared/openapi.ts) is generated from the
 * very same objects. Building blocks and the checkout/settings/merchant schemas are in validation.ts.
 */
import * as z from 'zod/mini';
import { API_VERSIONS } from '../domain/api-version';
import { PAYMENT_METHOD_ID_PATTERN } from '../domain/payment-method';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-events';
import { ValidationError } from '../errors';
import {
  builtOnFirstUse,
  currencyField,
  integerField,
  listCheckoutsQuerySchema,
  merchantUrlField,
  metadataField,
  minorAmountField,
  refineAmountLimit,
  textField,
  withMeta,
} from './validation';

/** Rotation overlap: default 24 h, at most 7 days; 0 retires the old secret at once. */
export const ROTATION_OVERLAP = { defaultSeconds: 86_400, maxSeconds: 604_800 } as const;

/** Body of POST /v1/webhook_endpoints. */
export function createWebhookEndpointInputSchema(options: { allowHttpUrls: boolean }) {
  return z.strictObject({
    url: withMeta(merchantUrlField({ allowHttp: options.allowHttpUrls }), {
      example: 'https://shop.example.com/webhooks/paystep',
    }),
    enabled_events: withMeta(
      z.optional(
        z
          .array(z.enum(['*', ...WEBHOOK_EVENT_TYPES], { error: `{param} must be one of *, ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
          .check(z.minLength(1), z.maxLength(WEBHOOK_EVENT_TYPES.length + 1)),
      ),
      {
        description: 'Event types this endpoint receives; `*` (the default) for all.',
        example: ['checkout.succeeded', 'checkout.failed'],
      },
    ),
    description: z.optional(textField(200)),
    api_version: withMeta(z.optional(z.enum(API_VERSIONS)), {
      description:
        "The API version deliveries to this endpoint are rendered for (default: the request's Paystep-Version, else the latest).",
    }),
  });
}

/** Body of POST /v1/webhook_endpoints/{id}/rotate_secret. */
export const rotateSecretInputSchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z.strictObject({
    expires_in_seconds: withMeta(
      z.optional(
        integerField({
          min: 0,
          max: ROTATION_OVERLAP.maxSeconds,
          code: 'invalid_expires_in_seconds',
          what: 'a whole number of seconds',
        }),
      ),
      {
        description: 'How long the previous secret keeps signing alongside the new one (default 86400; 0 retires it at once).',
      },
    ),
  }),
);

/** Body of POST /v1/webhook_endpoints/{id}/test (nothing to give). */
export const testWebhookEndpointInputSchema = /* @__PURE__ */ builtOnFirstUse(() => z.strictObject({}));

/** Query of GET /v1/events. */
export const listEventsQuerySchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z.strictObject({
    limit: listCheckoutsQuerySchema().shape.limit,
    cursor: listCheckoutsQuerySchema().shape.cursor,
    type: z.optional(z.enum(WEBHOOK_EVENT_TYPES)),
  }),
);

/** Body of POST /v1/events/{id}/redeliver. */
export const redeliverEventInputSchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z.strictObject({
    endpoint_id: withMeta(z.optional(textField(64)), {
      description: 'Only this endpoint (default: every enabled endpoint that had or would get the event).',
    }),
  }),
);

const paymentTokenField = /* @__PURE__ */ builtOnFirstUse(() =>
  withMeta(
    z
      .string({ error: 'payment_token must be a string' })
      .check(z.regex(/^tok_[A-Za-z0-9_-]{1,128}$/, { error: 'payment_token must be a PSP token (tok_...)' })),
    { example: 'tok_4242424242424242' },
  ),
);

/** Body of POST /v1/checkouts/{id}/pay: exactly one of `payment_token` and `payment_method` (checked by the handler). */
export const payCheckoutInputSchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z.strictObject({
    payment_token: withMeta(z.optional(paymentTokenField()), { description: 'A single-use sandbox PSP token (tok_...).' }),
    payment_method: withMeta(
      z.optional(
        z
          .string({ error: 'payment_method must be a string' })
          .check(z.regex(PAYMENT_METHOD_ID_PATTERN, { error: 'payment_method must be a payment method id (pm_...)' })),
      ),
      {
        description: 'A vaulted payment method (pm_...): one made for this checkout, or saved on its customer.',
        example: 'pm_3kTq9ZxY2bQ8',
      },
    ),
    off_session: withMeta(z.optional(z.boolean({ error: 'off_session must be a boolean' })), {
      description:
        "Merchant-initiated payment (secret key only) with a payment method saved on the checkout's customer; no buyer present.",
    }),
    save_payment_method: withMeta(z.optional(z.boolean({ error: 'save_payment_method must be a boolean' })), {
      description:
        "The buyer's choice on the hosted page when the checkout asks to save the card: false keeps this payment method off the customer.",
    }),
  }),
);

const MAX_INSTRUMENT_METADATA_BYTES = 8 * 1024;
/** DynamoDB nests at most 32 levels; metadata sits 2 levels down in the instrument item. */
const MAX_INSTRUMENT_METADATA_DEPTH = 10;

/** Keys that would reach Object.prototype (or be dropped by it) when the metadata is copied: refused. */
const RESERVED_METADATA_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks raw instrument metadata before anything recursive touches it (zod's copy, JSON.stringify,
 * DynamoDB marshalling): an iterative walk that stops at the first object nested deeper than
 * MAX_INSTRUMENT_METADATA_DEPTH (422 `metadata_too_deep`) or the first reserved key (400
 * `invalid_metadata_key`, param = its path). A 10 KB body can nest 5000 levels; a recursive
 * stringify of it would overflow the stack (a 500). Call it before parsing with the schema.
 */
export function assertSafeMetadata(metadata: unknown): void {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value: metadata, depth: 1, path: 'metadata' }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_INSTRUMENT_METADATA_DEPTH) {
      throw new ValidationError(`metadata must nest at most ${MAX_INSTRUMENT_METADATA_DEPTH} levels`, {
        status: 422,
        code: 'metadata_too_deep',
        param: 'metadata',
      });
    }
    const entries = Array.isArray(value) ? value.map((child, index) => [String(index), child] as const) : Object.entries(value);
    for (const [key, child] of entries) {
      if (!Array.isArray(value) && RESERVED_METADATA_KEYS.has(key)) {
        throw new ValidationError(`${path}.${key}: metadata keys must not be __proto__, constructor or prototype`, {
          status: 400,
          code: 'invalid_metadata_key',
          param: `${path}.${key}`,
        });
      }
      stack.push({ value: child, depth: depth + 1, path: `${path}.${key}` });
    }
  }
}

/** Body of POST /v1/financial_instruments. */
export const createInstrumentInputSchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z
    .strictObject({
      type: z.enum(['token', 'authorized', 'captured']),
      amount: minorAmountField(),
      currency: currencyField,
      payment_token: withMeta(
        z.optional(
          z.string().check(z.regex(/^tok_[A-Za-z0-9_-]{1,128}$/, { error: 'payment_token must be a PSP token (tok_...)' })),
        ),
        { description: 'Required for type `token`.' },
      ),
      psp_reference: withMeta(
        z.optional(
          z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,255}$/, { error: 'psp_reference must be a PSP authorization reference' })),
        ),
        { description: 'Required for types `authorized` and `captured`.' },
      ),
      metadata: withMeta(
        z.optional(
          z.record(z.string().check(z.maxLength(64)), z.unknown()).check(
            z.superRefine((value, ctx) => {
              // Depth and reserved keys are checked on the raw body first (assertSafeMetadata): stringify is safe here.
              if (Buffer.byteLength(JSON.stringify(value), 'utf8') > MAX_INSTRUMENT_METADATA_BYTES) {
                ctx.addIssue({
                  code: 'custom',
                  message: `{param} must be at most ${MAX_INSTRUMENT_METADATA_BYTES} bytes of JSON`,
                  params: { code: 'metadata_too_large' },
                });
              }
            }),
          ),
        ),
        {
          description:
            'Free JSON (at most 8 KiB, 10 levels deep, no `__proto__`/`constructor`/`prototype` keys), returned as given.',
        },
      ),
    })
    .check(z.superRefine(refineAmountLimit)),
);

/** Body of POST /v1/financial_instruments/{id}/_capture and _refund. */
export const instrumentMoneyInputSchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z.strictObject({ amount: minorAmountField(), currency: currencyField }).check(z.superRefine(refineAmountLimit)),
);

/** Body of POST /v1/financial_instruments/{id}/_revoke. */
export const revokeInstrumentInputSchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z.strictObject({ currency: z.optional(currencyField) }),
);

// ---- Card vault and customers (lambdas/api-payment-methods, lambdas/api-customers) -------------

/** A checkout id as a body field names it (a client secret must belong to that checkout). */
export const CHECKOUT_ID_PATTERN = /^chk_[A-Za-z0-9_-]{1,64}$/;

/**
 * Body of POST /v1/payment_methods. Types only here (a number must be a string, months and years
 * numbers); what makes a card valid (Luhn, brand, length, expiry, CVC length) is checked in
 * lambdas/domain/card.ts with 422 codes. `checkout` names the checkout a `cs_` secret belongs to.
 */
export const createPaymentMethodInputSchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z.strictObject({
    type: z.literal('card'),
    card: z.strictObject({
      number: withMeta(z.string().check(z.maxLength(32)), {
        description: 'The card number; spaces allowed. Never returned or logged.',
        example: '4242 4242 4242 4242',
      }),
      exp_month: withMeta(z.number(), { description: '1 to 12.', example: 12 }),
      exp_year: withMeta(z.number(), { description: 'Four digits.', example: 2030 }),
      cvc: withMeta(z.optional(z.string().check(z.maxLength(8))), {
        description: 'Kept only until the first authorization with this payment method.',
        example: '123',
      }),
    }),
    checkout: withMeta(z.optional(z.string().check(z.maxLength(80))), {
      description:
        'With a client secret: the checkout it belongs to (required then). With the merchant key: optional, ties the payment method to that checkout.',
      example: 'chk_3kTfQ9sLmP2',
    }),
  }),
);

/** Body of POST /v1/customers: every field optional. */
export const createCustomerInputSchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z.strictObject({
    email: z.optional(z.email().check(z.maxLength(254))),
    name: z.optional(textField(256)),
    metadata: z.optional(metadataField),
  }),
);

/** Body of POST /v1/payment_methods/{id}/detach (empty). */
export const detachPaymentMethodInputSchema = /* @__PURE__ */ builtOnFirstUse(() => z.strictObject({}));
