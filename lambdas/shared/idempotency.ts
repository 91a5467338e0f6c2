/**
 * Idempotency-Key handling for POSTs that create or move money. Scope = the authenticated
 * principal (merchant, admin, or the checkout for a browser). The first finished response for a
 * (scope, key) is stored and replayed byte for byte (status and body) on every later request
 * with that key, even if the body changed (seed rule), with `idempotent-replayed: true`. A
 * request still in flight gets 409 `idempotency_key_in_use`. 5xx responses are not stored (the
 * claim is released so the retry runs again). Stored bodies may contain secrets (secret keys,
 * client secrets), so they are encrypted with the SecretCipher before they reach the store.
 */
import { IdempotencyInFlightError, ValidationError } from '../errors';
import type { IdempotencyStore, SecretCipher, StoredResponse } from '../ports';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

export interface IdempotencyDependencies {
  store: IdempotencyStore;
  cipher: SecretCipher;
  now?: () => Date;
  /** Called when the store fails after the work is done (the response is still returned). */
  onStoreError?: (error: unknown, stage: 'complete' | 'release') => void;
}

/** The outcome of the protected work, plus whether it may be replayed later. */
export interface IdempotentExecution {
  response: StoredResponse;
  /** False for responses that must not be replayed (5xx, lost races the client should retry). */
  storable: boolean;
}

/**
 * Reads the Idempotency-Key header (any case). Returns undefined when absent; throws 400
 * `invalid_idempotency_key` unless it is 1..255 printable ASCII characters.
 */
export function readIdempotencyKey(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  let value: string | undefined;
  for (const [name, headerValue] of Object.entries(headers)) {
    if (name.toLowerCase() === IDEMPOTENCY_KEY_HEADER) value = headerValue;
  }
  if (value === undefined) return undefined;
  if (value.length < 1 || value.length > 255 || !/^[\x20-\x7e]+$/.test(value)) {
    throw new ValidationError('Idempotency-Key must be 1 to 255 printable ASCII characters', {
      param: 'Idempotency-Key',
      code: 'invalid_idempotency_key',
    });
  }
  return value;
}

/**
 * Runs `execute` at most once per (scope, key) while a record is retained, and returns what the
 * client must see: the fresh response, or the stored one with the replay header.
 */
export async function executeIdempotently(
  deps: IdempotencyDependencies,
  scope: string,
  key: string,
  execute: () => Promise<IdempotentExecution>,
): Promise<StoredResponse> {
  const now = deps.now ?? (() => new Date());
  const begin = await deps.store.begin(scope, key, now());
  if (begin.kind === 'replay') {
    const body = await deps.cipher.decrypt(begin.response.body);
    return {
      statusCode: begin.response.statusCode,
      headers: { ...begin.response.headers, [IDEMPOTENT_REPLAYED_HEADER]: 'true' },
      body,
    };
  }
  if (begin.kind === 'in_flight') {
    throw new IdempotencyInFlightError('A request with this Idempotency-Key is still being processed; retry shortly', {
      param: 'Idempotency-Key',
    });
  }

  let outcome: IdempotentExecution;
  try {
    outcome = await execute();
  } catch (error) {
    await releaseQuietly(deps, scope, key);
    throw error;
  }
  if (!outcome.storable || outcome.response.statusCode >= 500) {
    await releaseQuietly(deps, scope, key);
    return outcome.response;
  }
  try {
    const body = await deps.cipher.encrypt(outcome.response.body);
    await deps.store.complete(scope, key, { ...outcome.response, body });
  } catch (error) {
    // The work is done and the client deserves its answer; the claim times out on its own.
    deps.onStoreError?.(error, 'complete');
  }
  return outcome.response;
}

async function releaseQuietly(deps: IdempotencyDependencies, scope: string, key: string): Promise<void> {
  try {
    await deps.store.release(scope, key);
  } catch (error) {
    deps.onStoreError?.(error, 'release');
  }
}
