/**
 * Financial instruments on DynamoDB (the single table). One item per instrument holds its
 * balances and every operation (a map by operation id), so each money move is ONE conditional
 * UpdateItem: the reservation lands only if the balance still covers it (`refundableAmount >=
 * :amount`), the status allows it and the operation id is new. DynamoDB serializes writes to one
 * item, so N concurrent refunds can never take more than the balance (Hyperswitch #13182), and
 * no transaction conflicts arise on the hot path. A PSP authorization is claimed by a second
 * item so two instruments can never stand for one authorization.
 *
 * Idempotency-Key records of instrument requests are separate items without TTL
 * (DynamoOperationKeyStore in dynamo-idempotency-store.ts): they outlive the generic 24 h records
 * because NewStore retries for about 45 days.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { BalanceChange, FinancialInstrument, InstrumentOperation } from '../domain/instrument-model';
import type { ReservationGuard } from '../domain/instrument-ledger';
import type {
  CreateInstrumentResult,
  InstrumentRepository,
  ReserveOperationResult,
  SettleOperationInput,
} from '../ports/instruments';
import { instrumentKey, instrumentPspReferenceKey } from './dynamo-keys';
import { isConditionalCheckFailure, transactWrite, translateStoreError, withoutUndefined } from './dynamo-support';

const ITEM_ONLY_FIELDS = ['pk', 'sk', 'entity'] as const;
const INSTRUMENT_PK_PREFIX = instrumentKey('').pk;
const DELTAS = ['capturableDelta', 'refundableDelta', 'pendingCapturesDelta'] as const;

/**
 * The stored item leaves out what it can rebuild, so the saga's instrument stays under 1 KB
 * through its reservation and settlement (every write is billed per started KB of the larger of
 * the old and new item): the id (in `pk`), `pspPaymentReference` when it is the checkout id, each
 * operation's `id` (its map key), zero balance deltas, and a create operation's PSP key when it is
 * the default `<instrument id>:create`. Items written in full before are read as they are.
 */
export function toInstrumentItem(instrument: FinancialInstrument): Record<string, unknown> {
  const { id, pspPaymentReference, operations, ...rest } = instrument;
  const stored: Record<string, unknown> = { ...instrumentKey(id), entity: 'instrument', ...rest, operations: {} };
  if (pspPaymentReference !== instrument.checkoutId) stored['pspPaymentReference'] = pspPaymentReference;
  for (const [operationId, operation] of Object.entries(operations)) {
    (stored['operations'] as Record<string, unknown>)[operationId] = toStoredOperation(id, operation);
  }
  return withoutUndefined(stored);
}

function toStoredOperation(instrumentId: string, operation: InstrumentOperation): Record<string, unknown> {
  const { id: _id, pspIdempotencyKey, reservation, onSuccess, ...rest } = operation;
  return withoutUndefined({
    ...rest,
    ...(pspIdempotencyKey !== `${instrumentId}:${operation.kind}` || operation.kind !== 'create' ? { pspIdempotencyKey } : {}),
    reservation: withoutZeroDeltas(reservation),
    onSuccess: withoutZeroDeltas(onSuccess),
  });
}

function withoutZeroDeltas(change: BalanceChange): Partial<BalanceChange> {
  const stored: Partial<BalanceChange> = { ...change };
  for (const field of DELTAS) if (stored[field] === 0) delete stored[field];
  return stored;
}

function toInstrument(item: Record<string, unknown>): FinancialInstrument {
  const copy: Record<string, unknown> = { ...item };
  for (const field of ITEM_ONLY_FIELDS) delete copy[field];
  const id = typeof item['id'] === 'string' ? item['id'] : String(item['pk']).slice(INSTRUMENT_PK_PREFIX.length);
  const operations: Record<string, InstrumentOperation> = {};
  for (const [operationId, stored] of Object.entries((item['operations'] ?? {}) as Record<string, Record<string, unknown>>)) {
    operations[operationId] = {
      ...stored,
      id: operationId,
      pspIdempotencyKey: (stored['pspIdempotencyKey'] as string | undefined) ?? `${id}:${String(stored['kind'])}`,
      reservation: withDeltas(stored['reservation']),
      onSuccess: withDeltas(stored['onSuccess']),
    } as InstrumentOperation;
  }
  return {
    ...(copy as unknown as FinancialInstrument),
    id,
    pspPaymentReference: (item['pspPaymentReference'] as string | undefined) ?? (item['checkoutId'] as string),
    operations,
  };
}

function withDeltas(stored: unknown): BalanceChange {
  return { capturableDelta: 0, refundableDelta: 0, pendingCapturesDelta: 0, ...(stored as Partial<BalanceChange>) };
}

export class DynamoInstrumentRepository implements InstrumentRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Put-if-absent of the instrument and of its authorization claim, in one transaction. */
  async createInstrument(instrument: FinancialInstrument): Promise<CreateInstrumentResult> {
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Put: {
          TableName: this.tableName,
          Item: toInstrumentItem(instrument),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    if (instrument.pspReference !== undefined) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            ...instrumentPspReferenceKey(instrument.connector, instrument.pspReference),
            entity: 'instrument_psp_reference',
            instrumentId: instrument.id,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    const result = await transactWrite(this.client, { TransactItems: items });
    if (result.ok) return { kind: 'created', instrument };
    if (result.codes[0] === 'ConditionalCheckFailed') {
      const existing = await this.getInstrument(instrument.id);
      if (existing !== undefined) return { kind: 'exists', instrument: existing };
    }
    const owner = await this.readClaim(instrument.connector, instrument.pspReference ?? '');
    return { kind: 'psp_reference_taken', instrumentId: owner ?? 'unknown' };
  }

  async getInstrument(instrumentId: string): Promise<FinancialInstrument | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: instrumentKey(instrumentId), ConsistentRead: true }),
      );
      return Item === undefined ? undefined : toInstrument(Item);
    } catch (error) {
      return translateStoreError(error);
    }
  }

  /**
   * The reservation: adds the pending operation and debits the balances in one conditional write
   * whose condition restates the guard, so it holds at the moment the write lands.
   */
  async reserveOperation(
    instrumentId: string,
    operation: InstrumentOperation,
    guard: ReservationGuard,
    now: Date,
  ): Promise<ReserveOperationResult> {
    const change = operation.reservation;
    const names: Record<string, string> = { '#ops': 'operations', '#op': operation.id, '#status': 'status' };
    const values: Record<string, unknown> = {
      ':op': toStoredOperation(instrumentId, operation),
      ':capDelta': change.capturableDelta,
      ':refDelta': change.refundableDelta,
      ':pcDelta': change.pendingCapturesDelta,
      ':one': 1,
      ':now': now.toISOString(),
      ':minCap': guard.minCapturable,
      ':minRef': guard.minRefundable,
      ':maxOps': guard.maxOperations,
    };
    const statusNames = guard.allowedStatuses.map((status, index) => {
      values[`:allowed${index}`] = status;
      return `:allowed${index}`;
    });
    const sets = [
      '#ops.#op = :op',
      'capturableAmount = capturableAmount + :capDelta',
      'refundableAmount = refundableAmount + :refDelta',
      'pendingCaptures = pendingCaptures + :pcDelta',
      'version = version + :one',
      'updatedAt = :now',
    ];
    if (change.status !== undefined) {
      sets.push('#status = :newStatus');
      values[':newStatus'] = change.status;
    }
    const conditions = [
      'attribute_exists(pk)',
      'attribute_not_exists(#ops.#op)',
      `#status IN (${statusNames.join(', ')})`,
      'capturableAmount >= :minCap',
      'refundableAmount >= :minRef',
      'size(#ops) < :maxOps',
    ];
    if (guard.exactCapturable !== undefined) {
      conditions.push('capturableAmount = :exactCap');
      values[':exactCap'] = guard.exactCapturable;
    }
    if (guard.noPendingCaptures === true) {
      conditions.push('pendingCaptures = :zero');
      values[':zero'] = 0;
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: instrumentKey(instrumentId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { kind: 'reserved', instrument: toInstrument(Attributes ?? {}) };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) return translateStoreError(error);
    }
    const current = await this.getInstrument(instrumentId);
    if (current === undefined) throw new Error(`Instrument ${instrumentId} disappeared during a reservation`);
    return current.operations[operation.id] !== undefined
      ? { kind: 'exists', instrument: current }
      : { kind: 'refused', instrument: current };
  }

  /**
   * Settles a pending operation: its status and PSP id plus the balance change, conditional on
   * the operation still being pending (a concurrent resumer may have settled it: then no-op).
   */
  async settleOperation(input: SettleOperationInput, now: Date): Promise<FinancialInstrument> {
    const { change, patch } = input;
    const names: Record<string, string> = { '#ops': 'operations', '#op': input.operationId, '#st': 'status' };
    const values: Record<string, unknown> = {
      ':pending': 'pending',
      ':opStatus': patch.status,
      ':settledAt': patch.settledAt,
      ':capDelta': change.capturableDelta,
      ':refDelta': change.refundableDelta,
      ':pcDelta': change.pendingCapturesDelta,
      ':one': 1,
      ':now': now.toISOString(),
    };
    const sets = [
      '#ops.#op.#st = :opStatus',
      '#ops.#op.settledAt = :settledAt',
      'capturableAmount = capturableAmount + :capDelta',
      'refundableAmount = refundableAmount + :refDelta',
      'pendingCaptures = pendingCaptures + :pcDelta',
      'version = version + :one',
      'updatedAt = :now',
    ];
    const optional: [string, unknown][] = [
      ['pspOperationId', patch.pspOperationId],
      ['failureCode', patch.failureCode],
      ['failureMessage', patch.failureMessage],
    ];
    for (const [field, value] of optional) {
      if (value === undefined) continue;
      sets.push(`#ops.#op.${field} = :${field}`);
      values[`:${field}`] = value;
    }
    if (change.status !== undefined) {
      sets.push('#st = :newStatus');
      values[':newStatus'] = change.status;
    }
    if (input.pspReference !== undefined) {
      sets.push('pspReference = :pspReference');
      values[':pspReference'] = input.pspReference;
    }
    const update = {
      TableName: this.tableName,
      Key: instrumentKey(input.instrumentId),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: '#ops.#op.#st = :pending',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
    if (input.pspReference !== undefined) {
      // A token instrument learns its authorization: claim it in the same transaction.
      const current = await this.getInstrument(input.instrumentId);
      const result = await transactWrite(this.client, {
        TransactItems: [
          { Update: update },
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...instrumentPspReferenceKey(current?.connector ?? 'sandbox', input.pspReference),
                entity: 'instrument_psp_reference',
                instrumentId: input.instrumentId,
              },
              ConditionExpression: 'attribute_not_exists(pk) OR instrumentId = :instrumentId',
              ExpressionAttributeValues: { ':instrumentId': input.instrumentId },
            },
          },
        ],
      });
      if (!result.ok && result.codes[1] === 'ConditionalCheckFailed') {
        throw new Error(`PSP authorization ${input.pspReference} is already claimed by another instrument`);
      }
      return await this.requireInstrument(input.instrumentId);
    }
    try {
      const { Attributes } = await this.client.send(new UpdateCommand({ ...update, ReturnValues: 'ALL_NEW' }));
      return toInstrument(Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailure(error)) return translateStoreError(error);
    }
    return await this.requireInstrument(input.instrumentId);
  }

  private async requireInstrument(instrumentId: string): Promise<FinancialInstrument> {
    const instrument = await this.getInstrument(instrumentId);
    if (instrument === undefined) throw new Error(`Instrument ${instrumentId} does not exist`);
    return instrument;
  }

  private async readClaim(connector: string, pspReference: string): Promise<string | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: instrumentPspReferenceKey(connector, pspReference),
          ConsistentRead: true,
        }),
      );
      return typeof Item?.['instrumentId'] === 'string' ? Item['instrumentId'] : undefined;
    } catch (error) {
      return translateStoreError(error);
    }
  }
}
