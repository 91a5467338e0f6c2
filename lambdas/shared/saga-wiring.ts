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
import { DynamoRecoveryStore } from '../adapters/dynamo-recovery-store';
import { HttpInventoryConfirmer } from '../adapters/http-inventory-confirmer';
import type { Context } from 'aws-lambda';
import { merchantGatewaysFromEnv } from '../connectors/merchant-gateways';
import { gatewaysFromEnv } from '../connectors/registry';
import { parseAuthorizationPolicy } from '../domain/authorization-hold';
import type { FinancialInstrument } from '../domain/instrument-model';
import type { Checkout } from '../domain/model';
import type { NotifyMerchantPorts } from '../use-cases/saga/notify-merchant';
import type { SagaPorts } from '../use-cases/saga/shared';
import { optionalEnv, requireEnv } from './env';
import { observeGateway, observeInvocation, observeInventoryConfirmer } from './observability';
import { checkoutUrl, toCheckoutView } from './views';
import { webhookDependencies } from './webhook-wiring';
import { authorizationHolds } from './authorization-holds-lazy';
import { webhookEndpointLookup } from './webhook-lookup-wiring';
import { instrumentRepository } from './instrument-wiring';
import { checkoutRepository } from './checkout-wiring';
import { documentClient, merchantRepository, merchantUrlPolicy, secretCipher, storeConfig } from './wiring';

const checkoutBaseUrl = requireEnv('PUBLIC_CHECKOUT_BASE_URL');

/**
 * Every connector's gateway (the registry's), each PSP call timed; per merchant, on its own stored
 * credentials where it added an account (merchant-gateways.ts). Only the PSP-calling steps get
 * the connectors' settings on AWS (least configuration); the others share this wiring, so without
 * them they get gateways that fail on use.
 */
const connectorGateways = merchantGatewaysFromEnv(
  await gatewaysFromEnv(observeGateway),
  { merchants: merchantRepository, cipher: secretCipher },
  observeGateway,
);

/** Every saga step's ports (each step picks its own) and the terminal steps' webhook delivery settings (notifyMerchant in-process). */
export type SagaWiring = SagaPorts & NotifyMerchantPorts;

/** A value built on first use, then reused for the function's life. */
function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

const confirmer = once(() => observeInventoryConfirmer(new HttpInventoryConfirmer(undefined, merchantUrlPolicy)));
const outcomeWatch = once(() => new DynamoRecoveryStore(documentClient, storeConfig.tableName));
const authorizationPolicy = once(() =>
  parseAuthorizationPolicy(
    optionalEnv('AUTHORIZATION_VALIDITY_SECONDS', ''),
    optionalEnv('AUTHORIZATION_EXPIRY_WARNING_SECONDS', ''),
  ),
);

/**
 * Every port a saga entry may ask for, each built only when read (getters): an entry that does
 * not take the confirmer, the webhook sender or the hold store never builds them.
 */
const wiring: SagaWiring = {
  get events() {
    return webhookDependencies().events;
  },
  get webhookSender() {
    return webhookDependencies().webhookSender;
  },
  get schedule() {
    return webhookDependencies().schedule;
  },
  get leaseMs() {
    return webhookDependencies().leaseMs;
  },
  get log() {
    return webhookDependencies().log;
  },
  checkouts: checkoutRepository,
  merchants: merchantRepository,
  // PspCallLatency and InventoryConfirmationLatency are measured at these ports (observability.ts).
  gateway: connectorGateways.gateway,
  gateways: connectorGateways.gateways,
  get confirmer() {
    return confirmer();
  },
  cipher: secretCipher,
  webhookEndpoints: webhookEndpointLookup,
  renderCheckout: (checkout: Checkout, instrument: FinancialInstrument | undefined) =>
    toCheckoutView(checkout, { checkoutBaseUrl, instrument }),
  // 3-D Secure: the challenge page sends the buyer back to the hosted page, which shows the result.
  challengeReturnUrl: (checkoutId: string) => `${checkoutUrl(checkoutBaseUrl, checkoutId)}?three_ds=return`,
  instruments: instrumentRepository,
  // Manual capture's expiry watch: its adapter is imported on a manual-capture checkout's first hold.
  authorizationHolds,
  // The terminal write leaves an outcome watch; notifyMerchant drops it once the events are stored.
  get outcomeWatch() {
    return outcomeWatch();
  },
  get authorizationPolicy() {
    return authorizationPolicy();
  },
};

/** The ports `keys` names, built now (at the entry's cold start); nothing else is built. */
export function sagaPorts<K extends keyof SagaWiring>(keys: readonly K[]): Pick<SagaWiring, K> {
  return Object.fromEntries(keys.map((key) => [key, wiring[key]])) as Pick<SagaWiring, K>;
}

/** The ports of the in-process notify that ends both terminal steps (CapturePayment, VoidAuthorization). */
export const NOTIFY_PORT_KEYS = [
  'checkouts',
  'instruments',
  'events',
  'webhookEndpoints',
  'webhookSender',
  'cipher',
  'merchants',
  'schedule',
  'leaseMs',
  'log',
  'renderCheckout',
  'outcomeWatch',
] as const satisfies readonly (keyof SagaWiring)[];

/** Every port (the reconciliation sweep drives every step's logic). */
export function allSagaPorts(): SagaWiring {
  return wiring;
}

/**
 * Adapts a saga step to a Lambda handler: the state's input in, the step's result out, observed
 * with the checkout id (`input.checkoutId`) as correlation id. Errors are not caught: their `name`
 * is what the state machine's Retry/Catch match on. `onResult` lets a step's handler emit the
 * metric of what the step did (CapturePayment: CheckoutSucceeded; VoidAuthorization: CheckoutFailed).
 */
export function sagaStep<K extends keyof SagaWiring, I, O>(
  keys: readonly K[],
  step: (deps: Pick<SagaWiring, K>, input: I) => Promise<O>,
  options: { onResult?: (input: I, output: O) => void } = {},
): (input: I, context?: Context) => Promise<O> {
  const deps = sagaPorts(keys); // only the ports this entry's use case takes
  return async (input: I, context?: Context) =>
    observeInvocation({ context, correlationId: checkoutIdOf(input) }, async () => {
      const output = await step(deps, input);
      options.onResult?.(input, output);
      return output;
    });
}

function checkoutIdOf(input: unknown): string | undefined {
  const id = (input as { checkoutId?: unknown } | null)?.checkoutId;
  return typeof id === 'string' ? id : undefined;
}
