/**
 * RecoveryStore on DynamoDB: the watch list (one partition, one small item per watched checkout)
 * and the sweep's lease on a checkout, kept in the watch item so no checkout write can overwrite
 * it. dynamo-checkout-repository.ts arms the watch just before the write that enters
 * `processing`; it stays through the terminal write (then it is the outcome watch) until
 * NotifyMerchant (or the sweep) forgets it. For a terminal checkout `since` is the checkout's
 * `updatedAt` (when the result was recorded), read with one BatchGetItem per page of watches, so
 * the sweep gives NotifyMerchant the same time as before the watch stopped being rewritten at the
 * terminal write. The lease is a conditional write (no live lease, or our own), so
 * two sweeps (overlapping schedule runs, or a run that outlived its Lambda) never act on the same
 * checkout at once; a sweep that dies only delays the next one by the lease length.
 */
import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ProcessingWatch, RecoveryStore } from '../ports/recovery';
import { checkoutKey, PROCESSING_WATCH_PK, processingWatchKey } from './dynamo-keys';
import { batchGetItems } from './dynamo-batch-get';
import { isConditionalCheckFailure, queryItems, translateStoreError } from './dynamo-support';

export class DynamoRecoveryStore implements RecoveryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listProcessing(limit: number): Promise<ProcessingWatch[]> {
    const items = await queryItems(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': PROCESSING_WATCH_PK },
      },
      limit,
    );
    const checkouts = await batchGetItems(
      this.client,
      this.tableName,
      items.map((item) => checkoutKey(item['checkoutId'] as string)),
      { projection: ['status', 'updatedAt'] },
    );
    const recorded = new Map(
      checkouts
        .filter((checkout) => checkout['status'] === 'succeeded' || checkout['status'] === 'failed')
        .map((checkout) => [checkout['pk'], checkout['updatedAt'] as string]),
    );
    return items.map((item) => {
      const since = item['since'] as string;
      const resultAt = recorded.get(checkoutKey(item['checkoutId'] as string).pk);
      return {
        checkoutId: item['checkoutId'] as string,
        since: resultAt !== undefined && resultAt > since ? resultAt : since,
        ...(typeof item['leaseUntil'] === 'string' ? { leaseUntil: item['leaseUntil'] } : {}),
        ...(typeof item['leaseOwner'] === 'string' ? { leaseOwner: item['leaseOwner'] } : {}),
      };
    });
  }

  async claimCheckout(checkoutId: string, owner: string, now: Date, leaseUntil: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: processingWatchKey(checkoutId),
          UpdateExpression: 'SET leaseUntil = :until, leaseOwner = :owner',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner)',
          ExpressionAttributeValues: { ':until': leaseUntil.toISOString(), ':owner': owner, ':now': now.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  async releaseCheckout(checkoutId: string, owner: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: processingWatchKey(checkoutId),
          UpdateExpression: 'REMOVE leaseUntil, leaseOwner',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return;
      translateStoreError(error);
    }
  }

  async forgetCheckout(checkoutId: string): Promise<void> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: processingWatchKey(checkoutId) }));
    } catch (error) {
      translateStoreError(error);
    }
  }
}
