/**
 * Input validation for the public API with zod 4's tree-shakable `zod/mini` (the same core and
 * issues as full zod, a fraction of its bundle: see README "Bundle sizes"), and the mapping of zod issues to Paystep's
 * error shape: type errors (wrong JSON type, unknown field, missing field) are 400; semantic
 * errors (negative or fractional amount, unknown currency, bad URL, out-of-range number) are 422
 * with a specific code. `param` is always the dotted path of the offending field
 * (`items.0.quantity`).
 */
import { MAX_PAYMENT_ATTEMPTS_LIMIT } from '../domain/payment-tries';
import { CUSTOMER_ID_PATTERN } from '../domain/customer';
import * as z from 'zod/mini';
import { ValidationError } from '../errors';
import { formatMajorUnits, maxAmountMinor, normalizeCurrency } from '../domain/money';
import type { MerchantSettingsPatch } from '../domain/merchant-settings';
import { CAPTURE_METHODS, EXPIRED_AUTHORIZATION_ACTIONS } from '../domain/authorization-hold';
import { MAX_MERCHANT_ALLOWED_PORTS, merchantPortRefusal } from '../adapters/url-policy';
import { builtOnFirstUse } from './import-once';

/** Custom issues carry their API error code (and optionally the status) in `params`. */
interface IssueParams {
  code?: string;
  status?: 400 | 422;
}

type Issue = z.core.$ZodIssue;

/**
 * What full zod's `schema.meta(data)` does, for mini schemas: a clone of `schema` with `data` in
 * zod's global registry (the OpenAPI document reads descriptions, examples, overrides and component
 * ids from there). The clone inherits the metadata of `schema`, as `.meta()` does.
 */
/* @__NO_SIDE_EFFECTS__ */
export function withMeta<S extends z.ZodMiniType>(schema: S, data: z.core.GlobalMeta): S {
  const cloned = schema.clone();
  z.globalRegistry.add(cloned, data);
  return cloned;
}

/**
 * Validates `input` against `schema` and returns the parsed value, or throws the ValidationError
 * for the most relevant issue (type problems first, since they make other checks meaningless).
 */
export function parseInput<S extends z.core.$ZodType>(schema: S, input: unknown): z.output<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  throw toValidationError(result.error.issues, input);
}

/**
 * Schemas are built on their first use rather than when the handler's module loads: building zod
 * schemas is the largest part of an API function's own module initialisation (issue 14, round 7),
 * and a function serving several routes then builds only the schemas of the routes it is asked for.
 */
export { builtOnFirstUse };

/** Picks one issue and turns it into the public error (one `param` per error, Stripe-style). */
export function toValidationError(issues: readonly Issue[], input: unknown): ValidationError {
  const typeIssue = issues.find((issue) => statusOf(issue) === 400);
  const issue = typeIssue ?? issues[0];
  if (issue === undefined) return new ValidationError('The request is invalid');
  const param = paramOf(issue);
  const status = statusOf(issue);
  const code = codeOf(issue, input);
  const message = messageOf(issue, param, input);
  return new ValidationError(message, { status, code, ...(param !== '' ? { param } : {}) });
}

function paramOf(issue: Issue): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  return path.join('.');
}

function statusOf(issue: Issue): 400 | 422 {
  if (issue.code === 'invalid_type' || issue.code === 'unrecognized_keys' || issue.code === 'invalid_union') return 400;
  if (issue.code === 'custom') return (issue.params as IssueParams | undefined)?.status ?? 422;
  return 422;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function codeOf(issue: Issue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return valueAt(input, issue.path) === undefined ? 'parameter_missing' : 'invalid_request';
    case 'unrecognized_keys':
      return 'unknown_parameter';
    case 'invalid_union':
      return 'invalid_request';
    case 'custom':
      return (issue.params as IssueParams | undefined)?.code ?? 'invalid_parameter';
    default:
      return 'invalid_parameter';
  }
}

const JSON_TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function messageOf(issue: Issue, param: string, input: unknown): string {
  const name = param === '' ? 'The request body' : param;
  switch (issue.code) {
    case 'invalid_type': {
      if (valueAt(input, issue.path) === undefined) return `${name} is required`;
      return `${name} must be ${JSON_TYPE_NAMES[issue.expected] ?? issue.expected}`;
    }
    case 'unrecognized_keys':
      return `Unknown parameter: ${param}`;
    case 'too_small':
      if (issue.origin === 'string') return `${name} must be at least ${String(issue.minimum)} characters`;
      if (issue.origin === 'array') return `${name} must have at least ${String(issue.minimum)} item(s)`;
      return `${name} must be at least ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'string') return `${name} must be at most ${String(issue.maximum)} characters`;
      if (issue.origin === 'array') return `${name} must have at most ${String(issue.maximum)} items`;
      return `${name} must be at most ${String(issue.maximum)}`;
    case 'invalid_format':
      return `${name} must be a valid ${issue.format === 'email' ? 'email address' : issue.format}`;
    case 'invalid_value':
      return `${name} must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'custom':
      return issue.message.replaceAll('{param}', name);
    default:
      return `${name} is invalid`;
  }
}

// ---- Field building blocks ------------------------------------------------------------------

/**
 * An integer number field within [min, max]. A string or other JSON type is a 400 type error;
 * a fraction or out-of-range value is a 422 with `code`.
 */
export function integerField(options: { min: number; max?: number; code?: string; what?: string }) {
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const code = options.code ?? 'invalid_parameter';
  const what = options.what ?? 'an integer';
  return withMeta(
    z.number().check(
      z.superRefine((value, ctx) => {
        if (!Number.isSafeInteger(value) || value < options.min || value > max) {
          const range = max === Number.MAX_SAFE_INTEGER ? `>= ${options.min}` : `between ${options.min} and ${max}`;
          ctx.addIssue({ code: 'custom', message: `{param} must be ${what} ${range}`, params: { code } });
        }
      }),
    ),
    { override: { type: 'integer', minimum: options.min, ...(max !== Number.MAX_SAFE_INTEGER ? { maximum: max } : {}) } },
  );
}

/** An amount in minor units: a safe integer, positive (or non-negative with allowZero). */
export function minorAmountField(options: { allowZero?: boolean } = {}) {
  return withMeta(
    z.number().check(
      z.superRefine((value, ctx) => {
        if (!Number.isSafeInteger(value)) {
          ctx.addIssue({
            code: 'custom',
            message: "{param} must be an integer in the currency's minor unit (e.g. 10050 for USD 100.50)",
            params: { code: 'invalid_amount' },
          });
        } else if (value < 0 || (value === 0 && options.allowZero !== true)) {
          ctx.addIssue({
            code: 'custom',
            message: options.allowZero === true ? '{param} must not be negative' : '{param} must be greater than zero',
            params: { code: 'invalid_amount' },
          });
        }
      }),
    ),
    {
      override: { type: 'integer', minimum: options.allowZero === true ? 0 : 1, maximum: Number.MAX_SAFE_INTEGER },
      description: "An integer in the currency's minor unit (10050 = USD 100.50).",
      example: 10050,
    },
  );
}

/**
 * The per-currency maximum (domain/money.ts maxAmountMinor) as a refinement of an object with
 * `amount` and `currency`: 422 `amount_too_large` with param `amount`. Runs only once both fields
 * passed their own checks.
 */
export function refineAmountLimit(value: { amount?: number; currency?: string }, ctx: z.core.$RefinementCtx): void {
  if (typeof value.amount !== 'number' || typeof value.currency !== 'string') return;
  const max = maxAmountMinor(value.currency);
  if (value.amount > max) {
    ctx.addIssue({
      code: 'custom',
      path: ['amount'],
      message: `{param} must be at most ${max} in ${value.currency} (${formatMajorUnits(max, value.currency)} ${value.currency})`,
      params: { code: 'amount_too_large' },
    });
  }
}

/** An ISO 4217 currency code; lower case is accepted and normalised to upper case. */
export const currencyField = withMeta(
  z.pipe(
    z.string(),
    z.transform((value: string, ctx) => {
      const code = normalizeCurrency(value);
      if (code === undefined) {
        ctx.issues.push({
          code: 'custom',
          message: `{param} must be an ISO 4217 currency code (e.g. USD); ${JSON.stringify(value.slice(0, 16))} is not supported`,
          params: { code: 'invalid_currency' },
          input: value,
        });
        return z.NEVER;
      }
      return code;
    }),
  ),
  { override: { pattern: '^[A-Za-z]{3}$' }, description: 'ISO 4217 currency code (lower case accepted).', example: 'USD' },
);

/**
 * An absolute http(s) URL a merchant gives us (redirects, inventory confirmation). https only,
 * unless `allowHttp` (local mode). No embedded credentials, at most 2048 characters. Full SSRF
 * guarding of URLs we call happens where we call them.
 */
export function merchantUrlField(options: { allowHttp: boolean }) {
  return withMeta(
    z.string().check(
      z.superRefine((value, ctx) => {
        const fail = (why: string): void => {
          ctx.addIssue({ code: 'custom', message: `{param} ${why}`, params: { code: 'invalid_url' } });
        };
        if (value.length > 2048) return fail('must be at most 2048 characters');
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          return fail('must be an absolute URL');
        }
        if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
          return fail(options.allowHttp ? 'must be an http or https URL' : 'must be an https URL');
        }
        if (url.username !== '' || url.password !== '') return fail('must not contain credentials');
        if (url.hostname === '') return fail('must have a host');
      }),
    ),
    { override: { format: 'uri', maxLength: 2048 }, example: 'https://shop.example.com/return' },
  );
}

/** A non-empty string without control characters, at most `max` characters. */
export function textField(max: number) {
  return z.string().check(
    z.minLength(1),
    z.maxLength(max),
    z.superRefine((value, ctx) => {
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(value)) {
        ctx.addIssue({
          code: 'custom',
          message: '{param} must not contain control characters',
          params: { code: 'invalid_parameter' },
        });
      }
    }),
  );
}

/** Stripe's metadata limits: 50 keys, keys up to 40 characters, string values up to 500. */
export const METADATA_LIMITS = { maxKeys: 50, maxKeyLength: 40, maxValueLength: 500, reservedPrefix: 'paystep_' } as const;

/** Keys that mean something to JavaScript objects; refused so metadata can never shadow them (zod drops `__proto__` itself). */
const RESERVED_METADATA_KEYS = new Set(['constructor', 'prototype']);

/**
 * The merchant's own `metadata`: string keys and string values within METADATA_LIMITS. Keys
 * starting `paystep_` are reserved for Paystep (422 `reserved_metadata_key`), as are the
 * JavaScript object keys; other limits are 422 `invalid_metadata`. A non-string value is a 400.
 */
export const metadataField = /* @__PURE__ */ (() =>
  withMeta(
    z.record(z.string(), z.string().check(z.maxLength(METADATA_LIMITS.maxValueLength))).check(
      z.superRefine((value, ctx) => {
        const keys = Object.keys(value);
        if (keys.length > METADATA_LIMITS.maxKeys) {
          ctx.addIssue({
            code: 'custom',
            message: `{param} must have at most ${METADATA_LIMITS.maxKeys} keys`,
            params: { code: 'invalid_metadata' },
          });
          return;
        }
        for (const key of keys) {
          if (key === '' || key.length > METADATA_LIMITS.maxKeyLength) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `{param}: metadata keys must be 1 to ${METADATA_LIMITS.maxKeyLength} characters`,
              params: { code: 'invalid_metadata' },
            });
            return;
          }
          if (key.startsWith(METADATA_LIMITS.reservedPrefix) || RESERVED_METADATA_KEYS.has(key)) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `{param} is a reserved metadata key`,
              params: { code: 'reserved_metadata_key' },
            });
            return;
          }
          // eslint-disable-next-line no-control-regex
          if (/[\u0000-\u001f\u007f]/.test(key)) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: '{param}: metadata keys must not contain control characters',
              params: { code: 'invalid_metadata' },
            });
            return;
          }
        }
      }),
    ),
    {
      description: `Your own key/value pairs (strings), returned as given. At most ${METADATA_LIMITS.maxKeys} keys of up to ${METADATA_LIMITS.maxKeyLength} characters, values up to ${METADATA_LIMITS.maxValueLength}; keys starting \`${METADATA_LIMITS.reservedPrefix}\` are reserved.`,
      example: { order_channel: 'web', campaign: 'winter-sale' },
    },
  ))();

/**
 * `allowed_ports` in the settings: ports the merchant's URLs may use besides 443 and 80 outside
 * local mode. At most 10; each 1024-65535 and not a well-known internal service port
 * (merchantPortRefusal in url-guard.ts); duplicates dropped, sorted; `[]` allows none. A function,
 * so a bundle that never builds the settings schema leaves it out.
 */
const allowedPortsField = () =>
  withMeta(
    z.pipe(
      z
        .array(
          withMeta(
            z.number().check(
              z.superRefine((value, ctx) => {
                const refusal = merchantPortRefusal(value);
                if (refusal !== undefined)
                  ctx.addIssue({ code: 'custom', message: `{param} ${refusal}`, params: { code: 'invalid_port' } });
              }),
            ),
            { override: { type: 'integer', minimum: 1, maximum: 65_535 } },
          ),
        )
        .check(z.maxLength(MAX_MERCHANT_ALLOWED_PORTS)),
      z.transform((ports: number[]) => [...new Set(ports)].sort((a, b) => a - b)),
    ),
    {
      description: `Ports your inventory confirmation URL and webhook endpoint URLs may use besides 443 and 80 (outside local mode). At most ${MAX_MERCHANT_ALLOWED_PORTS}; each 1024-65535, except well-known internal service ports (e.g. 3306, 5432, 6379); \`[]\` allows none.`,
      example: [8443],
    },
  );

// ---- Endpoint schemas -------------------------------------------------------------------------

export interface SchemaOptions {
  /** Accept http:// merchant URLs (local mode, env ALLOW_HTTP_MERCHANT_URLS=true). */
  allowHttpUrls: boolean;
}

/** Body of PUT /v1/settings (and `settings` in POST /v1/merchants): a patch; null clears a URL. */
export function settingsInputSchema(options: SchemaOptions) {
  const url = merchantUrlField({ allowHttp: options.allowHttpUrls });
  return z.strictObject({
    inventory_confirmation_url: z.optional(z.nullable(url)),
    inventory_confirmation_enabled: z.optional(z.boolean()),
    default_success_url: z.optional(z.nullable(url)),
    default_failure_url: z.optional(z.nullable(url)),
    expired_authorization_action: z.optional(z.enum(EXPIRED_AUTHORIZATION_ACTIONS)),
    allowed_ports: z.optional(allowedPortsField()),
  });
}

/** Body of POST /v1/merchants. */
export function createMerchantInputSchema(options: SchemaOptions) {
  return z.strictObject({
    name: textField(200),
    settings: z.optional(settingsInputSchema(options)),
  });
}

export const CHECKOUT_EXPIRY = { defaultSeconds: 86_400, minSeconds: 60, maxSeconds: 604_800 } as const;

/** Body of POST /v1/checkouts. */
export function createCheckoutInputSchema(options: SchemaOptions) {
  const url = merchantUrlField({ allowHttp: options.allowHttpUrls });
  return z
    .strictObject({
      merchant_order_ref: textField(128),
      amount: minorAmountField(),
      currency: currencyField,
      items: z
        .array(
          z.strictObject({
            sku: textField(128),
            name: z.optional(textField(256)),
            quantity: integerField({ min: 1, max: 1_000_000, code: 'invalid_quantity', what: 'an integer' }),
            unit_amount: z.optional(minorAmountField({ allowZero: true })),
          }),
        )
        .check(z.minLength(1), z.maxLength(100)),
      customer: z.optional(
        z.union([
          withMeta(
            z
              .string({ error: 'customer must be a customer id (cus_...) or an object' })
              .check(z.regex(CUSTOMER_ID_PATTERN, { error: 'customer must be a customer id (cus_...)' })),
            { description: 'A Paystep customer (cus_...) the checkout is for.', example: 'cus_3kTq9ZxY2bQ8' },
          ),
          z.strictObject({
            email: z.optional(z.email().check(z.maxLength(254))),
            name: z.optional(textField(256)),
          }),
        ]),
      ),
      save_payment_method: withMeta(z.optional(z.boolean({ error: 'save_payment_method must be a boolean' })), {
        description:
          'With `customer` a cus_ id: once the checkout succeeds, its payment method (pm_...) is saved on that customer.',
      }),
      success_url: z.optional(url),
      failure_url: z.optional(url),
      expires_in_seconds: z.optional(
        integerField({
          min: CHECKOUT_EXPIRY.minSeconds,
          max: CHECKOUT_EXPIRY.maxSeconds,
          code: 'invalid_expires_in_seconds',
          what: 'a whole number of seconds',
        }),
      ),
      capture_method: z.optional(z.enum(CAPTURE_METHODS)),
      metadata: z.optional(metadataField),
      max_payment_attempts: withMeta(
        z.optional(
          integerField({
            min: 1,
            max: MAX_PAYMENT_ATTEMPTS_LIMIT,
            code: 'invalid_max_payment_attempts',
            what: 'a whole number of tries',
          }),
        ),
        {
          description:
            'How many cards the buyer may try (1-5, default 1): a declined try with tries left reopens the checkout with `last_payment_error`.',
        },
      ),
    })
    .check(z.superRefine(refineAmountLimit), z.superRefine(refineSavePaymentMethod));
}

/** `save_payment_method` needs a Paystep customer (`customer: "cus_..."`) to save on: 422 otherwise. */
function refineSavePaymentMethod(
  input: { customer?: unknown; save_payment_method?: boolean | undefined },
  ctx: z.core.$RefinementCtx,
): void {
  if (input.save_payment_method === true && typeof input.customer !== 'string') {
    ctx.addIssue({
      code: 'custom',
      path: ['save_payment_method'],
      message: 'save_payment_method needs customer set to a customer id (cus_...)',
      params: { status: 422, code: 'parameter_missing' },
    });
  }
}

export type CreateCheckoutInput = z.output<ReturnType<typeof createCheckoutInputSchema>>;
export type SettingsInput = z.output<ReturnType<typeof settingsInputSchema>>;
export type CreateMerchantInput = z.output<ReturnType<typeof createMerchantInputSchema>>;

/** Query of GET /v1/checkouts: query values are strings, so numbers are parsed here. */
export const listCheckoutsQuerySchema = /* @__PURE__ */ builtOnFirstUse(() =>
  z.strictObject({
    merchant_order_ref: z.optional(textField(128)),
    limit: z.optional(
      z.pipe(
        z.string(),
        z.transform((value: string, ctx) => {
          const limit = /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
          if (!(limit >= 1 && limit <= 100)) {
            ctx.issues.push({
              code: 'custom',
              message: '{param} must be an integer between 1 and 100',
              params: { code: 'invalid_limit' },
              input: value,
            });
            return z.NEVER;
          }
          return limit;
        }),
      ),
    ),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  }),
);

/** The settings input (snake_case, null clears) as a domain patch. */
export function toSettingsPatch(input: SettingsInput): MerchantSettingsPatch {
  return {
    ...(input.inventory_confirmation_url !== undefined ? { inventoryConfirmationUrl: input.inventory_confirmation_url } : {}),
    ...(input.inventory_confirmation_enabled !== undefined
      ? { inventoryConfirmationEnabled: input.inventory_confirmation_enabled }
      : {}),
    ...(input.default_success_url !== undefined ? { defaultSuccessUrl: input.default_success_url } : {}),
    ...(input.default_failure_url !== undefined ? { defaultFailureUrl: input.default_failure_url } : {}),
    ...(input.expired_authorization_action !== undefined
      ? { expiredAuthorizationAction: input.expired_authorization_action }
      : {}),
    ...(input.allowed_ports !== undefined ? { allowedPorts: input.allowed_ports } : {}),
  };
}
