/**
 * Module-scope wiring for the saga's step functions, on top of wiring.ts: the PSP gateway, the
 * merchant-facing HTTP adapters (behind the SSRF guard) and the webhook delivery dependencies
 * (webhook-wiring.ts), with settings read once.
 *
 * Env: SANDBOX_PSP_URL (the sandbox connector's base URL), PUBLIC_CHECKOUT_BASE_URL (rendered
 * into the webhook's checkout object), optional PSP_TIMEOUT_MS.
 */
import { HttpInventoryConfirmer } from '../adapters/http-inventory-confirmer';
import { DEFAULT_PSP_TIMEOUT_MS, SandboxPspGateway } from '../adapters/sandbox-psp-gateway';
import type { Checkout } from '../domain/model';
import type { NotifyMerchantDependencies } from '../use-cases/notify-merchant';
import { optionalEnv, requireEnv } from './env';
import { toCheckoutView } from './views';
import { webhookDependencies } from './webhook-wiring';
import { checkoutRepository, instrumentRepository, merchantRepository, merchantUrlPolicy, secretCipher, webhookEndpointRepository } from './wiring';

const checkoutBaseUrl = requireEnv('PUBLIC_CHECKOUT_BASE_URL');

export const sagaDependencies: NotifyMerchantDependencies = {
  ...webhookDependencies,
  checkouts: checkoutRepository,
  merchants: merchantRepository,
  gateway: new SandboxPspGateway({
    baseUrl: requireEnv('SANDBOX_PSP_URL'),
    timeoutMs: Number(optionalEnv('PSP_TIMEOUT_MS', String(DEFAULT_PSP_TIMEOUT_MS))),
  }),
  confirmer: new HttpInventoryConfirmer(undefined, merchantUrlPolicy),
  cipher: secretCipher,
  webhookEndpoints: webhookEndpointRepository,
  renderCheckout: (checkout: Checkout) => toCheckoutView(checkout, { checkoutBaseUrl }),
  instruments: instrumentRepository,
};

/**
 * Adapts a saga step to a Lambda handler: the state's input in, the step's result out. Errors are
 * not caught: their `name` is what the state machine's Retry/Catch match on.
 */
export function sagaStep<I, O>(step: (deps: NotifyMerchantDependencies, input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input: I) => step(sagaDependencies, input);
}
