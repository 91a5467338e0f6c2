/**
 * Module-scope wiring for the public API Lambdas, on top of wiring.ts: API settings from the
 * environment (read once at cold start) and the dependencies createApiHandler needs, the API's
 * Idempotency-Key store included (here, not in wiring.ts: the saga steps, the sweep and the
 * dispatcher never read it, so they do not bundle it).
 *
 * Env: PUBLIC_CHECKOUT_BASE_URL required; ADMIN_TOKEN_HASH (sha256 hex of the admin token, or on
 * AWS a `secretsmanager:<arn>` reference to the token itself, fetched and hashed once at cold
 * start by secret-env.ts) for the entry serving admin routes (api-merchants) only;
 * ALLOW_HTTP_MERCHANT_URLS=true (local mode) accepts http:// merchant URLs.
 */
import { createHashedAdminTokenVerifier, type AdminTokenVerifier } from '../adapters/admin-token';
import { createDynamoIdempotencyStore, DEFAULT_IDEMPOTENCY_RETENTION_SECONDS } from '../adapters/dynamo-idempotency-store';
import type { IdempotencyStore } from '../ports/idempotency';
import { createAuthenticator } from './auth';
import type { ApiDependencies } from './http';
import { optionalEnv, requireEnv } from './env';
import { resolveSecretEnv } from './secret-env';
import { documentClient, merchantRepository, secretCipher, storeConfig } from './wiring';

export const apiConfig = {
  publicCheckoutBaseUrl: requireEnv('PUBLIC_CHECKOUT_BASE_URL'),
  allowHttpMerchantUrls: optionalEnv('ALLOW_HTTP_MERCHANT_URLS', 'false') === 'true',
} as const;

const adminTokenHash = await resolveSecretEnv('ADMIN_TOKEN_HASH', 'sha256-hex');

/** Without ADMIN_TOKEN_HASH (every entry but api-merchants on AWS) no token is the admin token. */
export const verifyAdminToken: AdminTokenVerifier =
  adminTokenHash !== undefined ? createHashedAdminTokenVerifier(adminTokenHash) : async () => false;

/** Idempotency-Key records of API requests, kept 24 h. */
export const idempotencyStore: IdempotencyStore = createDynamoIdempotencyStore(documentClient, storeConfig.tableName, {
  retention: { seconds: DEFAULT_IDEMPOTENCY_RETENTION_SECONDS },
});

export const apiDependencies: ApiDependencies = {
  authenticate: createAuthenticator({
    merchants: merchantRepository,
    // A checkout client secret (cs_...) is checked against its checkout: the repository is imported
    // then, so the entries whose routes take no client secret do not bundle it (checkout-wiring.ts).
    checkouts: {
      getCheckout: async (checkoutId) => (await import('./checkout-wiring')).checkoutRepository.getCheckout(checkoutId),
    },
    verifyAdminToken,
  }),
  idempotency: { store: idempotencyStore, cipher: secretCipher },
};
