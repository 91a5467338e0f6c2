/**
 * The operator view (GET /v1/operator/connectors): per connector, attempts, authorization rate and
 * failovers in the last hour.
 *
 * Primary course:
 * 1. Take the window of the last 60 UTC minutes ending now.
 * 2. Read every registered connector's minute counters in it (zeros for an idle one).
 */
import { STATS_WINDOW_MINUTES, windowBuckets, type ConnectorStats } from '../../domain/connector-stats';
import type { ConnectorStatsReader } from '../../ports/connector-stats';

export interface ConnectorStatsOutput {
  window: { start: string; end: string; minutes: number };
  connectors: ConnectorStats[];
}

/** What every connector did in the last hour, read from the exact counters (no scan of checkouts). */
export async function getConnectorStats(
  deps: { connectorStats: ConnectorStatsReader; connectorIds: readonly string[] },
  now: Date,
): Promise<ConnectorStatsOutput> {
  const { first, last } = windowBuckets(now);
  return {
    window: { start: `${first}:00.000Z`, end: `${last}:59.999Z`, minutes: STATS_WINDOW_MINUTES },
    connectors: await deps.connectorStats.readConnectorStats(deps.connectorIds, now),
  };
}
