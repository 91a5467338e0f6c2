/**
 * Which gateway a PSP call goes to: the connector of the attempt or instrument it is about
 * (DESIGN Part 2 "Connectors"). Use cases get both: `gateway`, the default connector's (for a
 * payment that names none), and `gateways`, every connector's (the registry's; unit tests give a
 * map of their fake's one connector).
 */
import { connectorOf } from '../domain/payment-attempt';
import type { CheckoutPayment } from '../domain/model';
import type { InstrumentRepository } from '../ports/instruments';
import { PspRejectedError } from '../errors';
import type { ConnectorGateways, PaymentGateway } from '../ports/payments';

export interface ConnectorGatewayDependencies {
  /** The default connector's gateway (DESIGN Part 2: `sandbox` unless routing says otherwise). */
  gateway: PaymentGateway;
  /** Every connector's gateway by id. */
  gateways: ConnectorGateways;
}

/**
 * The gateway of `connector`, or the default one when no connector is named.
 * With `merchantId`, the merchant's own (its stored credentials, see merchantScopedGateways).
 */
export function gatewayFor(
  deps: ConnectorGatewayDependencies,
  connector: string | undefined,
  merchantId?: string,
): PaymentGateway {
  if (connector === undefined) return deps.gateway;
  return deps.gateways(connector, merchantId);
}

/** The connector that holds `pspReference` among the payment's attempts; the current attempt's when none names it. */
export function connectorOfReference(payment: Pick<CheckoutPayment, 'attempts'>, pspReference: string | undefined): string {
  const holder = payment.attempts.find((attempt) => pspReference !== undefined && attempt.pspReference === pspReference);
  return holder?.connector ?? connectorOf(payment);
}

/** Every connector the payment's attempts used, the current one last (recovery looks authorizations up at each). */
export function connectorsOf(payment: Pick<CheckoutPayment, 'attempts'>): string[] {
  return [...new Set(payment.attempts.map((attempt) => attempt.connector))];
}

/** The instrument use cases' ports from a saga step's (the ledger and every connector's gateway). */
export function instrumentPorts<D extends ConnectorGatewayDependencies & { instruments: InstrumentRepository }>(
  deps: D,
): ConnectorGatewayDependencies & { instruments: InstrumentRepository } {
  return { instruments: deps.instruments, gateway: deps.gateway, gateways: deps.gateways };
}

// ---- Gateways per (connector, merchant) -------------------------------------------------------------

/** A merchant's stored credentials for one connector, decrypted (lambdas/use-cases/connector-credentials.ts). */
export interface MerchantConnectorCredentials {
  /** Changes when the merchant replaces the account (its creation time): a new gateway is built. */
  version: string;
  values: Readonly<Record<string, string>>;
}

export interface MerchantGatewayOptions {
  /** The merchant's own credentials for a connector, or undefined when it stored none. */
  credentialsOf(merchantId: string, connector: string): Promise<MerchantConnectorCredentials | undefined>;
  /** Connectors every merchant may use with the platform's credentials (PAYSTEP_PLATFORM_CONNECTORS). */
  platformConnectors: readonly string[];
  /** The connector's gateway on a merchant's credentials; undefined when the connector takes none (sandbox). */
  build(connector: string, credentials: Readonly<Record<string, string>>): Promise<PaymentGateway | undefined>;
  /** How long a merchant's resolved account is reused before its credentials are read again (default 60 s). */
  refreshMs?: number;
  now?: () => number;
}

export const DEFAULT_CREDENTIALS_REFRESH_MS = 60_000;

/**
 * Every connector's gateway per merchant (DESIGN Part 2 "Connectors"): `gateways(connector,
 * merchantId)` calls the PSP with the merchant's own stored credentials when it has an account for
 * that connector, else with the platform's (`platform.gateways`) only where the platform enables
 * the connector; otherwise the call is refused (PspRejectedError: nothing was sent). Built lazily
 * on a merchant's first call and cached for the warm container: one gateway per (connector,
 * merchant, account version); the account itself is re-read after `refreshMs`, so a replaced key
 * is used from then on. Without a merchant id, the platform's gateway (as before).
 */
export function merchantScopedGateways(
  platform: { gateway: PaymentGateway; gateways: ConnectorGateways },
  options: MerchantGatewayOptions,
): { gateway: PaymentGateway; gateways: ConnectorGateways } {
  const refreshMs = options.refreshMs ?? DEFAULT_CREDENTIALS_REFRESH_MS;
  const now = options.now ?? Date.now;
  const built = new Map<string, PaymentGateway>();
  const resolved = new Map<string, { at: number; gateway: Promise<PaymentGateway> }>();
  const scoped = new Map<string, PaymentGateway>();

  const resolve = async (connector: string, merchantId: string): Promise<PaymentGateway> => {
    const credentials = await options.credentialsOf(merchantId, connector);
    if (credentials !== undefined) {
      const key = JSON.stringify([connector, merchantId, credentials.version]);
      let gateway = built.get(key);
      if (gateway === undefined) {
        gateway = await options.build(connector, credentials.values);
        if (gateway !== undefined) built.set(key, gateway);
      }
      if (gateway !== undefined) return gateway;
    }
    if (options.platformConnectors.includes(connector)) return platform.gateways(connector);
    throw new PspRejectedError(
      `Merchant ${merchantId} has no ${connector} account and the platform does not enable ${connector}`,
    );
  };

  const current = (connector: string, merchantId: string): Promise<PaymentGateway> => {
    const key = JSON.stringify([connector, merchantId]);
    const cached = resolved.get(key);
    if (cached !== undefined && now() - cached.at < refreshMs) return cached.gateway;
    const gateway = resolve(connector, merchantId);
    resolved.set(key, { at: now(), gateway });
    gateway.catch(() => resolved.delete(key)); // a failed read is retried on the next call
    return gateway;
  };

  const gateways: ConnectorGateways = (connector, merchantId) => {
    if (merchantId === undefined) return platform.gateways(connector);
    platform.gateways(connector); // an id the registry does not list throws here, as before
    const key = JSON.stringify([connector, merchantId]);
    let gateway = scoped.get(key);
    if (gateway === undefined) {
      const use = async (): Promise<PaymentGateway> => await current(connector, merchantId);
      gateway = {
        connector,
        authorize: async (input) => await (await use()).authorize(input),
        capture: async (input) => await (await use()).capture(input),
        voidAuthorization: async (input) => await (await use()).voidAuthorization(input),
        refund: async (input) => await (await use()).refund(input),
        getAuthorization: async (pspReference) => await (await use()).getAuthorization(pspReference),
        findAuthorizations: async (reference) => {
          const target = await use();
          return target.findAuthorizations === undefined ? [] : await target.findAuthorizations(reference);
        },
      };
      scoped.set(key, gateway);
    }
    return gateway;
  };
  return { gateway: platform.gateway, gateways };
}
