/**
 * Module-scope wiring of the financial instruments' Idempotency-Key records (the one idempotency
 * protocol's store with retention `forever`: kept for the instrument's life), for the API entries
 * that move instruments (/v1/financial_instruments, /newstore), on top of wiring.ts.
 */
import { createDynamoIdempotencyStore } from '../adapters/dynamo-idempotency-store';
import type { IdempotencyStore } from '../ports/idempotency';
import { documentClient, storeConfig } from './wiring';

export const operationKeyStore: IdempotencyStore = createDynamoIdempotencyStore(documentClient, storeConfig.tableName, {
  retention: 'forever',
});
