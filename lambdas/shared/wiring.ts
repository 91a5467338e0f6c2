/**
 * Module-scope wiring shared by every Lambda (API handlers and saga steps): the environment,
 * read once at cold start (a missing setting fails there, not mid-payment), the DynamoDB
 * document client, the repositories and the secret cipher. Import what you need; the objects
 * are created once per container.
 *
 * Env: TABLE_NAME, PAYSTEP_SECRETS_KEY (32 bytes, base64) required; DYNAMODB_ENDPOINT optional
 * (DynamoDB Local; credentials then come from AWS_ACCESS_KEY_ID etc. as usual).
 * API-only settings (admin token, checkout base URL) live in api-wiring.ts, so saga functions do
 * not need them.
 */
import { AesSecretCipher } from '../adapters/aes-secret-cipher';
import { DynamoWebhookEndpointRepository } from '../adapters/dynamo-webhook-endpoints';
import {
  createDocumentClient,
  DynamoCheckoutRepository,
  DynamoIdempotencyStore,
  DynamoMerchantRepository,
} from '../adapters/dynamo-store';
import type {
  CheckoutQueries,
  CheckoutRepository,
  IdempotencyStore,
  MerchantRepository,
  SecretCipher,
  WebhookEndpointRepository,
} from '../ports';
import { optionalEnv, requireEnv } from './env';

export const storeConfig = {
  tableName: requireEnv('TABLE_NAME'),
  dynamodbEndpoint: optionalEnv('DYNAMODB_ENDPOINT', '') || undefined,
} as const;

export const documentClient = createDocumentClient(
  storeConfig.dynamodbEndpoint !== undefined ? { endpoint: storeConfig.dynamodbEndpoint } : {},
);

const checkouts = new DynamoCheckoutRepository(documentClient, storeConfig.tableName);

export const merchantRepository: MerchantRepository = new DynamoMerchantRepository(documentClient, storeConfig.tableName);
export const checkoutRepository: CheckoutRepository = checkouts;
export const checkoutQueries: CheckoutQueries = checkouts;
export const idempotencyStore: IdempotencyStore = new DynamoIdempotencyStore(documentClient, storeConfig.tableName);
export const secretCipher: SecretCipher = new AesSecretCipher(requireEnv('PAYSTEP_SECRETS_KEY'));
export const webhookEndpointRepository: WebhookEndpointRepository = new DynamoWebhookEndpointRepository(documentClient, storeConfig.tableName);
