/**
 * Ports: Idempotency-Key records. `IdempotencyStore` for API requests (kept 24 h),
 * `OperationKeyStore` for financial-instrument requests (kept for the instrument's life, able to
 * pin the operation a request started).
 */

export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type IdempotencyBegin =
  /** `claim` identifies this request's hold on the key: complete and release act only with it. */
  | { kind: 'started'; claim?: string }
  | { kind: 'replay'; response: StoredResponse }
  /** `lockedUntil` (epoch ms): when an abandoned claim may be taken over by a retry. */
  | { kind: 'in_flight'; lockedUntil?: number }
  /** The key is bound to another method, route or path id (hardening rule): 422. */
  | { kind: 'mismatch' };

export interface IdempotencyStore {
  /**
   * Claims (scope, key) with a conditional put; an expired in-progress claim may be taken over.
   * `binding` (method, route and path ids) is stored with the key; a later request with the same
   * key and another binding gets `mismatch`.
   */
  begin(scope: string, key: string, now: Date, binding?: string): Promise<IdempotencyBegin>;
  /** Stores the response, only while `claim` (from begin) still holds the key. */
  complete(scope: string, key: string, response: StoredResponse, claim?: string): Promise<void>;
  /** Releases the claim after a failure that should not be replayed (5xx), only while `claim` holds it. */
  release(scope: string, key: string, claim?: string): Promise<void>;
}

/** Where an unfinished request with an Idempotency-Key got to: the instrument and, for operations, the operation. */
export interface OperationKeyTarget {
  instrumentId: string;
  operationId?: string;
}

export type OperationKeyClaim =
  /** `resume` is set when an earlier attempt with this key stopped midway (PSP outage, crash): continue it. */
  | { kind: 'started'; resume?: OperationKeyTarget }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in_flight'; lockedUntil?: number }
  /** The key was first used on another route or instrument (hardening rule): 422. */
  | { kind: 'mismatch' };

/**
 * Idempotency-Key records of financial-instrument requests: like IdempotencyStore, but kept for
 * the instrument's life (no TTL) and able to pin the operation a request started, so a retry
 * after a PSP outage resumes that operation rather than starting a second one.
 */
export interface OperationKeyStore {
  /** `binding` (method, route and path ids) is stored with the key; another binding is `mismatch`. */
  claim(scope: string, key: string, now: Date, binding?: string): Promise<OperationKeyClaim>;
  /** Records what the request is working on, before it moves any balance. */
  pin(scope: string, key: string, target: OperationKeyTarget): Promise<void>;
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
  /** Ends the claim without a response (transient failure); the pinned target stays for the retry. */
  release(scope: string, key: string): Promise<void>;
}
