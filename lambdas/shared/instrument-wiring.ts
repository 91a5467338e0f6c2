/**
 * Module-scope wiring of financial instruments, for the entries that read or move them: the
 * instrument repository (balances + operations, one item each) and their Idempotency-Key records
 * (the one idempotency protocol's store with retention `forever`: kept for the instrument's life),
 * on top of wiring.ts.
 */
import { createDynamoIdempotencyStore } from '../adapters/dynamo-idempotency-store';
import { DynamoInstrumentRepository } from '../adapters/dynamo-instrument-repository';
import type { IdempotencyStore } from '../ports/idempotency';
import type { InstrumentRepository } from '../ports/instruments';
import { documentClient, storeConfig } from './wiring';

export const instrumentRepository: InstrumentRepository = new DynamoInstrumentRepository(documentClient, storeConfig.tableName);
export const operationKeyStore: IdempotencyStore = createDynamoIdempotencyStore(documentClient, storeConfig.tableName, {
  retention: 'forever',
});
