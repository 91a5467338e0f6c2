/**
 * The merchant's connectors and routing (DESIGN Part 2): GET/POST /v1/connector_accounts (the
 * enabled connectors; adding one stores its credentials encrypted, never returned) and
 * GET/PUT /v1/routing (the rules, replaced with a write conditional on the merchant's version).
 * Use cases: lambdas/use-cases/connectors/.
 *
 * Env: PAYSTEP_PLATFORM_CONNECTORS (comma-separated ids enabled for every merchant with the
 * deployment's credentials; default `sandbox`, locally `sandbox,stripe`).
 */
import { isConnectorId } from '../connectors/connector-ids';
import { apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import {
  connectorAccountInputSchema,
  routingInputSchema,
  toConnectorAccountView,
  toRoutingConfig,
  toRoutingView,
} from '../shared/connector-schemas';
import { optionalEnv } from '../shared/env';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { parseInput } from '../shared/validation';
import { merchantRepository, secretCipher } from '../shared/wiring';
import { addConnectorAccount, listConnectorAccounts } from '../use-cases/connectors/connector-accounts';
import { getRouting, updateRouting } from '../use-cases/connectors/routing';

const platformConnectors = optionalEnv('PAYSTEP_PLATFORM_CONNECTORS', 'sandbox')
  .split(',')
  .map((id) => id.trim())
  .filter((id) => id !== '');
const unknownPlatformConnector = platformConnectors.find((id) => !isConnectorId(id));
if (unknownPlatformConnector !== undefined)
  throw new Error(`PAYSTEP_PLATFORM_CONNECTORS names no connector: ${unknownPlatformConnector}`);

const deps = { merchants: merchantRepository, cipher: secretCipher, platformConnectors };

async function listAccounts(request: ApiRequest): Promise<ApiResult> {
  const accounts = listConnectorAccounts(deps, requireMerchant(request.principal));
  return { statusCode: 200, body: { object: 'list', data: accounts.map(toConnectorAccountView) } };
}

async function addAccount(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(connectorAccountInputSchema, request.body);
  const account = await addConnectorAccount(deps, { merchant, connector: input.connector, credentials: input.credentials });
  return { statusCode: 201, body: toConnectorAccountView(account) };
}

async function readRouting(request: ApiRequest): Promise<ApiResult> {
  return { statusCode: 200, body: toRoutingView(getRouting(requireMerchant(request.principal))) };
}

async function replaceRouting(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const routing = toRoutingConfig(parseInput(routingInputSchema, request.body));
  return { statusCode: 200, body: toRoutingView(await updateRouting(deps, { merchant, routing })) };
}

export const handler = createApiHandler(
  {
    'GET /v1/connector_accounts': { auth: ['merchant'], handle: listAccounts },
    'POST /v1/connector_accounts': { auth: ['merchant'], handle: addAccount },
    'GET /v1/routing': { auth: ['merchant'], handle: readRouting },
    'PUT /v1/routing': { auth: ['merchant'], handle: replaceRouting },
  },
  apiDependencies,
);
