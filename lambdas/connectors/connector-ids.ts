/**
 * The connectors' ids alone, for code that names connectors without calling them (the pay API,
 * routing validation): importing the registry would bundle every connector's SDK.
 * lambdas/connectors/registry.ts lists the same ids with their implementations.
 */
export const CONNECTOR_IDS = ['sandbox', 'stripe'] as const;

export type ConnectorId = (typeof CONNECTOR_IDS)[number];

/** The connector a payment uses when nothing else chose one (DESIGN Part 2: default routing `["sandbox"]`). */
export const DEFAULT_CONNECTOR_ID: ConnectorId = 'sandbox';

/** Whether `id` names a connector Paystep has. */
export function isConnectorId(id: string): id is ConnectorId {
  return (CONNECTOR_IDS as readonly string[]).includes(id);
}
