/**
 * Shared plumbing for the DynamoDB adapters: translating SDK failures into Paystep errors
 * (throttling and 5xx become StoreUnavailableError, which callers may retry) and running
 * TransactWriteItems with a short retry on transaction conflicts (two transactions touching the
 * same item at once), which DynamoDB reports as a cancellation the SDK does not retry.
 */
import {
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from './dynamo-client';
import { ConcurrentModificationError, isPaystepError, StoreUnavailableError, ValidationError } from '../errors';
import { isRetryable } from './aws-json-client';

/** Network failures that are not worth an immediate retry but pass: DNS (the SDK does not retry them either). */
const DNS_CODES = /^(ENOTFOUND|EAI_AGAIN)$/;

/** Cancellation reason codes of a TransactionCanceledException, in item order ('None' = ok). */
export function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (reasons !== undefined) return reasons.map((reason) => reason.Code ?? 'None');
  // Some emulators only put the reasons in the message: "... [ConditionalCheckFailed, None]".
  const match = /\[([^\]]*)\]/.exec(error.message);
  return match?.[1]?.split(',').map((code) => code.trim()) ?? [];
}

/** Whether the failure is a lost condition (the expected state was not there). */
export function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Whether a storage failure is transient: what the client retries (throttling, 5xx, timeouts,
 * dropped connections; aws-json-client.ts), after its attempts, and DNS failures.
 */
export function isTransientStoreError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return isRetryable(error) || (status !== undefined && status >= 500) || DNS_CODES.test((error as { code?: string }).code ?? '');
}

/**
 * Rethrows `error` as a Paystep error where one applies: transient failures become
 * StoreUnavailableError (503, the message never includes request data); Paystep errors and
 * anything unexpected pass through unchanged (the HTTP layer turns the latter into a 500).
 */
export function translateStoreError(error: unknown): never {
  if (isPaystepError(error)) throw error;
  if (isTransientStoreError(error)) {
    throw new StoreUnavailableError('The data store is temporarily unavailable; retry the request', { cause: error });
  }
  throw error;
}

/**
 * Runs a TransactWriteItems, retrying up to `attempts` times (with jitter) when DynamoDB cancels
 * it only because of a concurrent transaction on the same items. A cancellation for a failed
 * condition is returned to the caller as the code list so it can name the domain error.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  input: TransactWriteCommandInput,
  attempts = 5,
): Promise<{ ok: true } | { ok: false; codes: string[] }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await client.send(new TransactWriteCommand(input));
      return { ok: true };
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes === undefined) translateStoreError(error);
      if (codes.includes('ConditionalCheckFailed')) return { ok: false, codes };
      const conflict = codes.includes('TransactionConflict') || (error as Error).name === 'TransactionConflictException';
      if (!conflict) {
        if (codes.some((code) => code === 'ThrottlingError' || code === 'ProvisionedThroughputExceeded')) {
          throw new StoreUnavailableError('The data store is temporarily unavailable; retry the request', { cause: error });
        }
        throw error;
      }
      if (attempt >= attempts) {
        throw new ConcurrentModificationError('The record was changed by a concurrent request; retry', { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.floor(Math.random() * 20)));
    }
  }
}

/**
 * Drops `undefined` members (deeply) so items marshal even when the document client was built
 * without `removeUndefinedValues`; optional domain fields are simply absent in storage.
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((entry: unknown) => withoutUndefined(entry)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const result: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
      if (entry !== undefined) result[key] = withoutUndefined(entry);
    }
    return result as T;
  }
  return value;
}

/**
 * Opaque list cursors over gsi1: the LastEvaluatedKey as base64url JSON `[gsi1sk, pk]`. Decoding
 * rebuilds the key for this list only: the partition comes from the caller (so a cursor from
 * another merchant's list cannot be replayed here) and `pk` must carry the list's item prefix.
 */
export function encodeGsiCursor(key: Record<string, unknown>): string {
  return encodeCursor([key.gsi1sk, key.pk]);
}

export function decodeGsiCursor(cursor: string, gsi1pk: string, item: { pkPrefix: string; sk: string }): Record<string, string> {
  const parts = decodeCursor(cursor);
  const [gsi1sk, pk] = parts;
  if (parts.length !== 2 || gsi1sk === undefined || pk === undefined || !pk.startsWith(item.pkPrefix)) throw invalidCursor();
  return { pk, sk: item.sk, gsi1pk, gsi1sk };
}

/** An opaque list cursor: the parts as base64url JSON. */
export function encodeCursor(parts: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** The parts of a cursor made by encodeCursor, all strings; anything else is a 400 `invalid_cursor`. */
export function decodeCursor(cursor: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw invalidCursor();
  return parsed as string[];
}

export function invalidCursor(): ValidationError {
  return new ValidationError('cursor is not a cursor returned by this list', { param: 'cursor', code: 'invalid_cursor' });
}

/**
 * Every item of a Query, page after page (or the first `limit`, read in pages of at most 100),
 * with store errors translated like every other call.
 */
export async function queryItems(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'Limit'>,
  limit?: number,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  try {
    do {
      const page = await client.send(
        new QueryCommand({
          ...input,
          ...(limit !== undefined ? { Limit: Math.min(limit, 100) } : {}),
          ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && (limit === undefined || items.length < limit));
  } catch (error) {
    return translateStoreError(error);
  }
  return limit === undefined ? items : items.slice(0, limit);
}
