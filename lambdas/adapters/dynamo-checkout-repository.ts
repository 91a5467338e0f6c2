/**
 * CheckoutRepository on DynamoDB. Every status change is a conditional write on the stored
 * status and the numeric `version`, made in one TransactWriteItems with its timeline row, so the
 * saga, the API and lazy expiry can race without ever overwriting each other. The
 * (merchant, merchant_order_ref) uniqueness is a claim item created in the same transaction as
 * the checkout with `attribute_not_exists(pk)`: the database enforces it, not a read-then-write.
 */
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  ConcurrentModificationError,
  ConflictError,
  DuplicateOrderRefError,
  InvalidTransitionError,
  NotFoundError,
} from '../errors';
import { assertTransition } from '../domain/checkout-status';
import { generateRandomSuffix } from '../domain/ids';
import type { Checkout, CheckoutEvent, CheckoutPayment } from '../domain/model';
import { attemptCounterDeltas } from '../domain/connector-stats';
import { paymentFromFlags, type FlaggedPayment } from '../domain/payment-attempt';
import type {
  CheckoutListPage,
  CheckoutListQuery,
  CheckoutQueries,
  CheckoutRepository,
  CheckoutTransition,
} from '../ports/checkouts';
import {
  decodeGsiCursor,
  encodeGsiCursor,
  queryItems,
  transactWrite,
  translateStoreError,
  withoutUndefined,
} from './dynamo-support';
import {
  checkoutEventDedupeKey,
  checkoutEventKey,
  checkoutKey,
  EVENT_SK_PREFIX,
  GSI1,
  merchantCheckoutsGsiPk,
  orderRefKey,
  processingWatchKey,
} from './dynamo-keys';
import { counterUpdates } from './dynamo-connector-stats';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** How many times a status-only transition re-reads and retries after losing a version race. */
const TRANSITION_ATTEMPTS = 4;

/**
 * The checkout's own `expiresAt` (ISO string) is stored as `checkoutExpiresAt`, because
 * `expiresAt` is the table's TTL attribute (epoch seconds) and checkouts must never be reaped.
 */
function toItem(checkout: Checkout): Record<string, unknown> {
  const { expiresAt, ...rest } = checkout;
  return withoutUndefined({
    ...checkoutKey(checkout.id),
    entity: 'checkout',
    gsi1pk: merchantCheckoutsGsiPk(checkout.merchantId),
    gsi1sk: `${checkout.createdAt}#${checkout.id}`,
    ...rest,
    checkoutExpiresAt: expiresAt,
  });
}

function fromItem(item: Record<string, unknown>): Checkout {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _g1, gsi1sk: _g2, checkoutExpiresAt, ...rest } = item;
  const checkout = { ...(rest as Omit<Checkout, 'expiresAt'>), expiresAt: checkoutExpiresAt as string };
  if (checkout.payment === undefined) return checkout;
  if (!Array.isArray(checkout.payment.attempts))
    return { ...checkout, payment: paymentFromFlags(checkout, checkout.payment as FlaggedPayment) };
  // Items written before the instrument became the one money ledger also kept `capturedAmount`:
  // the same figure the instrument's saga capture holds. It is dropped here (and so at the next write).
  const { capturedAmount: _kept, ...payment } = checkout.payment as CheckoutPayment & { capturedAmount?: number };
  return { ...checkout, payment };
}

function toEvent(item: Record<string, unknown>): CheckoutEvent {
  const event: CheckoutEvent = {
    checkoutId: item['checkoutId'] as string,
    type: item['type'] as CheckoutEvent['type'],
    at: item['at'] as string,
  };
  if (item['data'] !== undefined) event.data = item['data'] as Record<string, unknown>;
  return event;
}

export class DynamoCheckoutRepository implements CheckoutRepository, CheckoutQueries {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Checkout + order-ref claim + `created` row, all or nothing. */
  async createCheckout(checkout: Checkout): Promise<void> {
    const result = await transactWrite(this.client, {
      TransactItems: [
        {
          Put: { TableName: this.tableName, Item: toItem(checkout), ConditionExpression: 'attribute_not_exists(pk)' },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...orderRefKey(checkout.merchantId, checkout.merchantOrderRef),
              entity: 'order_ref',
              merchantId: checkout.merchantId,
              checkoutId: checkout.id,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        this.eventPut({ checkoutId: checkout.id, type: 'created', at: checkout.createdAt }),
      ],
    });
    if (result.ok) return;
    if (result.codes[1] === 'ConditionalCheckFailed') {
      throw new DuplicateOrderRefError(
        `merchant_order_ref ${JSON.stringify(checkout.merchantOrderRef)} is already used by another checkout`,
        {
          param: 'merchant_order_ref',
        },
      );
    }
    throw new ConflictError('A checkout with this id already exists');
  }

  /** Strongly consistent read, so a status just written is what the next decision sees. */
  async getCheckout(checkoutId: string): Promise<Checkout | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: checkoutKey(checkoutId), ConsistentRead: true }),
      );
      return Item === undefined ? undefined : fromItem(Item);
    } catch (error) {
      return translateStoreError(error);
    }
  }

  async findCheckoutByOrderRef(merchantId: string, merchantOrderRef: string): Promise<Checkout | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: orderRefKey(merchantId, merchantOrderRef), ConsistentRead: true }),
      );
      const checkoutId = Item?.['checkoutId'];
      if (typeof checkoutId !== 'string') return undefined;
      const checkout = await this.getCheckout(checkoutId);
      return checkout?.merchantId === merchantId ? checkout : undefined;
    } catch (error) {
      return translateStoreError(error);
    }
  }

  /**
   * Reads the record, checks the status machine and `from`, then writes the new record
   * conditioned on the status and version it read, with the timeline row in the same
   * transaction. If the condition fails it re-reads: a status outside `from` is
   * InvalidTransitionError; a version that moved is ConcurrentModificationError when the caller
   * pinned `expectedVersion`, otherwise the write is retried on the fresh record.
   */
  async transitionCheckout(transition: CheckoutTransition): Promise<Checkout> {
    for (const from of transition.from) assertTransition(from, transition.to);
    for (let attempt = 1; attempt <= TRANSITION_ATTEMPTS; attempt += 1) {
      const current = await this.getCheckout(transition.checkoutId);
      if (current === undefined) throw new NotFoundError('No such checkout');
      if (!transition.from.includes(current.status)) {
        throw new InvalidTransitionError(`The checkout is ${current.status}; expected ${transition.from.join(' or ')}`);
      }
      if (transition.expectedVersion !== undefined && current.version !== transition.expectedVersion) {
        throw new ConcurrentModificationError('The checkout was changed by another request');
      }
      const now = new Date().toISOString();
      const next: Checkout = {
        ...current,
        ...transition.patch,
        status: transition.to,
        version: current.version + 1,
        updatedAt: now,
      };
      const items: TransactItem[] = [this.conditionalCheckoutPut(next, current)];
      if (transition.event !== undefined) {
        items.push(this.eventPut({ ...transition.event, checkoutId: current.id, at: transition.event.at ?? now }));
      }
      for (const extra of transition.events ?? [])
        items.push(this.eventPut({ ...extra, checkoutId: current.id, at: extra.at ?? now }));
      const watch = this.processingWatchChange(current, next, now);
      if (watch !== undefined) items.push(watch);
      items.push(...this.connectorCounters(current, next, now));
      const result = await transactWrite(this.client, { TransactItems: items });
      if (result.ok) return next;
    }
    throw new ConcurrentModificationError('The checkout kept changing under concurrent requests; retry');
  }

  /** Records PSP progress without a status change, conditional on the version the caller read. */
  async updatePayment(
    checkoutId: string,
    payment: NonNullable<Checkout['payment']>,
    expectedVersion: number,
    event?: CheckoutTransition['event'],
  ): Promise<Checkout> {
    const current = await this.getCheckout(checkoutId);
    if (current === undefined) throw new NotFoundError('No such checkout');
    if (current.version !== expectedVersion) throw new ConcurrentModificationError('The checkout was changed by another request');
    const now = new Date().toISOString();
    const next: Checkout = { ...current, payment, version: current.version + 1, updatedAt: now };
    const items: TransactItem[] = [this.conditionalCheckoutPut(next, current)];
    if (event !== undefined) items.push(this.eventPut({ ...event, checkoutId, at: event.at ?? now }));
    items.push(...this.connectorCounters(current, next, now));
    const result = await transactWrite(this.client, { TransactItems: items });
    if (!result.ok) throw new ConcurrentModificationError('The checkout was changed by another request');
    return next;
  }

  /** With `dedupeKey`, a marker item makes a second append of the same logical event a no-op. */
  async appendEvent(event: CheckoutEvent, dedupeKey?: string): Promise<void> {
    const items: TransactItem[] = [];
    if (dedupeKey !== undefined) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: { ...checkoutEventDedupeKey(event.checkoutId, dedupeKey), entity: 'checkout_event_key', at: event.at },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    items.push(this.eventPut(event));
    const result = await transactWrite(this.client, { TransactItems: items });
    if (!result.ok && dedupeKey === undefined) throw new ConflictError('Timeline row already exists');
  }

  /** Oldest first; the sort key starts with the ISO timestamp. */
  async listEvents(checkoutId: string): Promise<CheckoutEvent[]> {
    const items = await queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': checkoutKey(checkoutId).pk, ':prefix': EVENT_SK_PREFIX },
      ConsistentRead: true,
    });
    return items.map(toEvent);
  }

  /**
   * Newest first through gsi1 (`MERCHANT#<id>#CHECKOUTS`, `createdAt#id`); opaque cursor. Reads one
   * item more than asked, so a cursor is given only when another page really exists (`has_more`).
   */
  async listCheckoutsByMerchant(merchantId: string, query: CheckoutListQuery): Promise<CheckoutListPage> {
    const gsi1pk = merchantCheckoutsGsiPk(merchantId);
    const startKey =
      query.cursor === undefined ? undefined : decodeGsiCursor(query.cursor, gsi1pk, { pkPrefix: 'CHECKOUT#', sk: 'CHECKOUT' });
    try {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: GSI1,
          KeyConditionExpression: 'gsi1pk = :gsi1pk',
          ExpressionAttributeValues: { ':gsi1pk': gsi1pk },
          ScanIndexForward: false,
          Limit: query.limit + 1,
          ExclusiveStartKey: startKey,
        }),
      );
      const items = page.Items ?? [];
      const checkouts = items.slice(0, query.limit).map(fromItem);
      const last = items.length > query.limit ? items[query.limit - 1] : undefined;
      return last === undefined ? { checkouts } : { checkouts, nextCursor: encodeGsiCursor(last) };
    } catch (error) {
      return translateStoreError(error);
    }
  }

  /**
   * The recovery watch list (lambdas/adapters/dynamo-recovery-store.ts) follows the status in the
   * same transaction: entering `processing` adds the checkout; the terminal write re-arms the same
   * item (since = the terminal time) as an outcome watch, which NotifyMerchant removes once the
   * result events are stored. So the reconciliation sweep sees every in-flight payment and every
   * result not yet published (a crash between RecordOutcome and NotifyMerchant), without a scan.
   */
  private processingWatchChange(current: Checkout, next: Checkout, now: string): TransactItem | undefined {
    if (next.status === 'processing' && current.status !== 'processing') {
      return {
        Put: {
          TableName: this.tableName,
          Item: { ...processingWatchKey(next.id), entity: 'processing_watch', checkoutId: next.id, since: now },
        },
      };
    }
    if (current.status === 'processing' && (next.status === 'succeeded' || next.status === 'failed')) {
      return {
        Put: {
          TableName: this.tableName,
          Item: { ...processingWatchKey(next.id), entity: 'outcome_watch', checkoutId: next.id, since: now },
        },
      };
    }
    if (current.status === 'processing' && next.status !== 'processing') {
      return { Delete: { TableName: this.tableName, Key: processingWatchKey(next.id) } };
    }
    return undefined;
  }

  /**
   * The operator view's counters (lambdas/adapters/dynamo-connector-stats.ts) for what this write
   * changes in the attempt list, in the same transaction: counted exactly when the write lands.
   */
  private connectorCounters(current: Checkout, next: Checkout, now: string): TransactItem[] {
    const deltas = attemptCounterDeltas(
      current.payment?.attempts ?? [],
      next.payment?.attempts ?? [],
      current.status === 'processing',
    );
    return counterUpdates(this.tableName, next.id, deltas, new Date(now));
  }

  private conditionalCheckoutPut(next: Checkout, current: Checkout): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: toItem(next),
        ConditionExpression: '#status = :status AND version = :version',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': current.status, ':version': current.version },
      },
    };
  }

  private eventPut(event: CheckoutEvent): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: withoutUndefined({
          ...checkoutEventKey(event.checkoutId, event.at, event.type, generateRandomSuffix()),
          entity: 'checkout_event',
          checkoutId: event.checkoutId,
          type: event.type,
          at: event.at,
          data: event.data,
        }),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }
}
