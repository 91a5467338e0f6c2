/**
 * Port: the operator's per-connector figures (lambdas/domain/connector-stats.ts). The counters are
 * written by the checkout repository with each attempt's conditional write; this port only reads.
 */
import type { ConnectorStats } from '../domain/connector-stats';

export interface ConnectorStatsReader {
  /** Per connector in `connectors`, what happened in the minute buckets of the window ending at `now`. */
  readConnectorStats(connectors: readonly string[], now: Date): Promise<ConnectorStats[]>;
}
