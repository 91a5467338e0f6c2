/**
 * Module-scope wiring for the saga's step functions, on top of wiring.ts: the PSP gateway, the
 * merchant-facing HTTP adapters (behind the SSRF guard) and the webhook delivery dependencies
 * (webhook-wiring.ts), with settings read once.
 *
 * Env: PUBLIC_CHECKOUT_BASE_URL (rendered into the webhook's checkout object) required;
 * the connector's settings (lambdas/connectors/<id>/config.ts) for the PSP-calling steps;
 * manual capture: AUTHORIZATION_VALIDITY_SECONDS (default 7 days) and
 * AUTHORIZATION_EXPIRY_WARNING_SECONDS (default 24 h), compressed locally by local/stack.ts.
 */
import { DynamoAuthorizationHoldStore } from '../adapters/dynamo-authorization-holds';
import { DynamoRecoveryStore } from '../adapters/dynamo-recovery-store';
import { HttpInventoryConfirmer } from '../adapters/http-inventory-confirmer';
import type { Context } from 'aws-lambda';
import { gatewaysFromEnv } from '../connectors/registry';
import { parseAuthorizationPolicy } from '../domain/authorization-hold';
import type { FinancialInstrument } from '../domain/instrument-model';
import type { Checkout } from '../domain/model';
import type { AuthorizationHoldStore } from '../ports/authorization-holds';
import type { NotifyMerchantPorts } from '../use-cases/saga/notify-merchant';
import type { SagaPorts } from '../use-cases/saga/shared';
import { optionalEnv, requireEnv } from './env';
import { observeGateway, observeInvocation, observeInventoryConfirmer } from './observability';
import { checkoutUrl, toCheckoutView } from './views';
import { webhookDependencies } from './webhook-wiring';
import { webhookEndpointRepository } from './event-wiring';
import { instrumentRepository } from './instrument-wiring';
import { checkoutRepository, documentClient, merchantRepository, merchantUrlPolicy, secretCipher, storeConfig } from './wiring';

const checkoutBaseUrl = requireEnv('PUBLIC_CHECKOUT_BASE_URL');

/**
 * Every connector's gateway (the registry's), each PSP call timed. Only the PSP-calling steps get
 * the connectors' settings on AWS (least configuration); the others share this wiring, so without
 * them they get gateways that fail on use.
 */
const connectorGateways = await gatewaysFromEnv(observeGateway);

/** Manual capture's expiry watch (written with the hand-over; read by the expiry sweep). */
export const authorizationHoldStore: AuthorizationHoldStore = new DynamoAuthorizationHoldStore(
  documentClient,
  storeConfig.tableName,
);

/** Every saga step's ports (each step picks its own) and NotifyMerchant's delivery settings. */
export type SagaWiring = SagaPorts & NotifyMerchantPorts;

export const sagaDependencies: SagaWiring = {
  ...webhookDependencies,
  checkouts: checkoutRepository,
  merchants: merchantRepository,
  // PspCallLatency and InventoryConfirmationLatency are measured at these ports (observability.ts).
  gateway: connectorGateways.gateway,
  gateways: connectorGateways.gateways,
  confirmer: observeInventoryConfirmer(new HttpInventoryConfirmer(undefined, merchantUrlPolicy)),
  cipher: secretCipher,
  webhookEndpoints: webhookEndpointRepository,
  renderCheckout: (checkout: Checkout, instrument: FinancialInstrument | undefined) =>
    toCheckoutView(checkout, { checkoutBaseUrl, instrument }),
  // 3-D Secure: the challenge page sends the buyer back to the hosted page, which shows the result.
  challengeReturnUrl: (checkoutId: string) => `${checkoutUrl(checkoutBaseUrl, checkoutId)}?three_ds=return`,
  instruments: instrumentRepository,
  authorizationHolds: authorizationHoldStore,
  // The terminal write leaves an outcome watch; NotifyMerchant drops it once the events are stored.
  outcomeWatch: new DynamoRecoveryStore(documentClient, storeConfig.tableName),
  authorizationPolicy: parseAuthorizationPolicy(
    optionalEnv('AUTHORIZATION_VALIDITY_SECONDS', ''),
    optionalEnv('AUTHORIZATION_EXPIRY_WARNING_SECONDS', ''),
  ),
};

/**
 * Adapts a saga step to a Lambda handler: the state's input in, the step's result out, observed
 * with the checkout id (`input.checkoutId`) as correlation id. Errors are not caught: their `name`
 * is what the state machine's Retry/Catch match on. `onResult` lets a step's handler emit the
 * metric of what the step did (RecordOutcome: CheckoutSucceeded / CheckoutFailed).
 */
export function sagaStep<I, O>(
  step: (deps: SagaWiring, input: I) => Promise<O>,
  options: { onResult?: (input: I, output: O) => void } = {},
): (input: I, context?: Context) => Promise<O> {
  return async (input: I, context?: Context) =>
    observeInvocation({ context, correlationId: checkoutIdOf(input) }, async () => {
      const output = await step(sagaDependencies, input);
      options.onResult?.(input, output);
      return output;
    });
}

function checkoutIdOf(input: unknown): string | undefined {
  const id = (input as { checkoutId?: unknown } | null)?.checkoutId;
  return typeof id === 'string' ? id : undefined;
}
