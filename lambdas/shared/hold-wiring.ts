/**
 * Manual capture's authorization holds (the expiry watch written with the hand-over, read by the
 * expiry sweep), on top of wiring.ts. The reconciliation sweep imports it at its cold start (the
 * expiry sweep lists due holds on every run); the saga steps take it on first use
 * (authorization-holds-lazy.ts), since only a manual-capture checkout reaches it.
 */
import { DynamoAuthorizationHoldStore } from '../adapters/dynamo-authorization-holds';
import type { AuthorizationHoldStore } from '../ports/authorization-holds';
import { documentClient, storeConfig } from './wiring';

export const authorizationHoldStore: AuthorizationHoldStore = new DynamoAuthorizationHoldStore(
  documentClient,
  storeConfig.tableName,
);
