/** Port: merchants and their settings (lambdas/adapters/dynamo-merchant-repository.ts implements it). */
import type { StoredConnectorAccount } from '../domain/connector-accounts';
import type { Merchant, MerchantSettings } from '../domain/model';
import type { RoutingConfig } from '../domain/routing';

export interface MerchantRepository {
  /** Stores the merchant and its secret-key lookup item in one transaction. */
  createMerchant(merchant: Merchant): Promise<void>;
  getMerchant(merchantId: string): Promise<Merchant | undefined>;
  /** Finds the merchant whose secret key hashes to `secretKeyHash` (sha256 hex). */
  findMerchantBySecretKeyHash(secretKeyHash: string): Promise<Merchant | undefined>;
  /** Conditional on `expectedVersion`; throws ConcurrentModificationError if it moved. */
  updateSettings(merchantId: string, settings: MerchantSettings, expectedVersion: number): Promise<Merchant>;
  /** Replaces the routing rules; conditional on `expectedVersion` (ConcurrentModificationError if it moved). */
  updateRouting(merchantId: string, routing: RoutingConfig, expectedVersion: number): Promise<Merchant>;
  /** Replaces the connector accounts; conditional on `expectedVersion` (ConcurrentModificationError if it moved). */
  updateConnectorAccounts(merchantId: string, accounts: StoredConnectorAccount[], expectedVersion: number): Promise<Merchant>;
}
