/**
 * Module-scope wiring shared by every Lambda (API handlers and saga steps): the environment,
 * read once at cold start (a missing setting fails there, not mid-payment), the DynamoDB
 * document client, the repositories and the secret cipher. Import what you need; the objects
 * are created once per container.
 *
 * Env: TABLE_NAME required; PAYSTEP_SECRETS_KEY (32 bytes, base64, or on AWS a
 * `secretsmanager:<arn>` reference resolved once here by secret-env.ts) for the functions that
 * encrypt or decrypt stored secrets (the CDK stack gives it to exactly those); DYNAMODB_ENDPOINT optional
 * (DynamoDB Local; credentials then come from AWS_ACCESS_KEY_ID etc. as usual); PAYSTEP_MODE and
 * ALLOW_LOOPBACK_URLS (SSRF policy for merchant URLs, url-guard.ts).
 * API-only settings (admin token, checkout base URL) live in api-wiring.ts, so saga functions do
 * not need them.
 */
import { AesSecretCipher } from '../adapters/aes-secret-cipher';
import { DynamoInstrumentRepository } from '../adapters/dynamo-instrument-repository';
import { createDynamoIdempotencyStore, DEFAULT_IDEMPOTENCY_RETENTION_SECONDS } from '../adapters/dynamo-idempotency-store';
import { DynamoEventStore } from '../adapters/dynamo-event-store';
import { DynamoWebhookEndpointRepository } from '../adapters/dynamo-webhook-endpoints';
import { urlPolicyFromEnv, type UrlPolicy } from '../adapters/url-guard';
import { createEventPublisher } from '../use-cases/webhook-delivery';
import { createDocumentClient, DynamoCheckoutRepository, DynamoMerchantRepository } from '../adapters/dynamo-store';
import type { CheckoutQueries, CheckoutRepository } from '../ports/checkouts';
import type { EventPublisher, EventStore } from '../ports/events';
import type { IdempotencyStore } from '../ports/idempotency';
import type { InstrumentRepository } from '../ports/instruments';
import type { MerchantRepository } from '../ports/merchants';
import type { SecretCipher } from '../ports/secrets';
import type { WebhookEndpointRepository } from '../ports/webhooks';
import { optionalEnv, requireEnv } from './env';
import { resolveSecretEnv } from './secret-env';

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
/** Idempotency-Key records of API requests, kept 24 h. */
export const idempotencyStore: IdempotencyStore = createDynamoIdempotencyStore(documentClient, storeConfig.tableName, {
  retention: { seconds: DEFAULT_IDEMPOTENCY_RETENTION_SECONDS },
});
/**
 * Resolved at cold start (top-level await: the bundles are ESM). A function the stack did not give
 * PAYSTEP_SECRETS_KEY gets a cipher that fails on use with a clear message, so least privilege
 * does not cost every other function its cold start.
 */
const secretsKey = await resolveSecretEnv('PAYSTEP_SECRETS_KEY', 'verbatim');
export const secretCipher: SecretCipher =
  secretsKey !== undefined ? new AesSecretCipher(secretsKey) : createUnconfiguredCipher('PAYSTEP_SECRETS_KEY');
export const webhookEndpointRepository: WebhookEndpointRepository = new DynamoWebhookEndpointRepository(
  documentClient,
  storeConfig.tableName,
);
export const eventStore: EventStore = new DynamoEventStore(documentClient, storeConfig.tableName);
/** Publishes a merchant event (stored, deliveries queued; the webhook dispatcher sends them). */
export const eventPublisher: EventPublisher = createEventPublisher({
  events: eventStore,
  webhookEndpoints: webhookEndpointRepository,
});
/** SSRF rules for merchant URLs: production unless PAYSTEP_MODE=local; loopback only with ALLOW_LOOPBACK_URLS=true. */
export const merchantUrlPolicy: UrlPolicy = urlPolicyFromEnv();
/** Financial instruments (balances + operations, one item each) and their Idempotency-Key records (kept for the instrument's life). */
export const instrumentRepository: InstrumentRepository = new DynamoInstrumentRepository(documentClient, storeConfig.tableName);
export const operationKeyStore: IdempotencyStore = createDynamoIdempotencyStore(documentClient, storeConfig.tableName, {
  retention: 'forever',
});

/** A SecretCipher for a function that was not given the key: any use is a deployment error. */
function createUnconfiguredCipher(envName: string): SecretCipher {
  const fail = async (): Promise<never> => {
    throw new Error(`${envName} is not configured for this function (grant it in lib/stateless-stack.ts)`);
  };
  return { encrypt: fail, decrypt: fail };
}
