/**
 * IdempotencyStore on DynamoDB: one item per (scope, Idempotency-Key). A conditional put claims
 * the key (so of N concurrent requests exactly one runs); the finished response is stored on the
 * same item and replayed byte for byte. An in-progress claim older than the lock timeout (the
 * request's Lambda died) may be taken over. Records expire through the table's TTL attribute
 * `expiresAt` 24 h after they were written. This adapter stores the response exactly as given:
 * the caller (lambdas/shared/idempotency.ts) encrypts bodies that may hold secrets.
 *
 * `createDynamoIdempotencyStore` chooses by retention: `{ seconds }` is this class (TTL), `forever`
 * is DynamoOperationKeyStore below (no TTL, pins the operation a request started).
 *
 * Hardening: the item records the request's `binding` (method, route, path ids): the same key on
 * another binding is `mismatch`, never a replay. Each claim carries a random `claimId`; complete
 * and release are conditional on it, so a request whose claim was taken over after its lock
 * expired can neither overwrite nor delete the new holder's claim.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from './dynamo-client';
import { IdempotencyKeyTakenError } from '../errors';
import type {
  CompletedRecord,
  IdempotencyBegin,
  IdempotencyStore,
  InlineIdempotency,
  OperationKeyTarget,
  StoredResponse,
} from '../ports/idempotency';
import { isConditionalCheckFailure, translateStoreError, withoutUndefined } from './dynamo-support';
import { idempotencyKey, instrumentRequestKey } from './dynamo-keys';

export interface DynamoIdempotencyStoreOptions {
  /** After this long an unfinished claim is considered abandoned and may be taken over. */
  lockTimeoutMs?: number;
  /** How long a record is kept (TTL); replays are guaranteed within this window. */
  retentionSeconds?: number;
  /** Clock for `complete` (begin takes `now` explicitly). */
  now?: () => Date;
}

export const DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS = 60_000;
export const DEFAULT_IDEMPOTENCY_RETENTION_SECONDS = 24 * 60 * 60;

const BEGIN_ATTEMPTS = 3;

export class DynamoIdempotencyStore implements IdempotencyStore {
  private readonly lockTimeoutMs: number;
  private readonly retentionSeconds: number;
  private readonly now: () => Date;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoIdempotencyStoreOptions = {},
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_IDEMPOTENCY_LOCK_TIMEOUT_MS;
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_IDEMPOTENCY_RETENTION_SECONDS;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Claims the key unless a live record exists. The condition admits a missing item, an
   * abandoned claim (lock expired) and a record past its TTL that DynamoDB has not reaped yet.
   */
  async begin(scope: string, key: string, now: Date, binding?: string): Promise<IdempotencyBegin> {
    const nowMs = now.getTime();
    const nowSeconds = Math.floor(nowMs / 1000);
    for (let attempt = 1; attempt <= BEGIN_ATTEMPTS; attempt += 1) {
      const claim = randomUUID();
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...idempotencyKey(scope, key),
              entity: 'idempotency',
              state: 'in_progress',
              claimId: claim,
              ...(binding !== undefined ? { binding } : {}),
              lockedUntil: nowMs + this.lockTimeoutMs,
              createdAt: now.toISOString(),
              expiresAt: nowSeconds + this.retentionSeconds,
            },
            // An abandoned claim is taken over only by a request on the same binding.
            ConditionExpression:
              binding !== undefined
                ? 'attribute_not_exists(pk) OR (#state = :inProgress AND lockedUntil < :nowMs AND (attribute_not_exists(#binding) OR #binding = :binding)) OR expiresAt < :nowSeconds'
                : 'attribute_not_exists(pk) OR (#state = :inProgress AND lockedUntil < :nowMs) OR expiresAt < :nowSeconds',
            ExpressionAttributeNames: { '#state': 'state', ...(binding !== undefined ? { '#binding': 'binding' } : {}) },
            ExpressionAttributeValues: {
              ':inProgress': 'in_progress',
              ':nowMs': nowMs,
              ':nowSeconds': nowSeconds,
              ...(binding !== undefined ? { ':binding': binding } : {}),
            },
          }),
        );
        return { kind: 'started', claim };
      } catch (error) {
        if (!isConditionalCheckFailure(error)) return translateStoreError(error);
      }
      const holder = await this.inspect(scope, key, now, binding);
      if (holder !== undefined) return holder;
      // Released or reaped between our put and our read: try to claim again.
    }
    return { kind: 'in_flight' };
  }

  /** What holds the key now (a live record), or undefined when nothing does. */
  async inspect(
    scope: string,
    key: string,
    now: Date,
    binding?: string,
  ): Promise<Exclude<IdempotencyBegin, { kind: 'started' }> | undefined> {
    const existing = await this.read(scope, key);
    const expired = typeof existing?.['expiresAt'] === 'number' && existing['expiresAt'] < Math.floor(now.getTime() / 1000);
    if (existing === undefined || expired) return undefined;
    if (boundElsewhere(existing, binding)) return { kind: 'mismatch' };
    if (existing['state'] === 'completed' && existing['response'] !== undefined) {
      return { kind: 'replay', response: existing['response'] as StoredResponse };
    }
    if (existing['state'] === 'in_progress') {
      const lockedUntil = existing['lockedUntil'];
      return typeof lockedUntil === 'number' ? { kind: 'in_flight', lockedUntil } : { kind: 'in_flight' };
    }
    return undefined;
  }

  /**
   * The one-write path: the record put complete, with the response, by the route's own
   * transaction (`companion`) or alone (`record`), on the same condition as a claim (the key is
   * absent, past retention, or an abandoned claim on the same binding). No `lockedUntil`, no
   * `claimId`: nothing ever completes or releases it.
   */
  readonly inline: InlineIdempotency = {
    companion: (record) => ({
      write: { Put: this.completedPut(record) },
      conditionFailed: () => new IdempotencyKeyTakenError(),
    }),
    record: async (record) => {
      try {
        await this.client.send(new PutCommand(this.completedPut(record)));
        return true;
      } catch (error) {
        if (isConditionalCheckFailure(error)) return false;
        return translateStoreError(error);
      }
    },
    inspect: (scope, key, now, binding) => this.inspect(scope, key, now, binding),
  };

  private completedPut({ scope, key, binding, response, now }: CompletedRecord) {
    const nowMs = now.getTime();
    const nowSeconds = Math.floor(nowMs / 1000);
    return {
      TableName: this.tableName,
      Item: {
        ...idempotencyKey(scope, key),
        entity: 'idempotency',
        state: 'completed',
        binding,
        response: {
          statusCode: response.statusCode,
          headers: response.headers,
          body: response.body,
          ...(response.bodyEncoding !== undefined ? { bodyEncoding: response.bodyEncoding } : {}),
        },
        // No createdAt: written at expiresAt minus the retention, and the record must stay under 1 KB.
        expiresAt: nowSeconds + this.retentionSeconds,
      },
      ConditionExpression:
        'attribute_not_exists(pk) OR (#state = :inProgress AND lockedUntil < :nowMs AND (attribute_not_exists(#binding) OR #binding = :binding)) OR expiresAt < :nowSeconds',
      ExpressionAttributeNames: { '#state': 'state', '#binding': 'binding' },
      ExpressionAttributeValues: {
        ':inProgress': 'in_progress',
        ':nowMs': nowMs,
        ':nowSeconds': nowSeconds,
        ':binding': binding,
      },
    };
  }

  /**
   * Stores the response on our claim. If the claim was taken over after our lock expired and the
   * other request already completed, the first stored response stays (no-op).
   */
  async complete(scope: string, key: string, response: StoredResponse, claim?: string): Promise<void> {
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: idempotencyKey(scope, key),
          UpdateExpression: 'SET #state = :completed, #response = :response, expiresAt = :expiresAt REMOVE lockedUntil',
          ConditionExpression: claim !== undefined ? '#state = :inProgress AND claimId = :claim' : '#state = :inProgress',
          ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
          ExpressionAttributeValues: {
            ':completed': 'completed',
            ':inProgress': 'in_progress',
            ':response': { statusCode: response.statusCode, headers: response.headers, body: response.body },
            ':expiresAt': nowSeconds + this.retentionSeconds,
            ...(claim !== undefined ? { ':claim': claim } : {}),
          },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return;
      translateStoreError(error);
    }
  }

  /** Deletes an unfinished claim so the client's retry runs afresh (used after a 5xx). */
  async release(scope: string, key: string, claim?: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: idempotencyKey(scope, key),
          ConditionExpression: claim !== undefined ? '#state = :inProgress AND claimId = :claim' : '#state = :inProgress',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':inProgress': 'in_progress', ...(claim !== undefined ? { ':claim': claim } : {}) },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return;
      translateStoreError(error);
    }
  }

  private async read(scope: string, key: string): Promise<Record<string, unknown> | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: idempotencyKey(scope, key), ConsistentRead: true }),
      );
      return Item;
    } catch (error) {
      return translateStoreError(error);
    }
  }
}

/** Records written before bindings existed (no `binding`) match any request. */
function boundElsewhere(item: Record<string, unknown>, binding: string | undefined): boolean {
  return binding !== undefined && typeof item['binding'] === 'string' && item['binding'] !== binding;
}

export interface DynamoOperationKeyStoreOptions {
  /** After this long an unfinished claim is considered abandoned and may be taken over (and resumed). */
  lockTimeoutMs?: number;
}

export const DEFAULT_OPERATION_KEY_LOCK_TIMEOUT_MS = 60_000;

/**
 * Idempotency-Key records for instrument requests, kept for the instrument's life (no TTL): the
 * IdempotencyStore with retention `forever` (createDynamoIdempotencyStore). A conditional update claims the key (exactly
 * one of N concurrent requests runs), `pin` records the instrument/operation before money moves,
 * `complete` stores the response replayed to every later request with the key. The optional
 * `claim` of complete/release is not needed here: every claim of a key resumes the same pinned target.
 */
export class DynamoOperationKeyStore implements IdempotencyStore {
  private readonly lockTimeoutMs: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoOperationKeyStoreOptions = {},
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_OPERATION_KEY_LOCK_TIMEOUT_MS;
  }

  /**
   * Claims the key; a released or abandoned claim is taken over with its pinned target kept, but
   * only by a request on the same `binding` (method, route, path ids): another binding is
   * `mismatch` (hardening rule), so a refund's key can never resume or replay a capture.
   */
  async begin(scope: string, key: string, now: Date, binding?: string): Promise<IdempotencyBegin> {
    const nowMs = now.getTime();
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: instrumentRequestKey(scope, key),
          UpdateExpression:
            'SET entity = :entity, #state = :inProgress, lockedUntil = :lockedUntil, createdAt = if_not_exists(createdAt, :createdAt)' +
            (binding !== undefined ? ', #binding = if_not_exists(#binding, :binding)' : ''),
          ConditionExpression:
            binding !== undefined
              ? '(attribute_not_exists(pk) OR (#state = :inProgress AND lockedUntil < :nowMs)) AND (attribute_not_exists(#binding) OR #binding = :binding)'
              : 'attribute_not_exists(pk) OR (#state = :inProgress AND lockedUntil < :nowMs)',
          ExpressionAttributeNames: { '#state': 'state', ...(binding !== undefined ? { '#binding': 'binding' } : {}) },
          ExpressionAttributeValues: {
            ':entity': 'instrument_request',
            ':inProgress': 'in_progress',
            ':lockedUntil': nowMs + this.lockTimeoutMs,
            ':createdAt': now.toISOString(),
            ':nowMs': nowMs,
            ...(binding !== undefined ? { ':binding': binding } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const target = Attributes?.['target'] as OperationKeyTarget | undefined;
      return target !== undefined ? { kind: 'started', resume: target } : { kind: 'started' };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) return translateStoreError(error);
    }
    const { Item } = await this.client
      .send(new GetCommand({ TableName: this.tableName, Key: instrumentRequestKey(scope, key), ConsistentRead: true }))
      .catch((error: unknown) => translateStoreError(error));
    if (binding !== undefined && typeof Item?.['binding'] === 'string' && Item['binding'] !== binding)
      return { kind: 'mismatch' };
    if (Item?.['state'] === 'completed' && Item['response'] !== undefined)
      return { kind: 'replay', response: Item['response'] as StoredResponse };
    const lockedUntil = Item?.['lockedUntil'];
    return typeof lockedUntil === 'number' ? { kind: 'in_flight', lockedUntil } : { kind: 'in_flight' };
  }

  async pin(scope: string, key: string, target: OperationKeyTarget): Promise<void> {
    await this.updateInProgress(scope, key, 'SET target = :target', { ':target': withoutUndefined(target) });
  }

  async complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    await this.updateInProgress(
      scope,
      key,
      'SET #state = :completed, #response = :response REMOVE lockedUntil',
      {
        ':completed': 'completed',
        ':response': { statusCode: response.statusCode, headers: response.headers, body: response.body },
      },
      { '#response': 'response' },
    );
  }

  /** Unlocks at once (lockedUntil 0) so the client's retry resumes the pinned target immediately. */
  async release(scope: string, key: string): Promise<void> {
    await this.updateInProgress(scope, key, 'SET lockedUntil = :zero', { ':zero': 0 });
  }

  private async updateInProgress(
    scope: string,
    key: string,
    expression: string,
    values: Record<string, unknown>,
    names: Record<string, string> = {},
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: instrumentRequestKey(scope, key),
          UpdateExpression: expression,
          ConditionExpression: '#state = :inProgress',
          ExpressionAttributeNames: { '#state': 'state', ...names },
          ExpressionAttributeValues: { ':inProgress': 'in_progress', ...values },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return;
      translateStoreError(error);
    }
  }
}

/** How long Idempotency-Key records are kept: replays are guaranteed within this window. */
export type IdempotencyRetention = { seconds: number } | 'forever';

/**
 * The IdempotencyStore for a retention: `{ seconds }` (API requests: 24 h, DynamoDB TTL) or
 * `forever` (financial-instrument requests: kept for the instrument's life, with the pinned
 * operation a retry resumes).
 */
export function createDynamoIdempotencyStore(
  client: DynamoDBDocumentClient,
  tableName: string,
  options: { retention: IdempotencyRetention; lockTimeoutMs?: number },
): IdempotencyStore {
  const lock = options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {};
  return options.retention === 'forever'
    ? new DynamoOperationKeyStore(client, tableName, lock)
    : new DynamoIdempotencyStore(client, tableName, { ...lock, retentionSeconds: options.retention.seconds });
}
