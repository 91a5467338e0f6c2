/**
 * Module-scope wiring for the public API Lambdas, on top of wiring.ts: API settings from the
 * environment (read once at cold start) and the dependencies createApiHandler needs.
 *
 * Env: PUBLIC_CHECKOUT_BASE_URL required; ADMIN_TOKEN_HASH (sha256 hex of the admin token, or on
 * AWS a `secretsmanager:<arn>` reference to the token itself, fetched and hashed once at cold
 * start by secret-env.ts) for the entry serving admin routes (api-merchants) only;
 * ALLOW_HTTP_MERCHANT_URLS=true (local mode) accepts http:// merchant URLs.
 */
import { createHashedAdminTokenVerifier, type AdminTokenVerifier } from '../adapters/admin-token';
import { createAuthenticator } from './auth';
import type { ApiDependencies } from './http';
import { optionalEnv, requireEnv } from './env';
import { resolveSecretEnv } from './secret-env';
import { checkoutRepository, idempotencyStore, merchantRepository, secretCipher } from './wiring';

export const apiConfig = {
  publicCheckoutBaseUrl: requireEnv('PUBLIC_CHECKOUT_BASE_URL'),
  allowHttpMerchantUrls: optionalEnv('ALLOW_HTTP_MERCHANT_URLS', 'false') === 'true',
} as const;

const adminTokenHash = await resolveSecretEnv('ADMIN_TOKEN_HASH', 'sha256-hex');

/** Without ADMIN_TOKEN_HASH (every entry but api-merchants on AWS) no token is the admin token. */
export const verifyAdminToken: AdminTokenVerifier =
  adminTokenHash !== undefined ? createHashedAdminTokenVerifier(adminTokenHash) : async () => false;

export const apiDependencies: ApiDependencies = {
  authenticate: createAuthenticator({ merchants: merchantRepository, checkouts: checkoutRepository, verifyAdminToken }),
  idempotency: { store: idempotencyStore, cipher: secretCipher },
};
