/**
 * Request and response schemas of the connector routes (DESIGN Part 2 "Connectors", "Routing and
 * failover"): `POST /v1/connector_accounts`, `PUT /v1/routing` and their answers, snake_case on
 * the wire (amount_gte, amount_lt, card_brand, card_country, a rule's three_ds), with the conversions to and from the
 * domain's RoutingConfig. The handler validates with them and the OpenAPI document is generated from them.
 */
import * as z from 'zod';
import { CARD_BRANDS } from '../domain/card';
import type { ConnectorAccountView } from '../domain/connector-accounts';
import type { RoutingConditions, RoutingConfig } from '../domain/routing';
import { CONNECTOR_IDS } from '../connectors/connector-ids';
import { currencyField, minorAmountField } from './validation';

const connectorField = z
  .enum(CONNECTOR_IDS, { error: `{param} must be one of ${CONNECTOR_IDS.join(', ')}` })
  .meta({ example: 'stripe' });
const connectorList = z.array(connectorField).min(1).max(CONNECTOR_IDS.length);

const conditionsSchema = z.strictObject({
  currency: z
    .array(currencyField)
    .min(1)
    .max(50)
    .optional()
    .meta({ example: ['EUR'] }),
  amount_gte: minorAmountField({ allowZero: true }).optional().meta({ description: 'Minor units, inclusive.', example: 0 }),
  amount_lt: minorAmountField().optional().meta({ description: 'Minor units, exclusive.', example: 100000 }),
  card_brand: z
    .array(z.enum(CARD_BRANDS))
    .min(1)
    .max(CARD_BRANDS.length)
    .optional()
    .meta({ example: ['visa'] }),
  card_country: z
    .array(z.string().regex(/^[A-Z]{2}$/, { error: '{param} must be an ISO 3166-1 alpha-2 country code (e.g. DE)' }))
    .min(1)
    .max(250)
    .optional()
    .meta({ description: 'Issuing countries (ISO 3166-1 alpha-2).', example: ['DE'] }),
});

/** A rule's 3-D Secure requirement (issue 17): `required` asks for authentication on every payment the rule routes. */
const threeDsField = z
  .enum(['required'], { error: '{param} must be "required" (or left out)' })
  .optional()
  .meta({ description: '`required`: the authorization asks for 3-D Secure (a challenge) on every payment this rule routes.' });

/** Body of PUT /v1/routing (and the answer's shape, with `object`). */
export const routingInputSchema = z
  .strictObject({
    rules: z
      .array(z.strictObject({ conditions: conditionsSchema, connectors: connectorList, three_ds: threeDsField }))
      .max(50)
      .meta({ description: 'The first rule whose conditions all hold picks the ordered connector list.' }),
    default: connectorList.meta({ description: 'The connectors when no rule matches.' }),
    failover: z.boolean().meta({ description: 'Whether a soft decline, an outage or a timeout moves on to the next connector.' }),
  })
  .meta({ id: 'RoutingInput' });

export const routingSchema = z
  .strictObject({
    object: z.literal('routing'),
    rules: z.array(z.strictObject({ conditions: conditionsSchema, connectors: z.array(z.string()), three_ds: threeDsField })),
    default: z.array(z.string()),
    failover: z.boolean(),
  })
  .meta({ id: 'Routing' });

/** Body of POST /v1/connector_accounts: the connector and its credentials (stored encrypted, never returned). */
export const connectorAccountInputSchema = z
  .strictObject({
    connector: connectorField,
    credentials: z
      .record(z.string().regex(/^[a-z_]{1,40}$/), z.string().min(1).max(500))
      .meta({ description: 'For `stripe`: `{"api_key":"sk_live_..."}` (or a restricted `rk_` key). Never returned.' }),
  })
  .meta({ id: 'ConnectorAccountInput' });

export const connectorAccountSchema = z
  .strictObject({
    object: z.literal('connector_account'),
    connector: z.string().meta({ example: 'stripe' }),
    credentials: z.enum(['merchant', 'platform']).meta({
      description: "`merchant`: credentials you added (never shown); `platform`: the deployment's (locally, the sandboxes').",
    }),
    created_at: z.string().nullable(),
  })
  .meta({ id: 'ConnectorAccount' });

export const connectorAccountListSchema = z
  .strictObject({ object: z.literal('list'), data: z.array(connectorAccountSchema) })
  .meta({ id: 'ConnectorAccountList' });

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
