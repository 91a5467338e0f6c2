/**
 * Module-scope wiring of the card vault, imported only by the functions the CDK stack binds to it
 * (PaystepFunction.bindCardVault): today the vault function api-payment-methods; later the
 * connector functions (which hold kms:Decrypt) and the step that saves a payment method.
 *
 * Env: CARD_VAULT_TABLE_NAME required. Key service, one of:
 * - AWS: CARD_VAULT_KEY_ID (KMS key wrapping the data keys) and CARD_FINGERPRINT_KEY_ID (KMS HMAC
 *   key for fingerprints);
 * - local: CARD_VAULT_LOCAL_KEY_FILE, a 0600 file holding a base64 32-byte key (`npm start`
 *   creates it under the data dir).
 * Neither: cold start fails with a message naming the settings.
 */
import { createKmsClient } from '../adapters/kms-client';
import { DynamoCardVault } from '../adapters/dynamo-card-vault';
import { KmsVaultKeyring } from '../adapters/kms-vault-keyring';
import { LocalVaultKeyring } from '../adapters/local-vault-keyring';
import type { CardVault, SavedPaymentMethods, VaultKeyring } from '../ports/card-vault';
import { optionalEnv, requireEnv } from './env';
import { documentClient, storeConfig } from './wiring';

export const cardVaultConfig = {
  tableName: requireEnv('CARD_VAULT_TABLE_NAME'),
  kmsKeyId: optionalEnv('CARD_VAULT_KEY_ID', ''),
  kmsFingerprintKeyId: optionalEnv('CARD_FINGERPRINT_KEY_ID', ''),
  localKeyFile: optionalEnv('CARD_VAULT_LOCAL_KEY_FILE', ''),
} as const;

function createKeyring(): VaultKeyring {
  if (cardVaultConfig.kmsKeyId !== '') {
    if (cardVaultConfig.kmsFingerprintKeyId === '') throw new Error('CARD_FINGERPRINT_KEY_ID is required with CARD_VAULT_KEY_ID');
    return new KmsVaultKeyring(createKmsClient(), cardVaultConfig.kmsKeyId, cardVaultConfig.kmsFingerprintKeyId);
  }
  if (cardVaultConfig.localKeyFile !== '') return LocalVaultKeyring.fromKeyFile(cardVaultConfig.localKeyFile);
  throw new Error(
    'The card vault needs CARD_VAULT_KEY_ID and CARD_FINGERPRINT_KEY_ID (AWS) or CARD_VAULT_LOCAL_KEY_FILE (local)',
  );
}

const vault = new DynamoCardVault({
  documentClient,
  vaultTableName: cardVaultConfig.tableName,
  mainTableName: storeConfig.tableName,
  keyring: createKeyring(),
});

export const cardVault: CardVault = vault;
export const savedPaymentMethods: SavedPaymentMethods = vault;
