/**
 * The `stripe` connector's configuration, read once at cold start (this file does not load the
 * Stripe SDK): the secret key
 * (STRIPE_API_KEY; a `secretsmanager:<arn>` reference on AWS), the API's base URL
 * (STRIPE_API_URL: unset means https://api.stripe.com; locally the Stripe-protocol sandbox), the
 * per-call timeout (PSP_TIMEOUT_MS, shared with the sandbox connector) and the webhook signing
 * secrets (STRIPE_WEBHOOK_SECRET and, during a rotation, STRIPE_WEBHOOK_PREVIOUS_SECRET).
 */
import { PspRejectedError } from '../../errors';
import { optionalEnv } from '../../shared/env';
import { resolveSecretEnv } from '../../shared/secret-env';
import type { StripeGateway, StripeGatewayOptions } from './gateway';

/** Stripe calls' timeout when PSP_TIMEOUT_MS is unset. */
export const DEFAULT_STRIPE_TIMEOUT_MS = 8000;

/** The gateway's settings, or undefined when this function was given no STRIPE_API_KEY. */
export async function stripeGatewayOptionsFromEnv(): Promise<StripeGatewayOptions | undefined> {
  const apiKey = await resolveSecretEnv('STRIPE_API_KEY', 'verbatim');
  if (apiKey === undefined || apiKey === '') return undefined;
  if (!/^(sk|rk)_(test|live)_/.test(apiKey))
    throw new Error('STRIPE_API_KEY must be a Stripe secret or restricted key (sk_... / rk_...)');
  const baseUrl = optionalEnv('STRIPE_API_URL', '');
  return {
    apiKey,
    ...(baseUrl !== '' ? { baseUrl } : {}),
    timeoutMs: Number(optionalEnv('PSP_TIMEOUT_MS', String(DEFAULT_STRIPE_TIMEOUT_MS))),
  };
}

/** Stripe's secret (`sk_`) and restricted (`rk_`) keys, test or live. */
const STRIPE_KEY_PATTERN = /^(sk|rk)_(test|live)_/;

/**
 * The gateway on a merchant's own credentials (its connector account's `api_key`), at the
 * configured base URL and timeout. The key is the merchant's; only the URL is the deployment's.
 */
export async function stripeGatewayForCredentials(credentials: Readonly<Record<string, string>>): Promise<StripeGateway> {
  const apiKey = credentials['api_key'] ?? '';
  if (!STRIPE_KEY_PATTERN.test(apiKey))
    throw new PspRejectedError('The stored stripe credentials hold no Stripe secret or restricted key');
  const baseUrl = optionalEnv('STRIPE_API_URL', '');
  const { StripeGateway } = await import('./gateway');
  return new StripeGateway({
    apiKey,
    ...(baseUrl !== '' ? { baseUrl } : {}),
    timeoutMs: Number(optionalEnv('PSP_TIMEOUT_MS', String(DEFAULT_STRIPE_TIMEOUT_MS))),
  });
}

/** The accepted webhook secrets (current first); empty when none is configured. */
export async function stripeWebhookSecretsFromEnv(): Promise<string[]> {
  const current = await resolveSecretEnv('STRIPE_WEBHOOK_SECRET', 'verbatim');
  const previous = await resolveSecretEnv('STRIPE_WEBHOOK_PREVIOUS_SECRET', 'verbatim');
  return [current, previous].filter((secret): secret is string => secret !== undefined && secret !== '');
}
