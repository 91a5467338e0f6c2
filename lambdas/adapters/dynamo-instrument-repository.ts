/**
 * Financial instruments on DynamoDB (the single table). One item per instrument holds its
 * balances and every operation (a map by operation id), so each money move is ONE conditional
 * UpdateItem: the reservation lands only if the balance still covers it (`refundableAmount >=
 * :amount`), the status allows it and the operation id is new. DynamoDB serializes writes to one
 * item, so N concurrent refunds can never take more than the balance (Hyperswitch #13182), and
 * no transaction conflicts arise on the hot path.
 *
 * A PSP authorization claimed through the API (`authorized` / `captured` instruments, and a token
 * instrument learning its authorization) is claimed by a second item (`PSPREF#...`) in the same
 * transaction, so two instruments can never stand for one authorization. The saga's own
 * instrument needs no claim item: its authorization is filed at the PSP under the checkout id,
 * which the API never lets a merchant claim (financial-instruments.ts, assertClaimable), and its id
 * derives from the checkout id, so a re-run meets the same item. It is written by one plain
 * conditional Put (no transaction, which would double the units of both items) and carries the
 * PSP reference as its gsi2 key (keys only, sparse: `PSPREF#<connector>#<reference>`), so it is
 * still found by its PSP authorization. Lookups by PSP reference read both layouts (claim item
 * first, then gsi2): instruments written before keep their claim items.
 *
 * Idempotency-Key records of instrument requests are separate items without TTL
 * (DynamoOperationKeyStore in dynamo-idempotency-store.ts): they outlive the generic 24 h records
 * because NewStore retries for about 45 days.
 */
import {
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from './dynamo-client';
import type { BalanceChange, FinancialInstrument, InstrumentOperation } from '../domain/instrument-model';
import type { ReservationGuard } from '../domain/instrument-ledger';
import type {
  CreateInstrumentResult,
  InstrumentRepository,
  ReserveOperationResult,
  SettleOperationInput,
} from '../ports/instruments';
import { GSI2, instrumentKey, instrumentPspReferenceGsiKey, instrumentPspReferenceKey } from './dynamo-keys';
import { isConditionalCheckFailure, queryItems, transactWrite, translateStoreError, withoutUndefined } from './dynamo-support';

const ITEM_ONLY_FIELDS = ['pk', 'sk', 'entity', 'gsi2pk', 'gsi2sk'] as const;
const INSTRUMENT_PK_PREFIX = instrumentKey('').pk;
const DELTAS = ['capturableDelta', 'refundableDelta', 'pendingCapturesDelta'] as const;

/**
 * The stored item leaves out what it can rebuild, so the saga's instrument stays under 1 KB
 * through its reservation and settlement (every write is billed per started KB of the larger of
 * the old and new item): the id (in `pk`), `pspPaymentReference` when it is the checkout id, each
 * operation's `id` (its map key), zero balance deltas, a create operation's PSP key when it is
 * the default `<instrument id>:create`, and a succeeded create operation's PSP operation id when it
 * is the instrument's own PSP reference (an authorization taken over or made at creation). That
 * room carries the saga's instrument's gsi2 keys. Items written in full before are read as they are.
 */
export function toInstrumentItem(instrument: FinancialInstrument): Record<string, unknown> {
  const { id, pspPaymentReference, operations, ...rest } = instrument;
  const stored: Record<string, unknown> = { ...instrumentKey(id), entity: 'instrument', ...rest, operations: {} };
  if (pspPaymentReference !== instrument.checkoutId) stored['pspPaymentReference'] = pspPaymentReference;
  for (const [operationId, operation] of Object.entries(operations)) {
    (stored['operations'] as Record<string, unknown>)[operationId] = toStoredOperation(id, operation, instrument.pspReference);
  }
  return withoutUndefined(stored);
}

/** Whether a create operation's PSP operation id is the instrument's PSP reference (then not stored). */
function isCreateOfReference(operation: Pick<InstrumentOperation, 'kind' | 'status'>, pspReference: string | undefined): boolean {
  return operation.kind === 'create' && operation.status === 'succeeded' && pspReference !== undefined;
}

function toStoredOperation(instrumentId: string, operation: InstrumentOperation, pspReference?: string): Record<string, unknown> {
  const { id: _id, pspIdempotencyKey, reservation, onSuccess, ...rest } = operation;
  if (isCreateOfReference(operation, pspReference) && rest.pspOperationId === pspReference) delete rest.pspOperationId;
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
  const pspReference = item['pspReference'] as string | undefined;
  const operations: Record<string, InstrumentOperation> = {};
  for (const [operationId, stored] of Object.entries((item['operations'] ?? {}) as Record<string, Record<string, unknown>>)) {
    const omitted =
      stored['pspOperationId'] === undefined && isCreateOfReference(stored as unknown as InstrumentOperation, pspReference);
    operations[operationId] = {
      ...stored,
      ...(omitted ? { pspOperationId: pspReference } : {}),
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

/** The saga's instrument: opened for a checkout, on the authorization filed under the checkout id. */
function isSagaInstrument(instrument: FinancialInstrument): boolean {
  return instrument.checkoutId !== undefined && instrument.pspPaymentReference === instrument.checkoutId;
}

export class DynamoInstrumentRepository implements InstrumentRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Put-if-absent of the instrument. The saga's (authorization filed under its checkout id) and a
   * token instrument (no authorization yet): one conditional Put, the saga's with its gsi2 entry
   * by PSP reference. An authorization claimed through the API: the instrument and its claim item
   * in one transaction, after checking no saga instrument holds it (gsi2).
   */
  async createInstrument(instrument: FinancialInstrument): Promise<CreateInstrumentResult> {
    if (instrument.pspReference === undefined || isSagaInstrument(instrument)) return await this.putInstrument(instrument);
    const holder = await this.queryPspReferenceIndex(instrument.connector, instrument.pspReference);
    if (holder !== undefined && holder !== instrument.id) return { kind: 'psp_reference_taken', instrumentId: holder };
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
    const owner = await this.findInstrumentIdByPspReference(instrument.connector, instrument.pspReference ?? '');
    return { kind: 'psp_reference_taken', instrumentId: owner ?? 'unknown' };
  }

  private async putInstrument(instrument: FinancialInstrument): Promise<CreateInstrumentResult> {
    const item = toInstrumentItem(instrument);
    if (instrument.pspReference !== undefined)
      Object.assign(item, instrumentPspReferenceGsiKey(instrument.connector, instrument.pspReference));
    try {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return { kind: 'created', instrument };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) return translateStoreError(error);
    }
    const existing = await this.getInstrument(instrument.id);
    if (existing === undefined) throw new Error(`Instrument ${instrument.id} was neither created nor found`);
    return { kind: 'exists', instrument: existing };
  }

  /**
   * The instrument standing for a PSP authorization: its claim item (the layout of API claims, and
   * of the saga's instruments written before the gsi2 entry), else the gsi2 entry (eventually
   * consistent, like every index read: an instrument written a moment ago may be missed).
   */
  async findInstrumentIdByPspReference(connector: string, pspReference: string): Promise<string | undefined> {
    if (pspReference === '') return undefined;
    return (await this.readClaim(connector, pspReference)) ?? (await this.queryPspReferenceIndex(connector, pspReference));
  }

  private async queryPspReferenceIndex(connector: string, pspReference: string): Promise<string | undefined> {
    const { gsi2pk, gsi2sk } = instrumentPspReferenceGsiKey(connector, pspReference);
    const [entry] = await queryItems(
      this.client,
      {
        TableName: this.tableName,
        IndexName: GSI2,
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk = :sk',
        ExpressionAttributeValues: { ':pk': gsi2pk, ':sk': gsi2sk },
      },
      1,
    );
    return entry === undefined ? undefined : String(entry['pk']).slice(INSTRUMENT_PK_PREFIX.length);
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
    return await this.addOperation(instrumentId, operation, operation.reservation, guard, now);
  }

  /**
   * An operation whose PSP call is already answered, reserved and settled in one conditional write:
   * the same condition as a reservation (the guard, a new operation id), the net balance change of
   * reserve plus settle, and the operation stored as settled.
   */
  async reserveAndSettleOperation(
    instrumentId: string,
    settled: InstrumentOperation,
    change: BalanceChange,
    guard: ReservationGuard,
    now: Date,
  ): Promise<ReserveOperationResult> {
    return await this.addOperation(instrumentId, settled, change, guard, now);
  }

  private async addOperation(
    instrumentId: string,
    operation: InstrumentOperation,
    change: BalanceChange,
    guard: ReservationGuard,
    now: Date,
  ): Promise<ReserveOperationResult> {
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
