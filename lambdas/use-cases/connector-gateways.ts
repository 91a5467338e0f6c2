/**
 * Which gateway a PSP call goes to: the connector of the attempt or instrument it is about
 * (DESIGN Part 2 "Connectors"). Use cases get both: `gateway`, the default connector's (for a
 * payment that names none), and `gateways`, every connector's (the registry's; unit tests give a
 * map of their fake's one connector).
 */
import { connectorOf } from '../domain/payment-attempt';
import type { CheckoutPayment } from '../domain/model';
import type { InstrumentRepository } from '../ports/instruments';
import type { ConnectorGateways, PaymentGateway } from '../ports/payments';

export interface ConnectorGatewayDependencies {
  /** The default connector's gateway (DESIGN Part 2: `sandbox` unless routing says otherwise). */
  gateway: PaymentGateway;
  /** Every connector's gateway by id. */
  gateways: ConnectorGateways;
}

/** The gateway of `connector`, or the default one when no connector is named. */
export function gatewayFor(deps: ConnectorGatewayDependencies, connector: string | undefined): PaymentGateway {
  return connector === undefined ? deps.gateway : deps.gateways(connector);
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
