/**
 * The `stripe` connector's webhook reader for the callback functions (the callback API and the
 * saga's await steps), with the Stripe SDK imported on the first Stripe callback instead of at cold
 * start: the SDK's import is most of those functions' module initialisation (issue 14, round 7).
 * Whether Stripe callbacks are accepted here is still decided at cold start, from the configured
 * secrets (config.ts), so an unconfigured connector keeps refusing every callback.
 */
import type { CallbackReader } from '../../ports/callbacks';
import { importOnce } from '../../shared/import-once';
import { stripeGatewayOptionsFromEnv, stripeWebhookSecretsFromEnv } from './config';

/** The reader, or undefined when no STRIPE_WEBHOOK_SECRET (or no key for dispute lookups) is configured. */
export async function stripeCallbackReaderFromEnv(): Promise<CallbackReader | undefined> {
  const secrets = await stripeWebhookSecretsFromEnv();
  const options = await stripeGatewayOptionsFromEnv();
  if (secrets.length === 0 || options === undefined) return undefined;
  const reader = importOnce(async () => {
    const { StripeGateway, stripeWebhookReader } = await import('./index');
    return stripeWebhookReader(new StripeGateway(options), secrets);
  });
  return { read: async (input) => await (await reader()).read(input) };
}
