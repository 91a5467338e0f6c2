/**
 * MerchantRepository on DynamoDB: the merchant profile item plus a secret-key lookup item
 * (`APIKEY#<sha256>`) written in the same transaction, so authentication is one key lookup and a
 * key can never point at a merchant that was not stored. Settings changes are conditional on
 * the numeric `version`.
 *
 * Profiles and key lookups are served from a per-container read cache (settings-read-cache.ts,
 * 1 s by default, PAYSTEP_SETTINGS_CACHE_TTL_MS): misses are not cached, and a write through this
 * class in this process replaces (settings, routing, connectors) or drops (a refused write) the
 * cached profile at once. The caches are module-wide, so every instance in the process shares them.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from './dynamo-client';
import { ConcurrentModificationError, ConflictError, NotFoundError } from '../errors';
import type { StoredConnectorAccount } from '../domain/connector-accounts';
import type { Merchant, MerchantSettings } from '../domain/model';
import type { RoutingConfig } from '../domain/routing';
import type { MerchantRepository } from '../ports/merchants';
import { isConditionalCheckFailure, transactWrite, translateStoreError, withoutUndefined } from './dynamo-support';
import { apiKeyKey, merchantKey } from './dynamo-keys';
import { createSettingsCache } from './settings-read-cache';

/** Merchant profiles by `<table>|<merchant id>`. */
const profileCache = createSettingsCache<Merchant>();
/** Merchant ids by `<table>|<secret key hash>` (the lookup item never changes once written). */
const apiKeyCache = createSettingsCache<string>();

/** Empties this process's merchant caches (tests that write the table behind the repository's back). */
export function clearMerchantCaches(): void {
  profileCache.clear();
  apiKeyCache.clear();
}

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
    profileCache.invalidate(this.cacheKey(merchant.id));
    apiKeyCache.invalidate(this.cacheKey(merchant.secretKeyHash));
  }

  private cacheKey(id: string): string {
    return `${this.tableName}|${id}`;
  }

  /**
   * Eventually consistent (half the read units), with a strongly consistent read when that finds
   * nothing, so a merchant created a moment ago is never missed. A settings, routing or connector
   * change reaches these readers (the saga, webhook delivery, payment routing, the buyer's page)
   * within about a second (the cache TTL plus eventual consistency); nothing here guards a write:
   * the settings, routing and connector APIs write conditionally on the version of the profile
   * authentication hands them (findMerchantBySecretKeyHash). Served from the per-container cache.
   */
  async getMerchant(merchantId: string): Promise<Merchant | undefined> {
    return await profileCache.read(this.cacheKey(merchantId), async () => {
      const item = (await this.readProfile(merchantId, false)) ?? (await this.readProfile(merchantId, true));
      return item === undefined ? undefined : toMerchant(item);
    });
  }

  /**
   * Two key lookups (hash -> merchant id -> profile). The lookup item never changes once written
   * (a key is never moved to another merchant), so it is read eventually consistent, again strongly
   * when that finds nothing, so a key works the moment onboarding returns. On a cache miss the
   * profile is read strongly. Both come from the per-container cache for up to its TTL: a cached
   * profile's `version` can be up to that old when another container changed the merchant, and then
   * the settings, routing or connector write it guards is refused (409) and drops the cached
   * profile, so reading again and retrying works. A key whose lookup item is deleted keeps working
   * in a container that cached it for up to the TTL. No scan, no string comparison of secrets.
   */
  async findMerchantBySecretKeyHash(secretKeyHash: string): Promise<Merchant | undefined> {
    const merchantId = await apiKeyCache.read(this.cacheKey(secretKeyHash), async () => {
      const lookup =
        (await this.readItem(apiKeyKey(secretKeyHash), false)) ?? (await this.readItem(apiKeyKey(secretKeyHash), true));
      const found = lookup?.['merchantId'];
      return typeof found === 'string' ? found : undefined;
    });
    if (merchantId === undefined) return undefined;
    return await profileCache.read(this.cacheKey(merchantId), async () => {
      const item = await this.readProfile(merchantId, true);
      return item === undefined ? undefined : toMerchant(item);
    });
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

  /** Write-through: the profile a write returned replaces the cached one unless a newer one is there. */
  private cacheWritten(merchant: Merchant): void {
    const key = this.cacheKey(merchant.id);
    const cached = profileCache.peek(key);
    if (cached !== undefined && cached.version > merchant.version) return;
    profileCache.put(key, merchant);
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
      const updated = toMerchant(Attributes ?? {});
      if (Attributes !== undefined) this.cacheWritten(updated);
      else profileCache.invalidate(this.cacheKey(merchantId));
      return updated;
    } catch (error) {
      if (isConditionalCheckFailure(error)) {
        // The caller's version was old (perhaps a cached profile): drop it, so reading again sees the current one.
        profileCache.invalidate(this.cacheKey(merchantId));
        const current = await this.readProfile(merchantId, true);
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
