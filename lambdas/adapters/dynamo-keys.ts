/**
 * The single-table item keys, in one place so every adapter and the README agree.
 * See the "Data model" section of the README for the full layout and access patterns.
 */

export const merchantKey = (merchantId: string) => ({ pk: `MERCHANT#${merchantId}`, sk: 'PROFILE' });
export const apiKeyKey = (secretKeyHash: string) => ({ pk: `APIKEY#${secretKeyHash}`, sk: 'APIKEY' });
export const checkoutKey = (checkoutId: string) => ({ pk: `CHECKOUT#${checkoutId}`, sk: 'CHECKOUT' });
export const orderRefKey = (merchantId: string, merchantOrderRef: string) => ({
  pk: `ORDERREF#${merchantId}#${merchantOrderRef}`,
  sk: 'ORDERREF',
});
export const checkoutEventKey = (checkoutId: string, at: string, type: string, suffix: string) => ({
  pk: `CHECKOUT#${checkoutId}`,
  sk: `EVENT#${at}#${type}#${suffix}`,
});
export const checkoutEventDedupeKey = (checkoutId: string, dedupeKey: string) => ({
  pk: `CHECKOUT#${checkoutId}`,
  sk: `EVENTKEY#${dedupeKey}`,
});
export const webhookEndpointKey = (merchantId: string, endpointId: string) => ({
  pk: `MERCHANT#${merchantId}`,
  sk: `${WEBHOOK_ENDPOINT_SK_PREFIX}${endpointId}`,
});
export const WEBHOOK_ENDPOINT_SK_PREFIX = 'WEBHOOK_ENDPOINT#';
export const merchantCheckoutsGsiPk = (merchantId: string) => `MERCHANT#${merchantId}#CHECKOUTS`;
export const idempotencyKey = (scope: string, key: string) => ({ pk: `IDEMP#${scope}#${key}`, sk: 'IDEMP' });

export const EVENT_SK_PREFIX = 'EVENT#';
export const GSI1 = 'gsi1';
