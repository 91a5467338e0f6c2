/**
 * CheckoutRepository on DynamoDB. Every status change is ONE conditional UpdateItem of the
 * checkout item (status and the numeric `version`), setting only what changed and appending its
 * timeline rows to the item's `events` list in the same write, so the saga, the API and lazy
 * expiry can race without ever overwriting each other (or a row appended meanwhile). The
 * (merchant, merchant_order_ref) uniqueness is a claim item created in the same transaction as
 * the checkout with `attribute_not_exists(pk)`: the database enforces it, not a read-then-write.
 *
 * The item carries gsi2 keys (keys-only index, set once at create, so later writes cost no index
 * unit) for the merchant's listing (dynamo-checkout-listing.ts), and no gsi1 keys. Items written by
 * the previous version stay readable: their `EVENT#` timeline rows are read with the item, their
 * gsi1 entry is listed after the gsi2 entries, and their `EVENTKEY#` markers are simply no longer
 * consulted. While a payment
 * is in flight the item also carries the recovery watch (gsi3 keys, set and removed by the status
 * changes themselves, see watchChange) and, when a sweep claims it, the sweep's lease.
 */
import {
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from './dynamo-client';
import {
  ConcurrentModificationError,
  ConflictError,
  DuplicateOrderRefError,
  InvalidTransitionError,
  NotFoundError,
} from '../errors';
import { assertTransition } from '../domain/checkout-status';
import type { Checkout, CheckoutEvent, CheckoutPayment } from '../domain/model';
import { attemptCounterDeltas } from '../domain/connector-stats';
import { paymentFromFlags, type FlaggedPayment } from '../domain/payment-attempt';
import type {
  CheckoutRepository,
  CheckoutTransition,
  CreateCheckoutOptions,
} from '../ports/checkouts';
import {
  isConditionalCheckFailure,
  transactWrite,
  translateStoreError,
  withoutUndefined,
} from './dynamo-support';
import { UpdateBuilder } from './dynamo-update-builder';
import {
  CHECKOUT_PK_PREFIX,
  CHECKOUT_SK,
  checkoutKey,
  merchantCheckoutsGsiPk,
  OLD_TIMELINE_SK_RANGE,
  orderRefKey,
  RECOVERY_LEASE_OWNER,
  RECOVERY_LEASE_UNTIL,
  RECOVERY_WATCH_GSI_PK,
} from './dynamo-keys';
import { countBeside, counterUpdates } from './dynamo-connector-stats';
import { compactInstant, instantOf } from './dynamo-instants';
import {
  ownerFromGsi2,
  paymentFromStorage,
  rowFromStorage,
  secretHashOf,
  storedPayment,
  storedRow,
  storedSecretHash,
  type StoredRow,
} from './dynamo-checkout-layout';

/** How many times a status-only transition re-reads and retries after losing a version race. */
const TRANSITION_ATTEMPTS = 4;

/** Attributes of the item that are storage only, never part of the Checkout. */
const STORAGE_ATTRIBUTES = [
  'pk',
  'sk',
  'entity',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'gsi3pk',
  'gsi3sk',
  RECOVERY_LEASE_UNTIL,
  RECOVERY_LEASE_OWNER,
  'events',
  'eventKeys',
] as const;

type EventInput = NonNullable<CheckoutTransition['event']>;

/**
 * The checkout's own `expiresAt` is stored as `cx` (epoch milliseconds; `checkoutExpiresAt`, an
 * ISO string, before), because `expiresAt` is the table's TTL attribute (epoch seconds) and
 * checkouts must never be reaped.
 */
function toItem(checkout: Checkout): Record<string, unknown> {
  // The item stays as small as it can, since every write costs 1 unit per KB of it: `id` is the
  // pk's tail, `merchantId` and `createdAt` are in the gsi2 keys (checkoutFromItem restores all three);
  // the secret hash is binary and the nested data compact (dynamo-checkout-layout.ts).
  const { expiresAt, id: _id, merchantId: _merchant, createdAt: _created, clientSecretHash, payment, ...rest } = checkout;
  return withoutUndefined({
    ...checkoutKey(checkout.id),
    entity: 'checkout',
    gsi2pk: merchantCheckoutsGsiPk(checkout.merchantId),
    gsi2sk: `${checkout.createdAt}#${checkout.id}`,
    // Created already in flight (tools and tests): watched from the start, as a pay would.
    ...(checkout.status === 'processing' ? watchEntry(checkout.updatedAt) : {}),
    ...rest,
    csh: storedSecretHash(clientSecretHash),
    payment: payment === undefined ? undefined : storedPayment(payment, checkout),
    cx: compactInstant(expiresAt),
  });
}

/**
 * The checkout's recovery watch (gsi3, keys only; lambdas/adapters/dynamo-recovery-store.ts): set
 * by the write that enters `processing`, so a processing checkout is never without one.
 */
function watchEntry(since: string): { gsi3pk: string; gsi3sk: string } {
  return { gsi3pk: RECOVERY_WATCH_GSI_PK, gsi3sk: since };
}

/** The Checkout an item of any layout holds (exported for local tools that read the item by key). */
export function checkoutFromItem(item: Record<string, unknown>): Checkout {
  const rest: Record<string, unknown> = { ...item };
  for (const name of STORAGE_ATTRIBUTES) delete rest[name];
  // `cx` and `csh` (epoch ms, 32 bytes) were `checkoutExpiresAt` and `clientSecretHash` (ISO, hex).
  const { checkoutExpiresAt, clientSecretHash, cx, csh, ...fields } = rest;
  // Items of the previous layouts kept merchantId and createdAt (and the gsi1 items no gsi2 keys).
  const checkout = {
    ...ownerFromGsi2(item),
    ...(fields as unknown as Omit<Checkout, 'expiresAt' | 'clientSecretHash'>),
    id: String(item['pk']).slice(CHECKOUT_PK_PREFIX.length),
    clientSecretHash: secretHashOf(csh ?? clientSecretHash),
    expiresAt: instantOf(cx ?? checkoutExpiresAt),
  };
  if (checkout.payment === undefined) return checkout;
  checkout.payment = paymentFromStorage(checkout.payment as unknown as Record<string, unknown>, checkout);
  if (!Array.isArray(checkout.payment.attempts))
    return { ...checkout, payment: paymentFromFlags(checkout, checkout.payment as FlaggedPayment) };
  // Items written before the instrument became the one money ledger also kept `capturedAmount`:
  // the same figure the instrument's saga capture holds. It is dropped here (and so at the next
  // write of `payment`).
  const { capturedAmount: _kept, ...payment } = checkout.payment as CheckoutPayment & { capturedAmount?: number };
  return { ...checkout, payment };
}

/**
 * The items getCheckout read, by the Checkout it returned, for items of the current layout only:
 * listEvents(id, thatCheckout) builds the timeline from the same read (no second read of the
 * item, and the status and the timeline are one snapshot). Any other Checkout object (a copy, a
 * transition's result) is not here, so its timeline is queried.
 */
const timelineOfRead = new WeakMap<Checkout, Record<string, unknown>>();

/**
 * Oldest first: the `created` row (from `createdAt`), then the item's `events`, merged with the
 * previous version's `EVENT#` rows (`oldRows`).
 */
function timelineOf(checkoutId: string, item: Record<string, unknown> | undefined, oldRows: CheckoutEvent[]): CheckoutEvent[] {
  const events: CheckoutEvent[] = [...oldRows];
  if (item !== undefined) {
    if (!oldRows.some((row) => row.type === 'created')) {
      events.unshift({
        checkoutId,
        type: 'created',
        at: (item['createdAt'] as string | undefined) ?? ownerFromGsi2(item).createdAt!,
      });
    }
    const stored = Array.isArray(item['events']) ? (item['events'] as unknown[]) : [];
    events.push(...stored.map((row) => rowFromStorage(checkoutId, row)));
  }
  // Stable: rows with the same instant keep the order they were written in.
  return events
    .map((event, position) => ({ event, position }))
    .sort((a, b) => (a.event.at < b.event.at ? -1 : a.event.at > b.event.at ? 1 : a.position - b.position))
    .map(({ event }) => event);
}

/** A timeline row as stored in the item's `events` list (dynamo-checkout-layout.ts; the checkout id is the item's). */
function storedEvent(event: EventInput, now: string): StoredRow {
  return storedRow(withoutUndefined({ type: event.type, at: event.at ?? now, data: event.data }));
}

/**
 * The recovery watch's part of a status change, in the same conditional UpdateItem: entering
 * `processing` sets the gsi3 entry (since = now); leaving it for a non-terminal status removes it.
 * A terminal write keeps it (the outcome watch) until NotifyMerchant, or the sweep, has stored the
 * result events and forgets it (DynamoRecoveryStore.forgetCheckout). The sweep's lease attributes
 * are never named here: a status change leaves a lease in place.
 */
function watchChange(update: UpdateBuilder, current: Checkout, next: Checkout, now: string): void {
  if (next.status === 'processing' && current.status !== 'processing') {
    for (const [attribute, value] of Object.entries(watchEntry(now))) update.set(attribute, value);
    return;
  }
  const terminal = next.status === 'succeeded' || next.status === 'failed';
  if (current.status === 'processing' && next.status !== 'processing' && !terminal) {
    update.set('gsi3pk', undefined).set('gsi3sk', undefined);
  }
}

export class DynamoCheckoutRepository implements CheckoutRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Checkout + order-ref claim (+ the caller's companion write), all or nothing. The `created` row
   * is implied by `createdAt`.
   */
  async createCheckout(checkout: Checkout, options?: CreateCheckoutOptions): Promise<void> {
    const companion = options?.companion;
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
        ...(companion !== undefined ? [companion.write as NonNullable<TransactWriteCommandInput['TransactItems']>[number]] : []),
      ],
    });
    if (result.ok) return;
    // The companion is the last item; its condition is checked first, as the port promises.
    if (companion !== undefined && result.codes[2] === 'ConditionalCheckFailed') throw companion.conditionFailed();
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
    const item = await this.getItem(checkoutId);
    if (item === undefined) return undefined;
    const checkout = checkoutFromItem(item);
    // An item with gsi2 keys was created by the layout that keeps the whole timeline on the item
    // (the keys came with it, in the same change): listEvents can answer from this very read.
    if (item['gsi2pk'] !== undefined) timelineOfRead.set(checkout, item);
    return checkout;
  }

  async findCheckoutByOrderRef(merchantId: string, merchantOrderRef: string): Promise<Checkout | undefined> {
    let checkoutId: unknown;
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: orderRefKey(merchantId, merchantOrderRef), ConsistentRead: true }),
      );
      checkoutId = Item?.['checkoutId'];
    } catch (error) {
      return translateStoreError(error);
    }
    if (typeof checkoutId !== 'string') return undefined;
    const checkout = await this.getCheckout(checkoutId);
    return checkout?.merchantId === merchantId ? checkout : undefined;
  }

  /**
   * Reads the record, checks the status machine and `from`, then writes what changes with one
   * UpdateItem conditioned on the status and version it read, the timeline rows appended in the
   * same write. If the condition fails it re-reads: a status outside `from` is
   * InvalidTransitionError; a version that moved is ConcurrentModificationError when the caller
   * pinned `expectedVersion`, otherwise the write is retried on the fresh record.
   */
  async transitionCheckout(transition: CheckoutTransition): Promise<Checkout> {
    for (const from of transition.from) assertTransition(from, transition.to);
    for (let attempt = 1; attempt <= TRANSITION_ATTEMPTS; attempt += 1) {
      // The caller's fresh read saves one on the first try: a stale one only fails the condition.
      const current =
        attempt === 1 && transition.current?.id === transition.checkoutId
          ? transition.current
          : await this.getCheckout(transition.checkoutId);
      if (current === undefined) throw new NotFoundError('No such checkout');
      if (!transition.from.includes(current.status)) {
        throw new InvalidTransitionError(`The checkout is ${current.status}; expected ${transition.from.join(' or ')}`);
      }
      if (transition.expectedVersion !== undefined && current.version !== transition.expectedVersion) {
        throw new ConcurrentModificationError('The checkout was changed by another request');
      }
      const now = new Date().toISOString();
      const next: Checkout = withoutUndefined({
        ...current,
        ...transition.patch,
        ...(transition.payRequest !== undefined ? { payRequests: [...(current.payRequests ?? []), transition.payRequest] } : {}),
        status: transition.to,
        version: current.version + 1,
        updatedAt: now,
      });
      const update = new UpdateBuilder().set('status', next.status);
      for (const [field, value] of Object.entries(transition.patch ?? {}))
        update.set(field, field === 'payment' && value !== undefined ? storedPayment(value as CheckoutPayment, next) : value);
      const rows = [transition.event, ...(transition.events ?? [])].filter((row) => row !== undefined);
      update.appendToList(
        'events',
        rows.map((row) => storedEvent(row, now)),
      );
      if (transition.payRequest !== undefined) update.appendToList('payRequests', [withoutUndefined(transition.payRequest)]);
      watchChange(update, current, next, now);
      if (await this.writeConditionally(current, next, update)) {
        return next;
      }
    }
    throw new ConcurrentModificationError('The checkout kept changing under concurrent requests; retry');
  }

  /** Records PSP progress without a status change, conditional on the version the caller read. */
  async updatePayment(
    checkoutId: string,
    payment: NonNullable<Checkout['payment']>,
    expectedVersion: number,
    event?: CheckoutTransition['event'],
    read?: Checkout,
  ): Promise<Checkout> {
    // The caller's copy saves a round trip; the write below is conditional on its version either way.
    const current = read !== undefined && read.id === checkoutId ? read : await this.getCheckout(checkoutId);
    if (current === undefined) throw new NotFoundError('No such checkout');
    if (current.version !== expectedVersion) throw new ConcurrentModificationError('The checkout was changed by another request');
    const now = new Date().toISOString();
    const next: Checkout = { ...current, payment, version: current.version + 1, updatedAt: now };
    const update = new UpdateBuilder().set('payment', storedPayment(payment, next));
    if (event !== undefined) update.appendToList('events', [storedEvent(event, now)]);
    if (!(await this.writeConditionally(current, next, update))) {
      throw new ConcurrentModificationError('The checkout was changed by another request');
    }
    return next;
  }

  /**
   * Appends a row to the item's `events` list with one UpdateItem (the version is untouched, so
   * it never races a transition). With `dedupeKey`, the key joins the item's `eventKeys` set in
   * the same write, conditioned on not being there yet: a second append is a no-op. An append
   * to a checkout that does not exist is a no-op too (the previous version wrote an orphan row).
   */
  async appendEvent(event: CheckoutEvent, dedupeKey?: string): Promise<void> {
    const update = new UpdateBuilder().appendToList('events', [storedEvent(event, event.at)]);
    let condition = 'attribute_exists(pk)';
    if (dedupeKey !== undefined) {
      update.addToSet('eventKeys', dedupeKey);
      condition += ` AND NOT contains(${update.name('eventKeys')}, ${update.value(dedupeKey)})`;
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: checkoutKey(event.checkoutId),
          UpdateExpression: update.expression(),
          ConditionExpression: condition,
          ExpressionAttributeNames: update.names,
          ExpressionAttributeValues: update.values,
        }),
      );
    } catch (error) {
      // The key was there (a repeat), or there is no such checkout: no row, and no item created.
      if (!isConditionalCheckFailure(error)) translateStoreError(error);
    }
  }

  /**
   * Oldest first: the `created` row (from `createdAt`), then the item's `events`, merged with the
   * `EVENT#` row items of checkouts written by the previous version. Given the checkout getCheckout
   * returned for an item of the current layout, from that read; otherwise one consistent Query over
   * the checkout's partition from `CHECKOUT` to the last `EVENT#` row reads the item and those
   * rows together (the `EVENTKEY#` markers sort after and are not read).
   */
  async listEvents(checkoutId: string, read?: Checkout): Promise<CheckoutEvent[]> {
    const readItem = read !== undefined && read.id === checkoutId ? timelineOfRead.get(read) : undefined;
    if (readItem !== undefined) return timelineOf(checkoutId, readItem, []);
    let items: Record<string, unknown>[];
    try {
      const answer = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
          ExpressionAttributeValues: { ':pk': checkoutKey(checkoutId).pk, ...OLD_TIMELINE_SK_RANGE },
          ConsistentRead: true,
        }),
      );
      items = answer.Items ?? [];
      // A checkout with more old rows than one page holds (1 MB): read the rest.
      for (let startKey = answer.LastEvaluatedKey; startKey !== undefined;) {
        const more = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
            ExpressionAttributeValues: { ':pk': checkoutKey(checkoutId).pk, ...OLD_TIMELINE_SK_RANGE },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...(more.Items ?? []));
        startKey = more.LastEvaluatedKey;
      }
    } catch (error) {
      return translateStoreError(error);
    }
    const item = items.find((candidate) => candidate['sk'] === CHECKOUT_SK);
    const oldRows = items.filter((candidate) => candidate['sk'] !== CHECKOUT_SK).map((row) => rowFromStorage(checkoutId, row));
    return timelineOf(checkoutId, item, oldRows);
  }

  private async getItem(checkoutId: string): Promise<Record<string, unknown> | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: checkoutKey(checkoutId), ConsistentRead: true }),
      );
      return Item;
    } catch (error) {
      return translateStoreError(error);
    }
  }

  /**
   * The one conditional write: status and version as read, plus version and updatedAt moved. The
   * connector counters of the attempts it moves go out beside it (lambdas/adapters/dynamo-connector-stats.ts)
   * and are taken back should it fail, so they cost no round trip of their own on the saga's path.
   */
  private writeConditionally(current: Checkout, next: Checkout, update: UpdateBuilder): Promise<boolean> {
    const deltas = attemptCounterDeltas(
      current.payment?.attempts ?? [],
      next.payment?.attempts ?? [],
      current.status === 'processing',
    );
    const counters = counterUpdates(this.tableName, next.id, deltas, new Date(next.updatedAt));
    return countBeside(this.client, counters, () => this.writeCheckout(current, next, update));
  }

  private async writeCheckout(current: Checkout, next: Checkout, update: UpdateBuilder): Promise<boolean> {
    update.set('version', next.version).set('updatedAt', next.updatedAt);
    const input: UpdateCommandInput = {
      TableName: this.tableName,
      Key: checkoutKey(current.id),
      UpdateExpression: update.expression(),
      ConditionExpression: `${update.name('status')} = ${update.value(current.status)} AND ${update.name('version')} = ${update.value(current.version)}`,
      ExpressionAttributeNames: update.names,
      ExpressionAttributeValues: update.values,
    };
    try {
      await this.client.send(new UpdateCommand(input));
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      return translateStoreError(error);
    }
  }
}
