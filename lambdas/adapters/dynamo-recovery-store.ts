/**
 * RecoveryStore on DynamoDB: the watch list of checkouts in `processing` (one partition, one item
 * per in-flight checkout, kept in step with the status by dynamo-checkout-repository.ts) and the
 * sweep's lease on a checkout. The lease is a conditional write (no live lease, or our own), so
 * two sweeps (overlapping schedule runs, or a run that outlived its Lambda) never act on the same
 * checkout at once; a sweep that dies only delays the next one by the lease length.
 */
import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ProcessingWatch, RecoveryStore } from '../ports/recovery';
import { PROCESSING_WATCH_PK, processingWatchKey } from './dynamo-keys';
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
    return items.map((item) => ({
      checkoutId: item['checkoutId'] as string,
      since: item['since'] as string,
      ...(typeof item['leaseUntil'] === 'string' ? { leaseUntil: item['leaseUntil'] } : {}),
      ...(typeof item['leaseOwner'] === 'string' ? { leaseOwner: item['leaseOwner'] } : {}),
    }));
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
