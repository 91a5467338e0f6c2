/**
 * MerchantRepository on DynamoDB: the merchant profile item plus a secret-key lookup item
 * (`APIKEY#<sha256>`) written in the same transaction, so authentication is one key lookup and a
 * key can never point at a merchant that was not stored. Settings changes are conditional on
 * the numeric `version`.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModificationError, ConflictError, NotFoundError } from '../errors';
import type { StoredConnectorAccount } from '../domain/connector-accounts';
import type { Merchant, MerchantSettings } from '../domain/model';
import type { RoutingConfig } from '../domain/routing';
import type { MerchantRepository } from '../ports/merchants';
import { isConditionalCheckFailure, transactWrite, translateStoreError, withoutUndefined } from './dynamo-support';
import { apiKeyKey, merchantKey } from './dynamo-keys';

type MerchantItem = Merchant & { pk: string; sk: string; entity: 'merchant' };

function toMerchant(item: Record<string, unknown>): Merchant {
  const { pk: _pk, sk: _sk, entity: _entity, ...merchant } = item as unknown as MerchantItem;
  return merchant;
}

export class DynamoMerchantRepository implements MerchantRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores the profile and the secret-key lookup atomically; both must be new. */
  async createMerchant(merchant: Merchant): Promise<void> {
    const result = await transactWrite(this.client, {
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: withoutUndefined({ ...merchantKey(merchant.id), entity: 'merchant', ...merchant }),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: { ...apiKeyKey(merchant.secretKeyHash), entity: 'apikey', merchantId: merchant.id },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
    });
    if (!result.ok) throw new ConflictError('A merchant with this id or secret key already exists');
  }

  /** Strongly consistent: a merchant reads its own settings right after writing them. */
  async getMerchant(merchantId: string): Promise<Merchant | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: merchantKey(merchantId), ConsistentRead: true }),
      );
      return Item === undefined ? undefined : toMerchant(Item);
    } catch (error) {
      return translateStoreError(error);
    }
  }

  /**
   * Two strongly consistent key lookups (hash -> merchant id -> profile), so a key works the
   * moment onboarding returns. No scan, no string comparison of secrets.
   */
  async findMerchantBySecretKeyHash(secretKeyHash: string): Promise<Merchant | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: apiKeyKey(secretKeyHash), ConsistentRead: true }),
      );
      const merchantId = Item?.['merchantId'];
      if (typeof merchantId !== 'string') return undefined;
      return await this.getMerchant(merchantId);
    } catch (error) {
      return translateStoreError(error);
    }
  }

  /** Replaces the settings map only if nobody changed the merchant since `expectedVersion`. */
  async updateSettings(merchantId: string, settings: MerchantSettings, expectedVersion: number): Promise<Merchant> {
    return await this.replaceAttribute(merchantId, 'settings', withoutUndefined(settings), expectedVersion);
  }

  /** Replaces the routing rules only if nobody changed the merchant since `expectedVersion`. */
  async updateRouting(merchantId: string, routing: RoutingConfig, expectedVersion: number): Promise<Merchant> {
    return await this.replaceAttribute(merchantId, 'routing', withoutUndefined(routing), expectedVersion);
  }

  /** Replaces the connector accounts only if nobody changed the merchant since `expectedVersion`. */
  async updateConnectorAccounts(
    merchantId: string,
    accounts: StoredConnectorAccount[],
    expectedVersion: number,
  ): Promise<Merchant> {
    return await this.replaceAttribute(merchantId, 'connectorAccounts', accounts, expectedVersion);
  }

  private async replaceAttribute(
    merchantId: string,
    attribute: 'settings' | 'routing' | 'connectorAccounts',
    value: unknown,
    expectedVersion: number,
  ): Promise<Merchant> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: merchantKey(merchantId),
          UpdateExpression: 'SET #attribute = :value, version = version + :one',
          ConditionExpression: 'attribute_exists(pk) AND version = :expected',
          ExpressionAttributeNames: { '#attribute': attribute },
          ExpressionAttributeValues: { ':value': value, ':one': 1, ':expected': expectedVersion },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toMerchant(Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailure(error)) {
        const current = await this.getMerchant(merchantId);
        if (current === undefined) throw new NotFoundError('No such merchant');
        throw new ConcurrentModificationError(
          `The ${attribute === 'settings' ? 'settings were' : 'routing or connector accounts were'} changed by another request; read them again and retry`,
          {
            cause: error,
          },
        );
      }
      return translateStoreError(error);
    }
  }
}
