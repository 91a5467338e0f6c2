/**
 * The merchant's connector accounts (GET and POST /v1/connector_accounts).
 *
 * Primary course (list):
 * 1. The connectors the platform enables for every merchant (locally: both sandboxes), and each
 *    one the merchant added with its own credentials, in the registry's order.
 *
 * Primary course (add):
 * 1. The credentials carry the fields the connector needs (stripe: `api_key`, a secret or
 *    restricted key), else 422 with `param`.
 * 2. They are encrypted with the SecretCipher and stored on the merchant (replacing an earlier
 *    account of that connector) with a write conditional on the merchant's version.
 * 3. The account is answered without its credentials; they are never returned.
 */
import { CONNECTOR_IDS } from '../../connectors/connector-ids';
import { enabledConnectors, type ConnectorAccountView, type StoredConnectorAccount } from '../../domain/connector-accounts';
import type { Merchant } from '../../domain/model';
import { ValidationError } from '../../errors';
import type { MerchantRepository } from '../../ports/merchants';
import type { SecretCipher } from '../../ports/secrets';

export interface ConnectorAccountDependencies {
  merchants: MerchantRepository;
  cipher: SecretCipher;
  /** Connectors enabled for every merchant with the deployment's own credentials (PAYSTEP_PLATFORM_CONNECTORS). */
  platformConnectors: readonly string[];
  now?: () => Date;
}

/** What each connector's credentials must hold: field name and the pattern of its value. */
const CREDENTIAL_FIELDS: Readonly<Record<string, Readonly<Record<string, RegExp>>>> = {
  sandbox: {},
  stripe: { api_key: /^(sk|rk)_(test|live)_[A-Za-z0-9_]{1,200}$/ },
};

export function listConnectorAccounts(deps: Pick<ConnectorAccountDependencies, 'platformConnectors'>, merchant: Merchant) {
  return enabledConnectors(merchant.connectorAccounts, deps.platformConnectors, CONNECTOR_IDS);
}

/** The ids of the connectors the merchant may route to. */
export function enabledConnectorIds(
  deps: Pick<ConnectorAccountDependencies, 'platformConnectors'>,
  merchant: Merchant,
): string[] {
  return listConnectorAccounts(deps, merchant).map((account) => account.connector);
}

export async function addConnectorAccount(
  deps: ConnectorAccountDependencies,
  input: { merchant: Merchant; connector: string; credentials: Record<string, string> },
): Promise<ConnectorAccountView> {
  const fields = CREDENTIAL_FIELDS[input.connector] ?? {};
  for (const [field, pattern] of Object.entries(fields)) {
    const value = input.credentials[field];
    if (value === undefined)
      throw new ValidationError(`credentials.${field} is required for ${input.connector}`, {
        status: 422,
        code: 'parameter_missing',
        param: `credentials.${field}`,
      });
    if (!pattern.test(value))
      throw new ValidationError(`credentials.${field} is not a valid ${input.connector} credential`, {
        status: 422,
        code: 'invalid_parameter',
        param: `credentials.${field}`,
      });
  }
  const unknown = Object.keys(input.credentials).find((field) => !Object.hasOwn(fields, field));
  if (unknown !== undefined)
    throw new ValidationError(`credentials.${unknown} is not a ${input.connector} credential`, {
      status: 422,
      code: 'unknown_parameter',
      param: `credentials.${unknown}`,
    });
  const createdAt = (deps.now?.() ?? new Date()).toISOString();
  const stored: StoredConnectorAccount = {
    connector: input.connector,
    credentialsCiphertext: await deps.cipher.encrypt(JSON.stringify(input.credentials)),
    createdAt,
  };
  const others = (input.merchant.connectorAccounts ?? []).filter((account) => account.connector !== input.connector);
  await deps.merchants.updateConnectorAccounts(input.merchant.id, [...others, stored], input.merchant.version);
  return { connector: input.connector, credentials: 'merchant', createdAt };
}
