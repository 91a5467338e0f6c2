/**
 * A merchant's connector accounts (DESIGN Part 2 "Connectors"): which connectors it may pay
 * through. An account a merchant adds carries its own credentials (e.g. its Stripe secret key),
 * stored encrypted and never shown again; locally, and for the platform-level connectors of a
 * deployment, a connector is enabled for every merchant with the function's own credentials.
 */
import type { RoutingConfig } from './routing';

/** One account as stored on the merchant item; the credentials only as SecretCipher ciphertext. */
export interface StoredConnectorAccount {
  connector: string;
  credentialsCiphertext: string;
  createdAt: string; // ISO 8601
}

/** One enabled connector as the API shows it (credentials never). */
export interface ConnectorAccountView {
  connector: string;
  /** `merchant`: the merchant added its own credentials; `platform`: the deployment's (locally: the sandboxes'). */
  credentials: 'merchant' | 'platform';
  createdAt?: string;
}

/**
 * Every connector the merchant may route to: the platform-enabled ones, then each one it added
 * (its own credentials take the place of the platform's), in registry order.
 */
export function enabledConnectors(
  accounts: readonly StoredConnectorAccount[] | undefined,
  platformEnabled: readonly string[],
  order: readonly string[],
): ConnectorAccountView[] {
  const views: ConnectorAccountView[] = [];
  for (const connector of order) {
    const own = accounts?.find((account) => account.connector === connector);
    if (own !== undefined) views.push({ connector, credentials: 'merchant', createdAt: own.createdAt });
    else if (platformEnabled.includes(connector)) views.push({ connector, credentials: 'platform' });
  }
  return views;
}

/** The first connector a routing config names that is not enabled, with where it is (for the 422's `param`). */
export function firstDisabledConnector(
  routing: RoutingConfig,
  enabled: readonly string[],
): { connector: string; param: string } | undefined {
  for (const [index, rule] of routing.rules.entries()) {
    const position = rule.connectors.findIndex((connector) => !enabled.includes(connector));
    if (position >= 0) return { connector: rule.connectors[position]!, param: `rules.${index}.connectors.${position}` };
  }
  const position = routing.default.findIndex((connector) => !enabled.includes(connector));
  if (position >= 0) return { connector: routing.default[position]!, param: `default.${position}` };
  return undefined;
}
