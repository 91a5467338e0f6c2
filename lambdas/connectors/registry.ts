/**
 * Every connector Paystep can pay through, by id: the one place that knows which exist. A new
 * connector is its folder under lambdas/connectors/<id>/ plus one line here (and its settings in
 * the deployment config). Wiring asks the registry for gateways and callback readers; use cases
 * only ever see the ports.
 */
import type { CallbackReader } from '../ports/callbacks';
import type { PaymentGateway } from '../ports/payments';
import { sandboxConnector } from './sandbox';

/** What each connector's folder provides. */
export interface Connector {
  readonly id: string;
  /** Its gateway from the function's environment, or undefined when this function is not configured to call it. */
  gatewayFromEnv(): PaymentGateway | undefined;
  /** Its callback reader with the configured secrets, or undefined when it accepts no callbacks here. */
  callbackReaderFromEnv(): Promise<CallbackReader | undefined>;
  /** Where the buyer's browser tokenizes cards (the hosted page). */
  tokenizationUrlFromEnv(): URL;
}

export const CONNECTORS: Readonly<Record<string, Connector>> = {
  [sandboxConnector.id]: sandboxConnector,
};

/** The connector a payment uses when nothing else chose one (DESIGN Part 2: default routing `["sandbox"]`). */
export const DEFAULT_CONNECTOR_ID = sandboxConnector.id;

/** The connector with this id; throws for an id the registry does not list (a wiring error, not a request error). */
export function connectorFor(id: string): Connector {
  const connector = CONNECTORS[id];
  if (connector === undefined) throw new Error(`Unknown connector ${id}`);
  return connector;
}

/** The callback readers of every connector that accepts callbacks in this function. */
export async function callbackReadersFromEnv(): Promise<Record<string, CallbackReader>> {
  const readers: Record<string, CallbackReader> = {};
  for (const connector of Object.values(CONNECTORS)) {
    const reader = await connector.callbackReaderFromEnv();
    if (reader !== undefined) readers[connector.id] = reader;
  }
  return readers;
}

/**
 * The connector's gateway for a function that must call it: a missing setting fails at cold start,
 * not in the middle of a payment.
 */
export function requireGateway(id: string): PaymentGateway {
  const gateway = connectorFor(id).gatewayFromEnv();
  if (gateway === undefined) throw new Error(`Connector ${id} is not configured for this function`);
  return gateway;
}
