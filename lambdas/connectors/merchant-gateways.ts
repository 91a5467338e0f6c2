/**
 * Wiring of the per-merchant gateways (lambdas/use-cases/connector-gateways.ts,
 * merchantScopedGateways) for the functions that call PSPs: the merchant's own stored credentials
 * (decrypted by the SecretCipher, lambdas/use-cases/connector-credentials.ts), the platform's
 * gateways as the fallback only for PAYSTEP_PLATFORM_CONNECTORS (default `sandbox`; locally
 * `sandbox,stripe`), and how each connector builds a gateway on a merchant's credentials (stripe:
 * its `api_key` at the configured STRIPE_API_URL; the SDK is loaded on first use). A merchant's
 * account is read again after CONNECTOR_CREDENTIALS_REFRESH_MS (default 60 000): a replaced key is
 * used from then on.
 */
import type { ConnectorGateways, PaymentGateway } from '../ports/payments';
import type { SecretCipher } from '../ports/secrets';
import type { MerchantRepository } from '../ports/merchants';
import { DEFAULT_CREDENTIALS_REFRESH_MS, merchantScopedGateways } from '../use-cases/connector-gateways';
import { parsePlatformConnectors, readMerchantCredentials } from '../use-cases/connector-credentials';
import { optionalEnv } from '../shared/env';
import { isConnectorId } from './connector-ids';

/** The connectors enabled for every merchant with the platform's credentials (throws on an unknown id: a deployment error). */
export function platformConnectorsFromEnv(): string[] {
  const ids = parsePlatformConnectors(optionalEnv('PAYSTEP_PLATFORM_CONNECTORS', 'sandbox'));
  const unknown = ids.find((id) => !isConnectorId(id));
  if (unknown !== undefined) throw new Error(`PAYSTEP_PLATFORM_CONNECTORS names no connector: ${unknown}`);
  return ids;
}

/** The connector's gateway on a merchant's credentials; undefined for a connector that takes none. */
async function gatewayOnCredentials(
  connector: string,
  credentials: Readonly<Record<string, string>>,
): Promise<PaymentGateway | undefined> {
  if (connector !== 'stripe') return undefined;
  const { stripeGatewayForCredentials } = await import('./stripe/config');
  return await stripeGatewayForCredentials(credentials);
}

/** `platform` (the registry's gateways) made per merchant; `wrap` (e.g. observeGateway) applies to the merchants' gateways too. */
export function merchantGatewaysFromEnv(
  platform: { gateway: PaymentGateway; gateways: ConnectorGateways },
  deps: { merchants: Pick<MerchantRepository, 'getMerchant'>; cipher: Pick<SecretCipher, 'decrypt'> },
  wrap: (gateway: PaymentGateway) => PaymentGateway = (gateway) => gateway,
): { gateway: PaymentGateway; gateways: ConnectorGateways } {
  return merchantScopedGateways(platform, {
    credentialsOf: (merchantId, connector) => readMerchantCredentials(deps, merchantId, connector),
    platformConnectors: platformConnectorsFromEnv(),
    refreshMs: Number(optionalEnv('CONNECTOR_CREDENTIALS_REFRESH_MS', String(DEFAULT_CREDENTIALS_REFRESH_MS))),
    build: async (connector, credentials) => {
      const gateway = await gatewayOnCredentials(connector, credentials);
      return gateway === undefined ? undefined : wrap(gateway);
    },
  });
}
