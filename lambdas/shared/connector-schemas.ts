/**
 * Request and response schemas of the connector routes (DESIGN Part 2 "Connectors", "Routing and
 * failover"): `POST /v1/connector_accounts`, `PUT /v1/routing` and their answers, snake_case on
 * the wire (amount_gte, amount_lt, card_brand, card_country, a rule's three_ds), with the conversions to and from the
 * domain's RoutingConfig. The handler validates with them and the OpenAPI document is generated from them.
 */
import * as z from 'zod/mini';
import { CARD_BRANDS } from '../domain/card';
import type { ConnectorAccountView } from '../domain/connector-accounts';
import type { RoutingConditions, RoutingConfig } from '../domain/routing';
import { CONNECTOR_IDS } from '../connectors/connector-ids';
import { currencyField, minorAmountField, withMeta } from './validation';

const connectorField = withMeta(z.enum(CONNECTOR_IDS, { error: `{param} must be one of ${CONNECTOR_IDS.join(', ')}` }), {
  example: 'stripe',
});
const connectorList = z.array(connectorField).check(z.minLength(1), z.maxLength(CONNECTOR_IDS.length));

const conditionsSchema = z.strictObject({
  currency: withMeta(z.optional(z.array(currencyField).check(z.minLength(1), z.maxLength(50))), { example: ['EUR'] }),
  amount_gte: withMeta(z.optional(minorAmountField({ allowZero: true })), { description: 'Minor units, inclusive.', example: 0 }),
  amount_lt: withMeta(z.optional(minorAmountField()), { description: 'Minor units, exclusive.', example: 100000 }),
  card_brand: withMeta(z.optional(z.array(z.enum(CARD_BRANDS)).check(z.minLength(1), z.maxLength(CARD_BRANDS.length))), {
    example: ['visa'],
  }),
  card_country: withMeta(
    z.optional(
      z
        .array(z.string().check(z.regex(/^[A-Z]{2}$/, { error: '{param} must be an ISO 3166-1 alpha-2 country code (e.g. DE)' })))
        .check(z.minLength(1), z.maxLength(250)),
    ),
    { description: 'Issuing countries (ISO 3166-1 alpha-2).', example: ['DE'] },
  ),
});

/** A rule's 3-D Secure requirement (issue 17): `required` asks for authentication on every payment the rule routes. */
const threeDsField = withMeta(z.optional(z.enum(['required'], { error: '{param} must be "required" (or left out)' })), {
  description: '`required`: the authorization asks for 3-D Secure (a challenge) on every payment this rule routes.',
});

/** Body of PUT /v1/routing (and the answer's shape, with `object`). */
export const routingInputSchema = withMeta(
  z.strictObject({
    rules: withMeta(
      z
        .array(z.strictObject({ conditions: conditionsSchema, connectors: connectorList, three_ds: threeDsField }))
        .check(z.maxLength(50)),
      { description: 'The first rule whose conditions all hold picks the ordered connector list.' },
    ),
    default: withMeta(connectorList, { description: 'The connectors when no rule matches.' }),
    failover: withMeta(z.boolean(), {
      description: 'Whether a soft decline, an outage or a timeout moves on to the next connector.',
    }),
  }),
  { id: 'RoutingInput' },
);

export const routingSchema = withMeta(
  z.strictObject({
    object: z.literal('routing'),
    rules: z.array(z.strictObject({ conditions: conditionsSchema, connectors: z.array(z.string()), three_ds: threeDsField })),
    default: z.array(z.string()),
    failover: z.boolean(),
  }),
  { id: 'Routing' },
);

/** Body of POST /v1/connector_accounts: the connector and its credentials (stored encrypted, never returned). */
export const connectorAccountInputSchema = withMeta(
  z.strictObject({
    connector: connectorField,
    credentials: withMeta(
      z.record(z.string().check(z.regex(/^[a-z_]{1,40}$/)), z.string().check(z.minLength(1), z.maxLength(500))),
      { description: 'For `stripe`: `{"api_key":"sk_live_..."}` (or a restricted `rk_` key). Never returned.' },
    ),
  }),
  { id: 'ConnectorAccountInput' },
);

export const connectorAccountSchema = withMeta(
  z.strictObject({
    object: z.literal('connector_account'),
    connector: withMeta(z.string(), { example: 'stripe' }),
    credentials: withMeta(z.enum(['merchant', 'platform']), {
      description: "`merchant`: credentials you added (never shown); `platform`: the deployment's (locally, the sandboxes').",
    }),
    created_at: z.nullable(z.string()),
  }),
  { id: 'ConnectorAccount' },
);

export const connectorAccountListSchema = withMeta(
  z.strictObject({ object: z.literal('list'), data: z.array(connectorAccountSchema) }),
  { id: 'ConnectorAccountList' },
);

/** The wire body as the domain's RoutingConfig. */
export function toRoutingConfig(input: z.output<typeof routingInputSchema>): RoutingConfig {
  return {
    rules: input.rules.map((rule) => ({
      conditions: toConditions(rule.conditions),
      connectors: [...rule.connectors],
      ...(rule.three_ds !== undefined ? { threeDs: rule.three_ds } : {}),
    })),
    default: [...input.default],
    failover: input.failover,
  };
}

function toConditions(wire: z.output<typeof conditionsSchema>): RoutingConditions {
  return {
    ...(wire.currency !== undefined ? { currency: wire.currency } : {}),
    ...(wire.amount_gte !== undefined ? { amountGte: wire.amount_gte } : {}),
    ...(wire.amount_lt !== undefined ? { amountLt: wire.amount_lt } : {}),
    ...(wire.card_brand !== undefined ? { cardBrand: wire.card_brand } : {}),
    ...(wire.card_country !== undefined ? { cardCountry: wire.card_country } : {}),
  };
}

export function toRoutingView(routing: RoutingConfig): z.output<typeof routingSchema> {
  return {
    object: 'routing',
    rules: routing.rules.map((rule) => ({
      conditions: {
        ...(rule.conditions.currency !== undefined ? { currency: rule.conditions.currency } : {}),
        ...(rule.conditions.amountGte !== undefined ? { amount_gte: rule.conditions.amountGte } : {}),
        ...(rule.conditions.amountLt !== undefined ? { amount_lt: rule.conditions.amountLt } : {}),
        ...(rule.conditions.cardBrand !== undefined ? { card_brand: rule.conditions.cardBrand } : {}),
        ...(rule.conditions.cardCountry !== undefined ? { card_country: rule.conditions.cardCountry } : {}),
      },
      connectors: rule.connectors,
      ...(rule.threeDs !== undefined ? { three_ds: rule.threeDs } : {}),
    })),
    default: routing.default,
    failover: routing.failover,
  };
}

export function toConnectorAccountView(account: ConnectorAccountView): z.output<typeof connectorAccountSchema> {
  return {
    object: 'connector_account',
    connector: account.connector,
    credentials: account.credentials,
    created_at: account.createdAt ?? null,
  };
}
