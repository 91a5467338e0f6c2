/**
 * GET /v1/operator/connectors (platform admin): the operator view per connector over the last hour
 * (attempts, authorization rate, failovers), from the exact per-minute counters the checkout
 * repository writes with each attempt (lambdas/adapters/dynamo-connector-stats.ts).
 */
import { DynamoConnectorStats } from '../adapters/dynamo-connector-stats';
import { CONNECTORS } from '../connectors/registry';
import { apiDependencies } from '../shared/api-wiring';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { toConnectorStatsView } from '../shared/views';
import { documentClient, storeConfig } from '../shared/wiring';
import { getConnectorStats } from '../use-cases/operator/get-connector-stats';

const connectorStats = new DynamoConnectorStats(documentClient, storeConfig.tableName);
const connectorIds = Object.keys(CONNECTORS);

async function get(request: ApiRequest): Promise<ApiResult> {
  const output = await getConnectorStats({ connectorStats, connectorIds }, request.now);
  return { statusCode: 200, body: toConnectorStatsView(output) };
}

export const handler = createApiHandler({ 'GET /v1/operator/connectors': { auth: ['admin'], handle: get } }, apiDependencies);
