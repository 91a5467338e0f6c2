/**
 * Port: the persistence layer of the one idempotency protocol (lambdas/shared/idempotency.ts,
 * Powertools' model: one handler over this interface). One record per (scope, key): claimed with a
 * conditional write, completed with the response to replay, released after a failure a retry may
 * redo. How long records are kept is the store's retention option
 * (lambdas/adapters/dynamo-idempotency-store.ts `createDynamoIdempotencyStore`): 24 h for API
 * requests, the instrument's life for financial-instrument requests, whose store can also pin the
 * operation a request started so a retry resumes it.
 */

export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Where an unfinished request with an Idempotency-Key got to: the instrument and, for operations, the operation. */
export interface OperationKeyTarget {
  instrumentId: string;
  operationId?: string;
}

export type IdempotencyBegin =
  /**
   * `claim` identifies this request's hold on the key: complete and release act only with it.
   * `resume` is set when an earlier attempt with this key stopped midway after pinning its target
   * (PSP outage, crash): continue it.
   */
  | { kind: 'started'; claim?: string; resume?: OperationKeyTarget }
  | { kind: 'replay'; response: StoredResponse }
  /** `lockedUntil` (epoch ms): when an abandoned claim may be taken over by a retry. */
  | { kind: 'in_flight'; lockedUntil?: number }
  /** The key is bound to another method, route or path id (hardening rule): 422. */
  | { kind: 'mismatch' };

export interface IdempotencyStore {
  /**
   * Claims (scope, key) with a conditional write; an expired in-progress claim may be taken over.
   * `binding` (method, route and path ids) is stored with the key; a later request with the same
   * key and another binding gets `mismatch`.
   */
  begin(scope: string, key: string, now: Date, binding?: string): Promise<IdempotencyBegin>;
  /** Stores the response, only while `claim` (from begin) still holds the key. */
  complete(scope: string, key: string, response: StoredResponse, claim?: string): Promise<void>;
  /**
   * Ends the claim after a failure that should not be replayed (5xx, transient), only while `claim`
   * holds it; a pinned target stays for the retry.
   */
  release(scope: string, key: string, claim?: string): Promise<void>;
  /** Records what the request is working on, before it moves any balance (stores that can resume only). */
  pin?(scope: string, key: string, target: OperationKeyTarget): Promise<void>;
}
