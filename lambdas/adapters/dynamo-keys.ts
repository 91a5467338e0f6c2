/**
 * The single-table item keys, in one place so every adapter and the README agree.
 * See the "Data model" section of the README for the full layout and access patterns.
 */

export const merchantKey = (merchantId: string) => ({ pk: `MERCHANT#${merchantId}`, sk: 'PROFILE' });
export const apiKeyKey = (secretKeyHash: string) => ({ pk: `APIKEY#${secretKeyHash}`, sk: 'APIKEY' });
export const CHECKOUT_PK_PREFIX = 'CHECKOUT#';
export const CHECKOUT_SK = 'CHECKOUT';
export const checkoutKey = (checkoutId: string) => ({ pk: `${CHECKOUT_PK_PREFIX}${checkoutId}`, sk: CHECKOUT_SK });
export const orderRefKey = (merchantId: string, merchantOrderRef: string) => ({
  pk: `ORDERREF#${merchantId}#${merchantOrderRef}`,
  sk: 'ORDERREF',
});
/** Timeline row items of the previous version (new rows live in the checkout item's `events` list). */
export const checkoutEventKey = (checkoutId: string, at: string, type: string, suffix: string) => ({
  pk: `CHECKOUT#${checkoutId}`,
  sk: `EVENT#${at}#${type}#${suffix}`,
});
/** The previous version's dedupe markers (now the checkout item's `eventKeys` set). */
export const checkoutEventDedupeKey = (checkoutId: string, dedupeKey: string) => ({
  pk: `CHECKOUT#${checkoutId}`,
  sk: `EVENTKEY#${dedupeKey}`,
});
export const webhookEndpointKey = (merchantId: string, endpointId: string) => ({
  pk: `MERCHANT#${merchantId}`,
  sk: `${WEBHOOK_ENDPOINT_SK_PREFIX}${endpointId}`,
});
export const WEBHOOK_ENDPOINT_SK_PREFIX = 'WEBHOOK_ENDPOINT#';
/** A merchant's checkouts: gsi2 (keys only, set at create); gsi1 for items written before gsi2. */
export const merchantCheckoutsGsiPk = (merchantId: string) => `MERCHANT#${merchantId}#CHECKOUTS`;
export const idempotencyKey = (scope: string, key: string) => ({ pk: `IDEMP#${scope}#${key}`, sk: 'IDEMP' });

/** A merchant's customer (`cus_...`); deleted customers stay as tombstones (status `deleted`). */
export const customerKey = (customerId: string) => ({ pk: `CUSTOMER#${customerId}`, sk: 'CUSTOMER' });

export const EVENT_SK_PREFIX = 'EVENT#';
/**
 * The sort-key range of a checkout's partition holding the item and the old `EVENT#<at>#...` rows
 * but not the `EVENTKEY#` markers ('CHECKOUT' < 'EVENT#...' < 'EVENT$' < 'EVENTKEY#...').
 */
export const OLD_TIMELINE_SK_RANGE = { ':first': CHECKOUT_SK, ':last': 'EVENT$' } as const;
export const GSI1 = 'gsi1';
/** Keys only, sparse (attributes `gsi2pk` / `gsi2sk`): costs a write unit only when an entry's keys change. */
export const GSI2 = 'gsi2';

// ---- Merchant events and webhook deliveries (lambdas/adapters/dynamo-event-store.ts) ----------
/** The event and all its deliveries share one partition: one Query reads an event with its delivery log. */
export const eventKey = (eventId: string) => ({ pk: `EVENT#${eventId}`, sk: 'EVENT' });
export const WEBHOOK_DELIVERY_SK_PREFIX = 'DELIVERY#';
export const webhookDeliveryKey = (eventId: string, endpointId: string) => ({
  pk: `EVENT#${eventId}`,
  sk: `${WEBHOOK_DELIVERY_SK_PREFIX}${endpointId}`,
});
/** gsi1: a merchant's events, newest first (`createdAt#eventId`). */
export const merchantEventsGsiPk = (merchantId: string) => `MERCHANT#${merchantId}#EVENTS`;
/**
 * gsi1, sparse: pending deliveries by due time (`nextAttemptAt#eventId#endpointId`), spread over
 * a few shards so a burst of events does not make one hot partition. Removed once a delivery is
 * delivered, dead-lettered or disabled, so the dispatcher only ever reads live work.
 */
export const WEBHOOK_DUE_SHARDS = 4;
export const webhookDueGsiPk = (shard: number) => `WEBHOOK_DUE#${shard}`;

// ---- Financial instruments (lambdas/adapters/dynamo-instrument-repository.ts) ------------------
/** The instrument with its balances and every operation, in one item (one conditional write per move). */
export const instrumentKey = (instrumentId: string) => ({ pk: `INSTRUMENT#${instrumentId}`, sk: 'INSTRUMENT' });
/** Claims a PSP authorization for one instrument. */
export const instrumentPspReferenceKey = (connector: string, pspReference: string) => ({
  pk: `PSPREF#${connector}#${pspReference}`,
  sk: 'PSPREF',
});
/**
 * gsi2 (keys only, sparse) entry of the saga's instrument: finds it by its PSP authorization
 * (`PSPREF#<connector>#<psp reference>`, sort key `FI`: short, the item stays under 1 KB) without a claim item of its own.
 */
export const instrumentPspReferenceGsiKey = (connector: string, pspReference: string) => ({
  gsi2pk: instrumentPspReferenceKey(connector, pspReference).pk,
  gsi2sk: 'FI',
});
/** Idempotency-Key record of an instrument request; no TTL: kept for the instrument's life. */
export const instrumentRequestKey = (scope: string, key: string) => ({ pk: `FIKEY#${scope}#${key}`, sk: 'FIKEY' });

// ---- PSP callbacks and recovery (lambdas/adapters/dynamo-callback-store.ts, dynamo-recovery-store.ts) ----
/** One item per callback id received: the conditional put that dedupes repeats (TTL 30 days). */
export const pspCallbackKey = (connector: string, callbackId: string) => ({
  pk: `PSPCALLBACK#${connector}#${callbackId}`,
  sk: 'PSPCALLBACK',
});
/** What callbacks and status queries told us about the authorization filed under our reference. */
export const pspAuthorizationStateKey = (connector: string, reference: string) => ({
  pk: `PSPAUTH#${connector}#${reference}`,
  sk: 'PSPAUTH',
});
/**
 * gsi3 (keys only, sparse): the recovery watch list. The checkout item itself carries the entry
 * (`gsi3pk` = RECOVERY_WATCH_GSI_PK, `gsi3sk` = when it entered processing, ISO 8601, so the
 * sweep reads the oldest first) from the write that enters `processing` until its result events
 * are stored (or, for a checkout that leaves `processing` for a non-terminal status, until that
 * write). In-flight payments only; one partition, as the watch items before it.
 */
export const GSI3 = 'gsi3';
export const RECOVERY_WATCH_GSI_PK = 'RECOVERY';
/** The sweep's lease on a checkout: attributes of the checkout item that no checkout write sets. */
export const RECOVERY_LEASE_UNTIL = 'recoveryLeaseUntil';
export const RECOVERY_LEASE_OWNER = 'recoveryLeaseOwner';
/**
 * The previous version's watch list: one item per watched checkout in this partition (with its own
 * lease). No longer written; the sweep still lists, recovers and deletes the ones left.
 */
export const PROCESSING_WATCH_PK = 'RECOVERY#PROCESSING';
export const processingWatchKey = (checkoutId: string) => ({ pk: PROCESSING_WATCH_PK, sk: `CHECKOUT#${checkoutId}` });

// ---- Manual capture: authorization holds (lambdas/adapters/dynamo-authorization-holds.ts) -------
/** One item per manual-capture authorization handed to the merchant (the expiry watch). */
export const authorizationHoldKey = (instrumentId: string) => ({ pk: `AUTHHOLD#${instrumentId}`, sk: 'AUTHHOLD' });
/**
 * gsi1, sparse: live holds by next due time (`<warnAt|expiresAt>#<instrument id>`), so the sweep
 * reads only holds that are due; removed from the index once the hold is done.
 */
export const AUTHORIZATION_HOLD_DUE_GSI_PK = 'AUTHHOLD_DUE';

// ---- Operator view: per-connector, per-minute counters (lambdas/adapters/dynamo-connector-stats.ts)
export const CONNECTOR_STATS_SHARDS = 8;
export const connectorStatsPk = (connector: string) => `CONNSTATS#${connector}`;
export const connectorStatsKey = (connector: string, minute: string, shard: number) => ({
  pk: connectorStatsPk(connector),
  sk: `MINUTE#${minute}#${shard}`,
});
