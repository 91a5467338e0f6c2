/**
 * The merchant's routing rules (GET and PUT /v1/routing; DESIGN Part 2 "Routing and failover").
 *
 * Primary course (read):
 * 1. The stored rules, or DEFAULT_ROUTING (`sandbox`, no failover) when the merchant set none.
 *
 * Primary course (replace):
 * 1. Every connector the rules name is enabled for the merchant (GET /v1/connector_accounts),
 *    else 422 `connector_not_enabled` with the `param` that names it (unknown ids are refused by
 *    the schema, also 422).
 * 2. The rules replace the stored ones with a write conditional on the merchant's version (a
 *    concurrent edit loses with 409 and re-reads).
 */
import { firstDisabledConnector } from '../../domain/connector-accounts';
import type { Merchant } from '../../domain/model';
import { DEFAULT_ROUTING, type RoutingConfig } from '../../domain/routing';
import { ValidationError } from '../../errors';
import type { MerchantRepository } from '../../ports/merchants';
import { enabledConnectorIds } from './connector-accounts';

export function getRouting(merchant: Merchant): RoutingConfig {
  return merchant.routing ?? DEFAULT_ROUTING;
}

export async function updateRouting(
  deps: { merchants: MerchantRepository; platformConnectors: readonly string[] },
  input: { merchant: Merchant; routing: RoutingConfig },
): Promise<RoutingConfig> {
  const disabled = firstDisabledConnector(input.routing, enabledConnectorIds(deps, input.merchant));
  if (disabled !== undefined)
    throw new ValidationError(`Connector ${disabled.connector} is not enabled for this merchant (GET /v1/connector_accounts)`, {
      status: 422,
      code: 'connector_not_enabled',
      param: disabled.param,
    });
  const updated = await deps.merchants.updateRouting(input.merchant.id, input.routing, input.merchant.version);
  return updated.routing ?? input.routing;
}
