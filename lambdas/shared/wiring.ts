/**
 * Module-scope wiring every Lambda shares (API handlers and saga steps): the environment, read
 * once at cold start (a missing setting fails there, not mid-payment), the DynamoDB document
 * client, the merchant repository and the secret cipher. What only some entries use is wired in its own small module, so an entry builds (and a
 * reader opens) only what it imports: checkout-wiring.ts (the checkout repository), event-wiring.ts (webhook endpoints, events, the publisher),
 * instrument-wiring.ts (financial instruments), operation-key-wiring.ts (their Idempotency-Key
 * records), api-wiring.ts (the API's Idempotency-Key store), and the
 * saga/webhook/callback/customer/card-vault wirings. Objects are created once per container.
 *
 * Env: TABLE_NAME required; PAYSTEP_SECRETS_KEY (32 bytes, base64, or on AWS a
 * `secretsmanager:<arn>` reference resolved once here by secret-env.ts) for the functions that
 * encrypt or decrypt stored secrets (the CDK stack gives it to exactly those); DYNAMODB_ENDPOINT optional
 * (DynamoDB Local; credentials then come from AWS_ACCESS_KEY_ID etc. as usual); PAYSTEP_MODE and
 * ALLOW_LOOPBACK_URLS (SSRF policy for merchant URLs, url-policy.ts).
 * API-only settings (admin token, checkout base URL) live in api-wiring.ts, so saga functions do
 * not need them.
 */
import { AesSecretCipher } from '../adapters/aes-secret-cipher';
import { urlPolicyFromEnv, type UrlPolicy } from '../adapters/url-policy';
import { createDocumentClient } from '../adapters/dynamo-client';
import { DynamoMerchantRepository } from '../adapters/dynamo-merchant-repository';
import type { MerchantRepository } from '../ports/merchants';
import type { SecretCipher } from '../ports/secrets';
import { optionalEnv, requireEnv } from './env';
import { resolveSecretEnv } from './secret-env';

export const storeConfig = {
  tableName: requireEnv('TABLE_NAME'),
  dynamodbEndpoint: optionalEnv('DYNAMODB_ENDPOINT', '') || undefined,
} as const;

export const documentClient = createDocumentClient(
  storeConfig.dynamodbEndpoint !== undefined ? { endpoint: storeConfig.dynamodbEndpoint } : {},
);

export const merchantRepository: MerchantRepository = new DynamoMerchantRepository(documentClient, storeConfig.tableName);
/**
 * Resolved at cold start (top-level await: the bundles are ESM). A function the stack did not give
 * PAYSTEP_SECRETS_KEY gets a cipher that fails on use with a clear message, so least privilege
 * does not cost every other function its cold start.
 */
const secretsKey = await resolveSecretEnv('PAYSTEP_SECRETS_KEY', 'verbatim');
export const secretCipher: SecretCipher =
  secretsKey !== undefined ? new AesSecretCipher(secretsKey) : createUnconfiguredCipher('PAYSTEP_SECRETS_KEY');
/** SSRF rules for merchant URLs: production unless PAYSTEP_MODE=local; loopback only with ALLOW_LOOPBACK_URLS=true. */
export const merchantUrlPolicy: UrlPolicy = urlPolicyFromEnv();
/** A SecretCipher for a function that was not given the key: any use is a deployment error. */
function createUnconfiguredCipher(envName: string): SecretCipher {
  const fail = async (): Promise<never> => {
    throw new Error(`${envName} is not configured for this function (grant it in lib/stateless-stack.ts)`);
  };
  return { encrypt: fail, decrypt: fail };
}
