/**
 * Module-scope wiring for the public API Lambdas, on top of wiring.ts: API settings from the
 * environment (read once at cold start) and the dependencies createApiHandler needs.
 *
 * Env: PUBLIC_CHECKOUT_BASE_URL, ADMIN_TOKEN_HASH (sha256 hex of the admin token) required;
 * ALLOW_HTTP_MERCHANT_URLS=true (local mode) accepts http:// merchant URLs.
 * To move the admin token to Secrets Manager, replace `verifyAdminToken` here.
 */
import { createHashedAdminTokenVerifier, type AdminTokenVerifier } from '../adapters/admin-token';
import { createAuthenticator } from './auth';
import type { ApiDependencies } from './http';
import { optionalEnv, requireEnv } from './env';
import { checkoutRepository, idempotencyStore, merchantRepository, secretCipher } from './wiring';

export const apiConfig = {
  publicCheckoutBaseUrl: requireEnv('PUBLIC_CHECKOUT_BASE_URL'),
  allowHttpMerchantUrls: optionalEnv('ALLOW_HTTP_MERCHANT_URLS', 'false') === 'true',
} as const;

export const verifyAdminToken: AdminTokenVerifier = createHashedAdminTokenVerifier(requireEnv('ADMIN_TOKEN_HASH'));

export const apiDependencies: ApiDependencies = {
  authenticate: createAuthenticator({ merchants: merchantRepository, checkouts: checkoutRepository, verifyAdminToken }),
  idempotency: { store: idempotencyStore, cipher: secretCipher },
};
