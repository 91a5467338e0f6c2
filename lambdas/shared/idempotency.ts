/**
 * Idempotency-Key handling for POSTs that create or move money. Scope = the authenticated
 * principal (merchant, admin, or the checkout for a browser). The first finished response for a
 * (scope, key) is stored and replayed byte for byte (status and body) on every later request
 * with that key, even if the body changed (seed rule), with `idempotent-replayed: true`. A
 * request still in flight gets 409 `idempotency_key_in_use`. 5xx responses are not stored (the
 * claim is released so the retry runs again). Stored bodies may contain secrets (secret keys,
 * client secrets), so they are encrypted with the SecretCipher before they reach the store.
 *
 * Hardening rule: a key is bound to the request's method, route and path ids (`requestBinding`).
 * Reused on another route or another resource it is 422 `idempotency_key_reused`, never a replay
 * of the other route's answer (a merchant using its order id as the key for create and cancel
 * would otherwise get the create replayed and the cancel never run). A request still in flight
 * (or whose process died: its claim lapses after the lock timeout) gets 409 with the wait in the
 * message.
 */
import { IdempotencyInFlightError, ValidationError } from '../errors';
import type { IdempotencyStore, StoredResponse } from '../ports/idempotency';
import type { SecretCipher } from '../ports/secrets';

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
 * What an Idempotency-Key is bound to: `POST /v1/checkouts/{id}/cancel id=chk_1` (route key plus
 * the path ids, sorted by name).
 */
export function requestBinding(routeKey: string, pathParameters: Readonly<Record<string, string>> = {}): string {
  const ids = Object.keys(pathParameters)
    .sort()
    .map((name) => `${name}=${pathParameters[name] ?? ''}`);
  return [routeKey, ...ids].join(' ');
}

/** 422 for a key first used on another route or resource. */
export function keyReusedError(): ValidationError {
  return new ValidationError(
    'This Idempotency-Key was already used for a different request (method, route or resource); use a new key',
    {
      status: 422,
      code: 'idempotency_key_reused',
      param: 'Idempotency-Key',
    },
  );
}

/** 409 for a key whose first request is still running, saying how long an abandoned claim holds it. */
export function keyInFlightError(now: Date, lockedUntil: number | undefined): IdempotencyInFlightError {
  const waitSeconds = lockedUntil === undefined ? undefined : Math.max(1, Math.ceil((lockedUntil - now.getTime()) / 1000));
  const wait =
    waitSeconds === undefined
      ? 'retry shortly'
      : `retry shortly; if that request's process stopped, its claim lapses and a retry can take over in ${waitSeconds} s`;
  return new IdempotencyInFlightError(`A request with this Idempotency-Key is still being processed; ${wait}`, {
    param: 'Idempotency-Key',
  });
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
  binding?: string,
): Promise<StoredResponse> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const begin = await deps.store.begin(scope, key, startedAt, binding);
  if (begin.kind === 'mismatch') throw keyReusedError();
  if (begin.kind === 'replay') {
    const body = await deps.cipher.decrypt(begin.response.body);
    return {
      statusCode: begin.response.statusCode,
      headers: { ...begin.response.headers, [IDEMPOTENT_REPLAYED_HEADER]: 'true' },
      body,
    };
  }
  if (begin.kind === 'in_flight') throw keyInFlightError(startedAt, begin.lockedUntil);
  const claim = begin.claim;

  let outcome: IdempotentExecution;
  try {
    outcome = await execute();
  } catch (error) {
    await releaseQuietly(deps, scope, key, claim);
    throw error;
  }
  if (!outcome.storable || outcome.response.statusCode >= 500) {
    await releaseQuietly(deps, scope, key, claim);
    return outcome.response;
  }
  try {
    const body = await deps.cipher.encrypt(outcome.response.body);
    await deps.store.complete(scope, key, { ...outcome.response, body }, claim);
  } catch (error) {
    // The work is done and the client deserves its answer; the claim times out on its own.
    deps.onStoreError?.(error, 'complete');
  }
  return outcome.response;
}

async function releaseQuietly(
  deps: IdempotencyDependencies,
  scope: string,
  key: string,
  claim: string | undefined,
): Promise<void> {
  try {
    await deps.store.release(scope, key, claim);
  } catch (error) {
    deps.onStoreError?.(error, 'release');
  }
}
