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
import { IdempotencyInFlightError, IdempotencyKeyTakenError, ValidationError } from '../errors';
import type {
  IdempotencyBegin,
  IdempotencyStore,
  InlineIdempotency,
  OperationKeyTarget,
  StoredResponse,
  TransactionCompanion,
} from '../ports/idempotency';
import type { SecretCipher } from '../ports/secrets';
import { compactBody, expandBody } from './stored-body';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

export interface IdempotencyDependencies {
  store: IdempotencyStore;
  /** Encrypts stored bodies (they may hold secrets: secret keys, client secrets); without it they are stored as they are. */
  cipher?: SecretCipher;
  now?: () => Date;
  /** Called when the store fails after the work is done (the response is still returned). */
  onStoreError?: (error: unknown, stage: 'complete' | 'release') => void;
}

/** The outcome of the protected work, plus whether it may be replayed later. */
export interface IdempotentExecution {
  response: StoredResponse;
  /** False for responses that must not be replayed (transient failures, lost races the client should retry); the caller decides. */
  storable: boolean;
  /** One-write path: the work's own write stored this response as the completed record (InlineRecording.recordWith). */
  carried?: boolean;
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

/** What the protected work may use: where an earlier attempt with the key stopped, and how to pin its own target. */
export interface IdempotencyContext {
  idempotencyKey: string;
  /** Set when an earlier attempt with this key stopped midway after pinning its target: continue it. */
  resume?: OperationKeyTarget;
  /** Records what the request is working on before it moves money (a no-op on stores that cannot resume). */
  pin: (target: OperationKeyTarget) => Promise<void>;
}

export interface IdempotencyOptions {
  /** Wait up to this long (polling) for a duplicate still running, so it usually gets the first answer. Default 0. */
  inFlightWaitMs?: number;
  /** Poll interval while waiting. Default 100 ms. */
  inFlightPollMs?: number;
  /** The error for a duplicate still running after the wait; default keyInFlightError (409 `idempotency_key_in_use`). */
  inFlightError?: (now: Date, lockedUntil: number | undefined) => Error;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The one idempotency protocol (Powertools' model: one handler over a persistence layer, the
 * IdempotencyStore port; how long records are kept is the store's retention option). Runs
 * `execute` at most once per (scope, key) while a record is retained, and returns what the client
 * must see: the fresh response, or the stored one with the replay header. A response marked not
 * storable releases the claim (a pinned target stays for the retry). With `deps.cipher` stored
 * bodies are encrypted.
 */
export async function executeIdempotently(
  deps: IdempotencyDependencies,
  scope: string,
  key: string,
  execute: (context: IdempotencyContext) => Promise<IdempotentExecution>,
  binding?: string,
  options: IdempotencyOptions = {},
): Promise<StoredResponse> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const deadline = startedAt.getTime() + (options.inFlightWaitMs ?? 0);
  let begin = await deps.store.begin(scope, key, startedAt, binding);
  while (begin.kind === 'in_flight' && now().getTime() < deadline) {
    await sleep(options.inFlightPollMs ?? 100);
    begin = await deps.store.begin(scope, key, now(), binding);
  }
  if (begin.kind === 'mismatch') throw keyReusedError();
  if (begin.kind === 'replay') return replayed(deps, begin.response);
  if (begin.kind === 'in_flight') throw (options.inFlightError ?? keyInFlightError)(now(), begin.lockedUntil);
  const claim = begin.claim;
  const context: IdempotencyContext = {
    idempotencyKey: key,
    ...(begin.resume !== undefined ? { resume: begin.resume } : {}),
    pin: async (target) => {
      await deps.store.pin?.(scope, key, target);
    },
  };

  let outcome: IdempotentExecution;
  try {
    outcome = await execute(context);
  } catch (error) {
    await releaseQuietly(deps, scope, key, claim);
    throw error;
  }
  if (!outcome.storable) {
    await releaseQuietly(deps, scope, key, claim);
    return outcome.response;
  }
  try {
    const body = deps.cipher !== undefined ? await deps.cipher.encrypt(outcome.response.body) : outcome.response.body;
    await deps.store.complete(scope, key, { ...outcome.response, body }, claim);
  } catch (error) {
    // The work is done and the client deserves its answer; the claim times out on its own (and a
    // retry then resumes the pinned target).
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

/** What the work gets on the one-write path: the completed record for its own write to carry. */
export interface InlineRecording {
  /**
   * The completed record of `response` (its body encrypted with the cipher) as a companion of the
   * work's own write. The work must then carry it in that write, or fail; a success it returns
   * after this call must be marked `carried` with this very response.
   */
  recordWith(response: StoredResponse): Promise<TransactionCompanion>;
}

/**
 * The one-write path of the idempotency protocol, for work whose own write can carry the record
 * (POST /v1/checkouts: the create's transaction). No claim first: the work runs, and its write
 * puts the record complete, conditional on the key being free, so of N concurrent duplicates one
 * lands and the others fail that condition (IdempotencyKeyTakenError from the carrier) and answer
 * from the record: the first response byte for byte with the replay header, 409 while another
 * request holds a claim, 422 for a key bound elsewhere. An answer that wrote nothing (a 4xx
 * before the write) is stored alone, on the same condition, exactly as the claim path stores it;
 * a 5xx or a lost race is never stored. Work that moves money or calls out before its write must
 * not use this path: a duplicate runs it up to the write.
 */
export async function executeWithInlineRecord(
  deps: IdempotencyDependencies,
  inline: InlineIdempotency,
  scope: string,
  key: string,
  binding: string,
  execute: (recording: InlineRecording) => Promise<IdempotentExecution>,
): Promise<StoredResponse> {
  const now = deps.now ?? (() => new Date());
  const encrypted = async (response: StoredResponse): Promise<StoredResponse> => {
    const { body, encoding } = compactBody(response.body);
    return {
      ...response,
      body: deps.cipher !== undefined ? await deps.cipher.encrypt(body) : body,
      bodyEncoding: encoding,
    };
  };
  const recording: InlineRecording = {
    recordWith: async (response) => inline.companion({ scope, key, binding, response: await encrypted(response), now: now() }),
  };
  const answerFromHolder = (holder: Exclude<IdempotencyBegin, { kind: 'started' }> | undefined) =>
    answerAsHolderSays(deps, now(), holder);

  let outcome: IdempotentExecution;
  try {
    outcome = await execute(recording);
  } catch (error) {
    if (!(error instanceof IdempotencyKeyTakenError)) throw error;
    // Our write found the key held: answer as the holder says (it may have been released since: 409, retry).
    return (await answerFromHolder(await inline.inspect(scope, key, now(), binding))) ?? throwInFlight(now());
  }
  if (outcome.carried === true) return outcome.response;
  if (!outcome.storable) {
    // A lost race or a transient failure is never stored, but a duplicate that already answered wins.
    return (await answerFromHolder(await inline.inspect(scope, key, now(), binding))) ?? outcome.response;
  }
  try {
    if (await inline.record({ scope, key, binding, response: await encrypted(outcome.response), now: now() })) {
      return outcome.response;
    }
  } catch (error) {
    deps.onStoreError?.(error, 'complete');
    return outcome.response;
  }
  return (await answerFromHolder(await inline.inspect(scope, key, now(), binding))) ?? outcome.response;
}

/** What a key's current holder answers a duplicate: 422 (another request), 409 (in flight) or its replay. */
async function answerAsHolderSays(
  deps: IdempotencyDependencies,
  now: Date,
  holder: Exclude<IdempotencyBegin, { kind: 'started' }> | undefined,
): Promise<StoredResponse | undefined> {
  if (holder === undefined) return undefined;
  if (holder.kind === 'mismatch') throw keyReusedError();
  if (holder.kind === 'in_flight') throw keyInFlightError(now, holder.lockedUntil);
  return replayed(deps, holder.response);
}

/**
 * The no-record path of the idempotency protocol, for work that records the request on the
 * resource its own conditional write changes (POST /v1/checkouts/{id}/pay: the checkout item holds
 * a digest of the key, lambdas/use-cases/pay-checkout.ts). A record of the key is read first, so a
 * key already answered or claimed here (an earlier 4xx, a request of the previous version) or
 * bound to another route or resource answers exactly as on the other paths: replay, 409, 422.
 * Then the work runs: an answer its write recorded, or one it found recorded (a retry or a
 * concurrent duplicate: it answers the first answer again, `carried`), is not stored again; an
 * answer that wrote nothing (a 4xx) is stored alone as on the one-write path; a 5xx never is.
 * One relaxation against the record paths: a key that only the resource records is not seen by a
 * later request on another route or resource, which then runs instead of getting 422.
 */
export async function executeWithResourceRecord(
  deps: IdempotencyDependencies,
  inline: InlineIdempotency,
  scope: string,
  key: string,
  binding: string,
  execute: () => Promise<IdempotentExecution>,
): Promise<StoredResponse> {
  const now = deps.now ?? (() => new Date());
  const answerFromHolder = (holder: Exclude<IdempotencyBegin, { kind: 'started' }> | undefined) =>
    answerAsHolderSays(deps, now(), holder);
  const before = await answerFromHolder(await inline.inspect(scope, key, now(), binding));
  if (before !== undefined) return before;
  const outcome = await execute();
  if (outcome.carried === true || !outcome.storable) return outcome.response;
  try {
    const { body, encoding } = compactBody(outcome.response.body);
    const stored = {
      ...outcome.response,
      body: deps.cipher !== undefined ? await deps.cipher.encrypt(body) : body,
      bodyEncoding: encoding,
    };
    if (await inline.record({ scope, key, binding, response: stored, now: now() })) return outcome.response;
  } catch (error) {
    deps.onStoreError?.(error, 'complete');
    return outcome.response;
  }
  return (await answerFromHolder(await inline.inspect(scope, key, now(), binding))) ?? outcome.response;
}

function throwInFlight(now: Date): never {
  throw keyInFlightError(now, undefined);
}

async function replayed(deps: IdempotencyDependencies, response: StoredResponse): Promise<StoredResponse> {
  const stored = deps.cipher !== undefined ? await deps.cipher.decrypt(response.body) : response.body;
  const body = response.bodyEncoding !== undefined ? expandBody(stored, response.bodyEncoding) : stored;
  return { statusCode: response.statusCode, headers: { ...response.headers, [IDEMPOTENT_REPLAYED_HEADER]: 'true' }, body };
}
