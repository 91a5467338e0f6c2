/**
 * The outcome watch's end (lambdas/use-cases/saga/notify-merchant.ts): forgetting a checkout's
 * recovery watch once its result events are stored. Kept apart from DynamoRecoveryStore (which
 * extends it with the sweep's listing and lease) so the saga's bundles carry only this. The watch
 * is the checkout item's gsi3 entry (lambdas/adapters/dynamo-recovery-store.ts says how it is kept);
 * a watch item of the previous version (RECOVERY#PROCESSING) is deleted when the checkout had none.
 */
import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from './dynamo-client';
import type { RecoveryStore } from '../ports/recovery';
import { checkoutKey, processingWatchKey, RECOVERY_LEASE_OWNER, RECOVERY_LEASE_UNTIL } from './dynamo-keys';
import { isConditionalCheckFailure, translateStoreError } from './dynamo-support';

/** Placeholders of the sweep's lease attributes on the checkout item. */
export const LEASE_NAMES = { '#until': RECOVERY_LEASE_UNTIL, '#owner': RECOVERY_LEASE_OWNER } as const;

export class DynamoOutcomeWatch implements Pick<RecoveryStore, 'forgetCheckout'> {
  constructor(
    protected readonly client: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  /**
   * One UpdateItem REMOVE of the gsi3 entry and the lease, conditioned on the checkout existing and
   * not being in `processing` (a processing checkout is never left without a watch, even if it
   * re-entered processing after the caller looked). Only when the checkout had no gsi3 entry (a
   * watch of the previous version, or a repeat) is the old watch item deleted too.
   */
  async forgetCheckout(checkoutId: string): Promise<void> {
    let hadEntry: boolean | undefined;
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: checkoutKey(checkoutId),
          UpdateExpression: 'REMOVE gsi3pk, gsi3sk, #until, #owner',
          ConditionExpression: 'attribute_exists(pk) AND #status <> :processing',
          ExpressionAttributeNames: { ...LEASE_NAMES, '#status': 'status' },
          ExpressionAttributeValues: { ':processing': 'processing' },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      hadEntry = Attributes?.['gsi3pk'] !== undefined;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) translateStoreError(error);
    }
    if (hadEntry === true) return;
    // The condition failed: a processing checkout keeps every watch; with no checkout at all, only
    // an old watch item can be left.
    if (hadEntry === undefined && (await this.checkoutExists(checkoutId))) return;
    await this.deleteOldWatch(checkoutId);
  }

  private async deleteOldWatch(checkoutId: string): Promise<void> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: processingWatchKey(checkoutId) }));
    } catch (error) {
      translateStoreError(error);
    }
  }

  private async checkoutExists(checkoutId: string): Promise<boolean> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: checkoutKey(checkoutId),
          ProjectionExpression: 'pk',
          ConsistentRead: true,
        }),
      );
      return Item !== undefined;
    } catch (error) {
      return translateStoreError(error);
    }
  }
}
