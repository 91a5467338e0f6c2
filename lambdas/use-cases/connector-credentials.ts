/**
 * A merchant's own connector credentials (DESIGN Part 2 "Connectors"): read from its stored
 * connector account and decrypted only here, in the functions that call the PSP (the API that
 * stores them only encrypts). The plaintext never leaves the gateway built from it: not logged, not
 * returned, not kept beyond the warm container's gateway cache (connector-gateways.ts).
 */
import type { MerchantRepository } from '../ports/merchants';
import type { SecretCipher } from '../ports/secrets';
import type { MerchantConnectorCredentials } from './connector-gateways';

export interface CredentialDependencies {
  merchants: Pick<MerchantRepository, 'getMerchant'>;
  cipher: Pick<SecretCipher, 'decrypt'>;
}

/** The merchant's decrypted credentials for `connector`, or undefined when it stored none. */
export async function readMerchantCredentials(
  deps: CredentialDependencies,
  merchantId: string,
  connector: string,
): Promise<MerchantConnectorCredentials | undefined> {
  const merchant = await deps.merchants.getMerchant(merchantId);
  const account = merchant?.connectorAccounts?.find((candidate) => candidate.connector === connector);
  if (account === undefined) return undefined;
  const parsed: unknown = JSON.parse(await deps.cipher.decrypt(account.credentialsCiphertext));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`Stored ${connector} credentials of merchant ${merchantId} are not an object`);
  const values: Record<string, string> = {};
  for (const [field, value] of Object.entries(parsed)) if (typeof value === 'string') values[field] = value;
  return { version: account.createdAt, values };
}

/** PAYSTEP_PLATFORM_CONNECTORS: the comma-separated connectors enabled for every merchant with the platform's credentials. */
export function parsePlatformConnectors(value: string): string[] {
  return value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
}
