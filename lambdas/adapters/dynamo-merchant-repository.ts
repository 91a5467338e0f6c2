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

  /**
   * Eventually consistent (half the read units), with a strongly consistent read when that finds
   * nothing, so a merchant created a moment ago is never missed. A settings, routing or connector
   * change reaches these readers (the saga, webhook delivery, payment routing, the buyer's page)
   * within about a second; nothing here guards a write: the settings, routing and connector APIs
   * write conditionally on the version of the profile authentication read strongly
   * (findMerchantBySecretKeyHash).
   */
  async getMerchant(merchantId: string): Promise<Merchant | undefined> {
    const item = (await this.readProfile(merchantId, false)) ?? (await this.readProfile(merchantId, true));
    return item === undefined ? undefined : toMerchant(item);
  }

  /**
   * Two key lookups (hash -> merchant id -> profile). The lookup item never changes once written
   * (a key is never moved to another merchant), so it is read eventually consistent, again strongly
   * when that finds nothing, so a key works the moment onboarding returns. The profile is read
   * strongly: its `version` guards the settings, routing and connector writes the caller may make.
   * No scan, no string comparison of secrets.
   */
  async findMerchantBySecretKeyHash(secretKeyHash: string): Promise<Merchant | undefined> {
    const lookup =
      (await this.readItem(apiKeyKey(secretKeyHash), false)) ?? (await this.readItem(apiKeyKey(secretKeyHash), true));
    const merchantId = lookup?.['merchantId'];
    if (typeof merchantId !== 'string') return undefined;
    const item = await this.readProfile(merchantId, true);
    return item === undefined ? undefined : toMerchant(item);
  }

  private async readProfile(merchantId: string, consistent: boolean): Promise<Record<string, unknown> | undefined> {
    return await this.readItem(merchantKey(merchantId), consistent);
  }

  private async readItem(key: Record<string, string>, consistent: boolean): Promise<Record<string, unknown> | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: consistent }),
      );
      return Item;
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
