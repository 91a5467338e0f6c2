/**
 * Module-scope wiring shared by every Lambda (API handlers and saga steps): the environment,
 * read once at cold start (a missing setting fails there, not mid-payment), the DynamoDB
 * document client, the repositories and the secret cipher. Import what you need; the objects
 * are created once per container.
 *
 * Env: TABLE_NAME, PAYSTEP_SECRETS_KEY (32 bytes, base64) required; DYNAMODB_ENDPOINT optional
 * (DynamoDB Local; credentials then come from AWS_ACCESS_KEY_ID etc. as usual); PAYSTEP_MODE and
 * ALLOW_LOOPBACK_URLS (SSRF policy for merchant URLs, url-guard.ts).
 * API-only settings (admin token, checkout base URL) live in api-wiring.ts, so saga functions do
 * not need them.
 */
import { AesSecretCipher } from '../adapters/aes-secret-cipher';
import { DynamoInstrumentRepository, DynamoOperationKeyStore } from '../adapters/dynamo-instrument-repository';
import { DynamoEventStore } from '../adapters/dynamo-event-store';
import { DynamoWebhookEndpointRepository } from '../adapters/dynamo-webhook-endpoints';
import { urlPolicyFromEnv, type UrlPolicy } from '../adapters/url-guard';
import { createEventPublisher } from '../use-cases/webhook-delivery';
import {
  createDocumentClient,
  DynamoCheckoutRepository,
  DynamoIdempotencyStore,
  DynamoMerchantRepository,
} from '../adapters/dynamo-store';
import type {
  EventPublisher,
  EventStore,
  CheckoutQueries,
  CheckoutRepository,
  IdempotencyStore,
  InstrumentRepository,
  MerchantRepository,
  OperationKeyStore,
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
export const eventStore: EventStore = new DynamoEventStore(documentClient, storeConfig.tableName);
/** Publishes a merchant event (stored, deliveries queued; the webhook dispatcher sends them). */
export const eventPublisher: EventPublisher = createEventPublisher({ events: eventStore, webhookEndpoints: webhookEndpointRepository });
/** SSRF rules for merchant URLs: production unless PAYSTEP_MODE=local; loopback only with ALLOW_LOOPBACK_URLS=true. */
export const merchantUrlPolicy: UrlPolicy = urlPolicyFromEnv();
/** Financial instruments (balances + operations, one item each) and their Idempotency-Key records (no TTL). */
export const instrumentRepository: InstrumentRepository = new DynamoInstrumentRepository(documentClient, storeConfig.tableName);
export const operationKeyStore: OperationKeyStore = new DynamoOperationKeyStore(documentClient, storeConfig.tableName);
