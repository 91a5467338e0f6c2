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
  /**
   * Set when the stored `body` is the compacted text of the real body (then encrypted;
   * lambdas/shared/stored-body.ts): the one-write path keeps its record, carried in a transaction
   * at 2 units per started KB, under 1 KB.
   */
  bodyEncoding?: 'deflate-v1';
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
  /** The one-write path (routes whose own write carries the record); stores without it use begin/complete. */
  readonly inline?: InlineIdempotency;
}

/**
 * A write of one adapter carried inside another adapter's transaction on the same table (the
 * "one write" path: the completed idempotency record rides in the create's own transaction).
 * `write` is adapter-specific (DynamoDB: one TransactWriteItems element) and opaque to use cases.
 */
export interface TransactionCompanion {
  readonly write: unknown;
  /** The error to throw instead of the carrier's own when this element's condition failed. */
  readonly conditionFailed: () => Error;
}

/** What an answered request is bound to and answered: the record the one-write path stores complete. */
export interface CompletedRecord {
  scope: string;
  key: string;
  /** Method, route and path ids (hardening rule). */
  binding: string;
  /** Exactly as replayed (its body already encrypted by the caller when a cipher is used). */
  response: StoredResponse;
  now: Date;
}

/**
 * The one-write path of a store: no claim first. The route's own write carries the completed
 * record (`companion`), or, for an answer that wrote nothing (a 4xx before the write), `record`
 * stores it alone. Both are conditional on the key being free (absent, past retention, or an
 * abandoned claim on the same binding), so of N concurrent duplicates exactly one lands and the
 * others read it back with `inspect` (replay, in flight or mismatch).
 */
export interface InlineIdempotency {
  companion(record: CompletedRecord): TransactionCompanion;
  /** Stores the completed record alone; false when the key is taken (then `inspect` it). */
  record(record: CompletedRecord): Promise<boolean>;
  /** What holds the key now; undefined when nothing does. */
  inspect(
    scope: string,
    key: string,
    now: Date,
    binding: string,
  ): Promise<Exclude<IdempotencyBegin, { kind: 'started' }> | undefined>;
}
