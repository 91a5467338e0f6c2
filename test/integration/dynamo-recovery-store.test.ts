/**
 * The recovery watch folded into the checkout item (gsi3, keys only), on DynamoDB Local: the write
 * that enters `processing` sets it, forgetting removes it, the sweep's lease lives beside it on the
 * checkout item without disturbing the checkout's versioned writes, and watch items of the previous
 * version (RECOVERY#PROCESSING) are still listed and deleted.
 */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  createDocumentClient,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '../../lambdas/adapters/dynamo-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCheckoutRepository } from '../../lambdas/adapters/dynamo-checkout-repository';
import { DynamoRecoveryStore } from '../../lambdas/adapters/dynamo-recovery-store';
import { generateCheckoutId } from '../../lambdas/domain/ids';
import type { Checkout } from '../../lambdas/domain/model';
import { ensureTable, LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';
import { ConcurrentModificationError } from '../../lambdas/errors';
import { aCheckout } from '../unit/fakes';

let db: DynamoDbLocal;
let client: DynamoDBDocumentClient;
let checkouts: DynamoCheckoutRepository;
let recovery: DynamoRecoveryStore;

/** A fresh checkout (new id and order ref, created now: the watch lists by time). */
function newCheckout(overrides: Partial<Checkout> = {}): Checkout {
  const now = new Date().toISOString();
  return aCheckout({
    id: generateCheckoutId(),
    merchantId: 'mer_watch_test',
    merchantOrderRef: `ref_${Math.random().toString(36).slice(2)}`,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  });
}

/** A new checkout moved into `processing` the way POST /pay does. */
async function processingCheckout(overrides: Partial<Checkout> = {}): Promise<Checkout> {
  const checkout = newCheckout(overrides);
  await checkouts.createCheckout(checkout);
  return checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
}

async function rawItem(checkoutId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await client.send(
    new GetCommand({ TableName: db.tableName, Key: { pk: `CHECKOUT#${checkoutId}`, sk: 'CHECKOUT' }, ConsistentRead: true }),
  );
  return Item;
}

async function watchedIds(): Promise<string[]> {
  return (await recovery.listProcessing(1000)).map((watch) => watch.checkoutId);
}

/** What a checkout that entered processing before the upgrade looks like: no gsi3 entry, an old watch item. */
async function asPreviousVersion(checkoutId: string, since: string, lease?: { until: string; owner: string }): Promise<void> {
  await client.send(
    new UpdateCommand({
      TableName: db.tableName,
      Key: { pk: `CHECKOUT#${checkoutId}`, sk: 'CHECKOUT' },
      UpdateExpression: 'REMOVE gsi3pk, gsi3sk',
      ConditionExpression: 'attribute_exists(pk)',
    }),
  );
  await putOldWatchItem(checkoutId, since, lease);
}

async function putOldWatchItem(checkoutId: string, since: string, lease?: { until: string; owner: string }): Promise<void> {
  await client.send(
    new PutCommand({
      TableName: db.tableName,
      Item: {
        pk: 'RECOVERY#PROCESSING',
        sk: `CHECKOUT#${checkoutId}`,
        entity: 'processing_watch',
        checkoutId,
        since,
        ...(lease !== undefined ? { leaseUntil: lease.until, leaseOwner: lease.owner } : {}),
      },
    }),
  );
}

async function oldWatchItem(checkoutId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await client.send(
    new GetCommand({
      TableName: db.tableName,
      Key: { pk: 'RECOVERY#PROCESSING', sk: `CHECKOUT#${checkoutId}` },
      ConsistentRead: true,
    }),
  );
  return Item;
}

beforeAll(async () => {
  db = await startDynamoDbLocal();
  client = createDocumentClient({ ...LOCAL_AWS, endpoint: db.endpoint });
  checkouts = new DynamoCheckoutRepository(client, db.tableName);
  recovery = new DynamoRecoveryStore(client, db.tableName);
});

afterAll(async () => {
  client?.destroy();
  await db?.stop();
});

describe('the recovery watch on the checkout item', () => {
  it('is set by the write that enters processing (no watch item) and removed by the write that leaves it for a non-terminal status', async () => {
    // Prepare
    const checkout = newCheckout({ maxPaymentAttempts: 2 });
    await checkouts.createCheckout(checkout);
    // Act
    const paid = await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    const whilePaying = { item: await rawItem(checkout.id), watched: await watchedIds(), old: await oldWatchItem(checkout.id) };
    await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['processing'], to: 'open' });
    const reopened = { item: await rawItem(checkout.id), watched: await watchedIds() };
    // Assess: the item carries the entry; getCheckout does not show it
    expect(await checkouts.getCheckout(checkout.id)).not.toHaveProperty('gsi3pk');
    expect(whilePaying.item).toMatchObject({ gsi3pk: 'RECOVERY', gsi3sk: paid.updatedAt });
    expect(whilePaying.old).toBeUndefined();
    expect(whilePaying.watched).toContain(checkout.id);
    expect(reopened.item?.['gsi3pk']).toBeUndefined();
    expect(reopened.item?.['gsi3sk']).toBeUndefined();
    expect(reopened.watched).not.toContain(checkout.id);
  });

  it('lists the watched checkouts oldest first, since they entered processing', async () => {
    // Prepare
    const older = await processingCheckout();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newer = await processingCheckout();
    // Act
    const listed = (await recovery.listProcessing(1000)).filter((watch) => [older.id, newer.id].includes(watch.checkoutId));
    // Assess
    expect(listed).toEqual([
      { checkoutId: older.id, since: older.updatedAt },
      { checkoutId: newer.id, since: newer.updatedAt },
    ]);
  });

  it('keeps the watch through the terminal write and drops it, with the lease, when forgotten', async () => {
    // Prepare
    const checkout = await processingCheckout();
    const now = new Date();
    expect(await recovery.claimCheckout(checkout.id, 'sweep-a', now, new Date(now.getTime() + 60_000))).toBe(true);
    await checkouts.transitionCheckout({ checkoutId: checkout.id, from: ['processing'], to: 'succeeded' });
    const afterTerminal = await watchedIds();
    // Act
    await recovery.forgetCheckout(checkout.id);
    // Assess
    expect(afterTerminal).toContain(checkout.id);
    expect(await watchedIds()).not.toContain(checkout.id);
    const item = await rawItem(checkout.id);
    for (const attribute of ['gsi3pk', 'gsi3sk', 'recoveryLeaseUntil', 'recoveryLeaseOwner'])
      expect(item).not.toHaveProperty(attribute);
    expect(item).toMatchObject({ status: 'succeeded' });
  });

  it('never forgets the watch of a checkout that is in processing, and never creates a checkout item', async () => {
    // Prepare
    const checkout = await processingCheckout();
    const missing = generateCheckoutId();
    // Act
    await recovery.forgetCheckout(checkout.id);
    await recovery.forgetCheckout(missing);
    // Assess
    expect(await watchedIds()).toContain(checkout.id);
    expect(await rawItem(checkout.id)).toMatchObject({ gsi3pk: 'RECOVERY', gsi3sk: checkout.updatedAt });
    expect(await rawItem(missing)).toBeUndefined();
  });

  it('watches a checkout created already in processing', async () => {
    // Act
    const checkout = newCheckout({ status: 'processing' });
    await checkouts.createCheckout(checkout);
    // Assess
    expect(await rawItem(checkout.id)).toMatchObject({ gsi3pk: 'RECOVERY', gsi3sk: checkout.updatedAt });
    expect(await watchedIds()).toContain(checkout.id);
  });
});

describe("the sweep's lease on the checkout item", () => {
  it('leaves the checkout as the saga reads it and lets version-conditioned writes through, which leave the lease in place', async () => {
    // Prepare
    const checkout = await processingCheckout();
    const now = new Date();
    const until = new Date(now.getTime() + 60_000);
    // Act
    const claimed = await recovery.claimCheckout(checkout.id, 'sweep-a', now, until);
    const read = await checkouts.getCheckout(checkout.id);
    const stale = checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['processing'],
      to: 'failed',
      expectedVersion: checkout.version - 1,
    });
    await expect(stale).rejects.toBeInstanceOf(ConcurrentModificationError);
    const failed = await checkouts.transitionCheckout({
      checkoutId: checkout.id,
      from: ['processing'],
      to: 'failed',
      expectedVersion: checkout.version,
    });
    const rival = await recovery.claimCheckout(checkout.id, 'sweep-b', now, until);
    const again = await recovery.claimCheckout(checkout.id, 'sweep-a', now, until);
    // Assess
    expect(claimed).toBe(true);
    expect(read).toEqual(checkout);
    expect(failed.version).toBe(checkout.version + 1);
    expect(rival).toBe(false);
    expect(again).toBe(true);
    expect(await rawItem(checkout.id)).toMatchObject({
      status: 'failed',
      recoveryLeaseUntil: until.toISOString(),
      recoveryLeaseOwner: 'sweep-a',
    });
    expect((await recovery.listProcessing(1000)).find((watch) => watch.checkoutId === checkout.id)).toMatchObject({
      leaseUntil: until.toISOString(),
      leaseOwner: 'sweep-a',
    });
  });

  it('is taken over once expired, released only by its owner, and never claimed on a checkout that does not exist', async () => {
    // Prepare
    const checkout = await processingCheckout();
    const now = new Date();
    await recovery.claimCheckout(checkout.id, 'sweep-a', new Date(now.getTime() - 120_000), new Date(now.getTime() - 60_000));
    // Act
    const afterExpiry = await recovery.claimCheckout(checkout.id, 'sweep-b', now, new Date(now.getTime() + 60_000));
    await recovery.releaseCheckout(checkout.id, 'sweep-a');
    const whileHeld = await recovery.claimCheckout(checkout.id, 'sweep-c', now, new Date(now.getTime() + 60_000));
    await recovery.releaseCheckout(checkout.id, 'sweep-b');
    const afterRelease = await recovery.claimCheckout(checkout.id, 'sweep-c', now, new Date(now.getTime() + 60_000));
    const missing = generateCheckoutId();
    const onMissing = await recovery.claimCheckout(missing, 'sweep-a', now, new Date(now.getTime() + 60_000));
    // Assess
    expect([afterExpiry, whileHeld, afterRelease, onMissing]).toEqual([true, false, true, false]);
    expect(await rawItem(missing)).toBeUndefined();
  });
});

describe('watch items of the previous version', () => {
  it('are listed with their lease, after the gsi3 entries and once per checkout', async () => {
    // Prepare
    const upgraded = await processingCheckout();
    const old = await processingCheckout();
    const since = '2026-01-01T00:00:00.000Z';
    await asPreviousVersion(old.id, since, { until: '2099-01-01T00:00:00.000Z', owner: 'old-sweep' });
    await putOldWatchItem(upgraded.id, since);
    // Act
    const listed = await recovery.listProcessing(1000);
    // Assess
    expect(listed.find((watch) => watch.checkoutId === old.id)).toEqual({
      checkoutId: old.id,
      since,
      leaseUntil: '2099-01-01T00:00:00.000Z',
      leaseOwner: 'old-sweep',
    });
    expect(listed.filter((watch) => watch.checkoutId === upgraded.id)).toEqual([
      { checkoutId: upgraded.id, since: upgraded.updatedAt },
    ]);
    expect(listed.findIndex((watch) => watch.checkoutId === upgraded.id)).toBeLessThan(
      listed.findIndex((watch) => watch.checkoutId === old.id),
    );
    await client.send(
      new DeleteCommand({ TableName: db.tableName, Key: { pk: 'RECOVERY#PROCESSING', sk: `CHECKOUT#${upgraded.id}` } }),
    );
  });

  it('are deleted when forgotten: for a finished checkout, for a reopened one, for one that no longer exists; kept for a processing one', async () => {
    // Prepare
    const finished = await processingCheckout();
    const reopened = await processingCheckout({ maxPaymentAttempts: 2 });
    const stillProcessing = await processingCheckout();
    const gone = generateCheckoutId();
    for (const id of [finished.id, reopened.id, stillProcessing.id]) await asPreviousVersion(id, '2026-01-01T00:00:00.000Z');
    await putOldWatchItem(gone, '2026-01-01T00:00:00.000Z');
    await checkouts.transitionCheckout({ checkoutId: finished.id, from: ['processing'], to: 'succeeded' });
    await checkouts.transitionCheckout({ checkoutId: reopened.id, from: ['processing'], to: 'open' });
    // Act
    for (const id of [finished.id, reopened.id, stillProcessing.id, gone]) await recovery.forgetCheckout(id);
    // Assess
    expect(await oldWatchItem(finished.id)).toBeUndefined();
    expect(await oldWatchItem(reopened.id)).toBeUndefined();
    expect(await oldWatchItem(gone)).toBeUndefined();
    expect(await oldWatchItem(stillProcessing.id)).toBeDefined();
    const watched = await watchedIds();
    expect(watched).toContain(stillProcessing.id);
    for (const id of [finished.id, reopened.id, gone]) expect(watched).not.toContain(id);
    expect(await rawItem(gone)).toBeUndefined();
  });
});

describe('the local table of a data dir written before gsi3', () => {
  it('gets gsi3 (keys only) added by ensureTable, and the watch works on it', async () => {
    // Prepare: the table as the previous version created it (gsi1 and gsi2 only)
    const tableName = `paystep-before-gsi3-${Date.now()}`;
    const index = (name: string, projection: 'ALL' | 'KEYS_ONLY') => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: `${name}pk`, KeyType: 'HASH' as const },
        { AttributeName: `${name}sk`, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: projection },
    });
    await db.client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [index('gsi1', 'ALL'), index('gsi2', 'KEYS_ONLY')],
      }),
    );
    // Act
    await ensureTable(db.client, tableName);
    const { Table } = await db.client.send(new DescribeTableCommand({ TableName: tableName }));
    const repository = new DynamoCheckoutRepository(client, tableName);
    const checkout = newCheckout();
    await repository.createCheckout(checkout);
    await repository.transitionCheckout({ checkoutId: checkout.id, from: ['open'], to: 'processing' });
    const listed = await new DynamoRecoveryStore(client, tableName).listProcessing(10);
    // Assess
    expect(Table?.GlobalSecondaryIndexes?.find((gsi) => gsi.IndexName === 'gsi3')).toMatchObject({
      KeySchema: [
        { AttributeName: 'gsi3pk', KeyType: 'HASH' },
        { AttributeName: 'gsi3sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    expect(listed.map((watch) => watch.checkoutId)).toEqual([checkout.id]);
  });
});
