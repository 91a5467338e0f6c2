/**
 * Module-scope wiring of financial instruments, for the entries that read or move them: the
 * instrument repository (balances + operations, one item each), on top of wiring.ts. Their
 * Idempotency-Key records (the API entries that move instruments) are in operation-key-wiring.ts,
 * so the saga steps and the sweep, which write instruments without such keys, do not bundle that store.
 */
import { DynamoInstrumentRepository } from '../adapters/dynamo-instrument-repository';
import type { InstrumentRepository } from '../ports/instruments';
import { documentClient, storeConfig } from './wiring';

export const instrumentRepository: InstrumentRepository = new DynamoInstrumentRepository(documentClient, storeConfig.tableName);
