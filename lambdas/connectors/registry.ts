/**
 * Every connector Paystep can pay through, by id: the one place that knows which exist. A new
 * connector is its folder under lambdas/connectors/<id>/ plus one line here (one more in
 * callback-readers.ts if it takes callbacks, and its settings in the deployment config). Wiring asks
 * the registry for gateways and callback-readers.ts for callback readers; use cases only ever see
 * the ports. Each folder is imported (`await import()`) only when its connector is
 * first needed, so a function that never calls Stripe never loads the Stripe SDK.
 */
import type { ConnectorGateways, PaymentGateway } from '../ports/payments';
import { DEFAULT_CONNECTOR_ID } from './connector-ids';

/** What each connector's folder provides. */
export interface Connector {
  readonly id: string;
  /** Its gateway from the function's environment (secrets may be fetched), or undefined when this function is not configured to call it. */
  gatewayFromEnv(): Promise<PaymentGateway | undefined>;
}

/** A connector whose folder is imported on first use (once), not when the registry is. */
function lazyConnector(id: string, load: () => Promise<Connector>): Connector {
  let loaded: Promise<Connector> | undefined;
  const connector = (): Promise<Connector> => (loaded ??= load());
  return {
    id,
    gatewayFromEnv: async () => await (await connector()).gatewayFromEnv(),
  };
}

export const CONNECTORS: Readonly<Record<string, Connector>> = {
  sandbox: lazyConnector('sandbox', async () => (await import('./sandbox')).sandboxConnector),
  stripe: lazyConnector('stripe', async () => (await import('./stripe')).stripeConnector),
};

export { DEFAULT_CONNECTOR_ID } from './connector-ids';

/** Whether `id` names a connector the registry lists (own properties only: `__proto__` names none). */
export function isKnownConnector(id: string): boolean {
  return Object.hasOwn(CONNECTORS, id);
}

/** The connector with this id; throws for an id the registry does not list (a wiring error, not a request error). */
export function connectorFor(id: string): Connector {
  const connector = isKnownConnector(id) ? CONNECTORS[id] : undefined;
  if (connector === undefined) throw new Error(`Unknown connector ${id}`);
  return connector;
}

/**
 * The connector's gateway for a function that must call it: a missing setting fails at cold start,
 * not in the middle of a payment.
 */
export async function requireGateway(id: string): Promise<PaymentGateway> {
  const gateway = await connectorFor(id).gatewayFromEnv();
  if (gateway === undefined) throw new Error(`Connector ${id} is not configured for this function`);
  return gateway;
}

/** A gateway that fails on use: a function without a connector's settings must never call it. */
function unconfiguredGateway(connectorId: string): PaymentGateway {
  return new Proxy({ connector: connectorId } as PaymentGateway, {
    get(target, property) {
      if (property === 'connector' || typeof property !== 'string') return Reflect.get(target, property) as unknown;
      if (property === 'findAuthorizations') return undefined; // nothing to look up where nothing was called
      if (property === 'then') return undefined; // not a promise: it may be awaited (the lazy gateway's build resolves to it)
      return async () => {
        throw new Error(`Connector ${connectorId} is not configured for this function (PaymentGateway.${property})`);
      };
    },
  });
}

/**
 * A connector's gateway built (its folder imported, its settings read) on the first call of any of
 * its methods, then reused. `findAuthorizations` of a gateway that has none finds nothing.
 */
function lazyGateway(connector: Connector, build: (connector: Connector) => Promise<PaymentGateway>): PaymentGateway {
  let built: Promise<PaymentGateway> | undefined;
  const gateway = (): Promise<PaymentGateway> => (built ??= build(connector));
  return {
    connector: connector.id,
    authorize: async (input) => await (await gateway()).authorize(input),
    capture: async (input) => await (await gateway()).capture(input),
    voidAuthorization: async (input) => await (await gateway()).voidAuthorization(input),
    refund: async (input) => await (await gateway()).refund(input),
    getAuthorization: async (pspReference) => await (await gateway()).getAuthorization(pspReference),
    findAuthorizations: async (reference) => (await (await gateway()).findAuthorizations?.(reference)) ?? [],
  };
}

/**
 * Every connector's gateway from the function's environment (each optionally wrapped, e.g.
 * observed): `gateway` is the default connector's, `gateways(id)` any listed connector's. Nothing
 * is built here: each connector's folder is imported and its gateway built on its first call. A
 * connector without settings here answers a gateway that fails on use; an id the registry does not
 * list is a wiring error (throws).
 */
export async function gatewaysFromEnv(
  wrap: (gateway: PaymentGateway) => PaymentGateway = (gateway) => gateway,
): Promise<{ gateway: PaymentGateway; gateways: ConnectorGateways }> {
  const byId = new Map<string, PaymentGateway>();
  for (const connector of Object.values(CONNECTORS)) {
    byId.set(
      connector.id,
      lazyGateway(connector, async (listed) => {
        const gateway = await listed.gatewayFromEnv();
        return gateway === undefined ? unconfiguredGateway(listed.id) : wrap(gateway);
      }),
    );
  }
  const gateways: ConnectorGateways = (id) => {
    const gateway = isKnownConnector(id) ? byId.get(id) : undefined;
    if (gateway === undefined) throw new Error(`Unknown connector ${id}`);
    return gateway;
  };
  return { gateway: gateways(DEFAULT_CONNECTOR_ID), gateways };
}
