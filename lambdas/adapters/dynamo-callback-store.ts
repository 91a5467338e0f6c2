/**
 * PspCallbackStore on DynamoDB. A callback id is recorded with a conditional put
 * (`attribute_not_exists(pk)`), so a PSP that delivers the same callback twice, or two Lambda
 * instances racing on it, apply it once. The authorization's state (one item per connector and
 * reference) only moves forward: the update is conditioned on the stored state being one that may
 * precede the new one (lambdas/domain/psp-outcome.ts), so a late or reordered callback is a
 * no-op in the database itself, not just in application code.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from './dynamo-client';
import { AUTHORIZATION_STATE_RANK, isForwardTransition, type PspAuthorizationState } from '../domain/psp-outcome';
import type { PspAuthorizationRecord } from '../domain/psp-outcome';
import type { PspCallbackReceipt, PspCallbackStore } from '../ports/callbacks';
import { pspAuthorizationStateKey, pspCallbackKey } from './dynamo-keys';
import { isConditionalCheckFailure, translateStoreError } from './dynamo-support';

/** Callback receipts are kept this long: far beyond any PSP's redelivery window. */
export const CALLBACK_RETENTION_SECONDS = 30 * 24 * 3600;

const ALL_STATES = Object.keys(AUTHORIZATION_STATE_RANK) as PspAuthorizationState[];

function fromItem(item: Record<string, unknown>): PspAuthorizationRecord {
  return {
    connector: item['connector'] as string,
    reference: item['reference'] as string,
    state: item['state'] as PspAuthorizationState,
    amount: item['amount'] as number,
    currency: item['currency'] as string,
    updatedAt: item['updatedAt'] as string,
    ...(typeof item['authorizationId'] === 'string' ? { authorizationId: item['authorizationId'] } : {}),
    ...(typeof item['taskToken'] === 'string' ? { taskToken: item['taskToken'] } : {}),
    ...(typeof item['lastCallbackId'] === 'string' ? { lastCallbackId: item['lastCallbackId'] } : {}),
  };
}

export class DynamoPspCallbackStore implements PspCallbackStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async hasCallback(connector: string, callbackId: string): Promise<boolean> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: pspCallbackKey(connector, callbackId), ConsistentRead: true }),
      );
      return Item !== undefined;
    } catch (error) {
      return translateStoreError(error);
    }
  }

  async recordCallback(receipt: PspCallbackReceipt): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...pspCallbackKey(receipt.connector, receipt.callbackId),
            entity: 'psp_callback',
            ...receipt,
            expiresAt: Math.floor(Date.parse(receipt.receivedAt) / 1000) + CALLBACK_RETENTION_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      return translateStoreError(error);
    }
  }

  async getAuthorizationRecord(connector: string, reference: string): Promise<PspAuthorizationRecord | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: pspAuthorizationStateKey(connector, reference), ConsistentRead: true }),
      );
      return Item === undefined ? undefined : fromItem(Item);
    } catch (error) {
      return translateStoreError(error);
    }
  }

  /** One conditional UpdateItem: created if absent, else only from a state that may precede `next.state`. */
  async advanceAuthorization(
    next: Omit<PspAuthorizationRecord, 'taskToken' | 'updatedAt'>,
    now: Date,
  ): Promise<{ applied: boolean; record: PspAuthorizationRecord }> {
    const predecessors = ALL_STATES.filter((state) => isForwardTransition(state, next.state));
    const values: Record<string, unknown> = {
      ':state': next.state,
      ':amount': next.amount,
      ':currency': next.currency,
      ':connector': next.connector,
      ':reference': next.reference,
      ':entity': 'psp_authorization',
      ':now': now.toISOString(),
    };
    predecessors.forEach((state, index) => {
      values[`:p${index}`] = state;
    });
    const sets = [
      '#state = :state',
      'amount = :amount',
      'currency = :currency',
      '#connector = :connector',
      '#reference = :reference',
      'entity = :entity',
      'updatedAt = :now',
    ];
    if (next.authorizationId !== undefined) {
      sets.push('authorizationId = :authorizationId');
      values[':authorizationId'] = next.authorizationId;
    }
    if (next.lastCallbackId !== undefined) {
      sets.push('lastCallbackId = :lastCallbackId');
      values[':lastCallbackId'] = next.lastCallbackId;
    }
    const allowed = predecessors.length === 0 ? '' : ` OR #state IN (${predecessors.map((_, index) => `:p${index}`).join(', ')})`;
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pspAuthorizationStateKey(next.connector, next.reference),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_not_exists(pk)${allowed}`,
          ExpressionAttributeNames: { '#state': 'state', '#connector': 'connector', '#reference': 'reference' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { applied: true, record: fromItem(Attributes ?? {}) };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) return translateStoreError(error);
      const stored = await this.getAuthorizationRecord(next.connector, next.reference);
      if (stored === undefined) throw error;
      return { applied: false, record: stored };
    }
  }

  async registerTaskToken(
    connector: string,
    reference: string,
    taskToken: string,
    defaults: { amount: number; currency: string; authorizationId?: string },
    now: Date,
  ): Promise<PspAuthorizationRecord> {
    const values: Record<string, unknown> = {
      ':token': taskToken,
      ':pending': 'pending',
      ':amount': defaults.amount,
      ':currency': defaults.currency,
      ':connector': connector,
      ':reference': reference,
      ':entity': 'psp_authorization',
      ':now': now.toISOString(),
    };
    const sets = [
      'taskToken = :token',
      '#state = if_not_exists(#state, :pending)',
      'amount = if_not_exists(amount, :amount)',
      'currency = if_not_exists(currency, :currency)',
      '#connector = :connector',
      '#reference = :reference',
      'entity = :entity',
      'updatedAt = :now',
    ];
    if (defaults.authorizationId !== undefined) {
      sets.push('authorizationId = if_not_exists(authorizationId, :authorizationId)');
      values[':authorizationId'] = defaults.authorizationId;
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pspAuthorizationStateKey(connector, reference),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ExpressionAttributeNames: { '#state': 'state', '#connector': 'connector', '#reference': 'reference' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes ?? {});
    } catch (error) {
      return translateStoreError(error);
    }
  }

  async clearTaskToken(connector: string, reference: string, taskToken: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pspAuthorizationStateKey(connector, reference),
          UpdateExpression: 'REMOVE taskToken',
          ConditionExpression: 'taskToken = :token',
          ExpressionAttributeValues: { ':token': taskToken },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailure(error)) return;
      translateStoreError(error);
    }
  }
}
