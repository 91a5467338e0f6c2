/**
 * The `stripe` connector (DESIGN Part 2 "Connectors"): its gateway, webhook reader, status
 * mapping and configuration, for the connector registry. Nothing outside this folder knows
 * Stripe's wire protocol, status words or signature scheme.
 */
import { stripeGatewayOptionsFromEnv } from './config';
import { StripeGateway } from './gateway';
import { StripeWebhookReader } from './webhooks';

export { StripeGateway, type StripeAuthorizeInput, type StripeAuthorizeOutput, type StripeGatewayOptions } from './gateway';
export {
  StripeWebhookReader,
  STRIPE_SIGNATURE_HEADER,
  type StripeCallback,
  type StripeWebhookReading,
  type StripeWebhookInput,
} from './webhooks';

/** A webhook reader over a gateway's SDK client: disputes look their reference up through it. */
export function stripeWebhookReader(gateway: StripeGateway, secrets: readonly string[]): StripeWebhookReader {
  return new StripeWebhookReader(
    gateway.client,
    secrets,
    async (paymentIntentId) => (await gateway.getAuthorization(paymentIntentId)).reference || undefined,
  );
}

export const stripeConnector = {
  id: 'stripe',
  /** The gateway from the function's environment, or undefined when it has no STRIPE_API_KEY. */
  async gatewayFromEnv(): Promise<StripeGateway | undefined> {
    const options = await stripeGatewayOptionsFromEnv();
    return options === undefined ? undefined : new StripeGateway(options);
  },
} as const;
