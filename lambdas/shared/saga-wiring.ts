/**
 * Module-scope wiring for the saga's step functions, on top of wiring.ts: the PSP gateway and the
 * webhook delivery dependencies (webhook-delivery-wiring.ts), with settings read once. The
 * merchant-facing HTTP adapters (inventory confirmer, webhook sender, behind the SSRF guard) are
 * not imported here: an entry that takes them passes them in (sagaStep, allSagaPorts), eagerly
 * (merchant-http-wiring.ts: CapturePayment, VoidAuthorization) or lazily (merchant-http-lazy.ts:
 * the reconciliation sweep).
 *
 * Env: PUBLIC_CHECKOUT_BASE_URL (rendered into the webhook's checkout object) required;
 * the connector's settings (lambdas/connectors/<id>/config.ts) for the PSP-calling steps;
 * manual capture: AUTHORIZATION_VALIDITY_SECONDS (default 7 days) and
 * AUTHORIZATION_EXPIRY_WARNING_SECONDS (default 24 h), compressed locally by local/stack.ts.
 */
import { DynamoOutcomeWatch } from '../adapters/dynamo-outcome-watch';
import type { Context } from 'aws-lambda';
import { merchantGatewaysFromEnv } from '../connectors/merchant-gateways';
import { gatewaysFromEnv } from '../connectors/registry';
import { parseAuthorizationPolicy } from '../domain/authorization-hold';
import type { FinancialInstrument } from '../domain/instrument-model';
import type { Checkout } from '../domain/model';
import type { NotifyMerchantPorts } from '../use-cases/saga/notify-merchant';
import type { SagaPorts } from '../use-cases/saga/shared';
import { optionalEnv, requireEnv } from './env';
import { observeGateway, observeInvocation } from './observability';
import { checkoutUrl, toCheckoutView } from './views';
import { webhookDelivery } from './webhook-delivery-wiring';
import type { MerchantHttpPorts } from './merchant-http-wiring';
import { authorizationHolds } from './authorization-holds-lazy';
import { webhookEndpointLookup } from './webhook-lookup-wiring';
import { instrumentRepository } from './instrument-wiring';
import { checkoutRepository } from './checkout-wiring';
import { documentClient, merchantRepository, secretCipher, storeConfig } from './wiring';
import { builtOnFirstUse } from './import-once';

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

const outcomeWatch = builtOnFirstUse(() => new DynamoOutcomeWatch(documentClient, storeConfig.tableName));
const authorizationPolicy = builtOnFirstUse(() =>
  parseAuthorizationPolicy(
    optionalEnv('AUTHORIZATION_VALIDITY_SECONDS', ''),
    optionalEnv('AUTHORIZATION_EXPIRY_WARNING_SECONDS', ''),
  ),
);

/**
 * Every port a saga entry may ask for but the merchant HTTP ones (the entry's own, see sagaPorts),
 * each built only when read (getters): an entry that does not take the webhook delivery settings,
 * the outcome watch or the hold store never builds them.
 */
const wiring: Omit<SagaWiring, keyof MerchantHttpPorts> = {
  get events() {
    return webhookDelivery().events;
  },
  get schedule() {
    return webhookDelivery().schedule;
  },
  get leaseMs() {
    return webhookDelivery().leaseMs;
  },
  get log() {
    return webhookDelivery().log;
  },
  checkouts: checkoutRepository,
  merchants: merchantRepository,
  // PspCallLatency and InventoryConfirmationLatency are measured at these ports (observability.ts).
  gateway: connectorGateways.gateway,
  gateways: connectorGateways.gateways,
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

/**
 * The ports `keys` names, built now (at the entry's cold start); nothing else is built. The
 * inventory confirmer and webhook sender come from `merchantHttp`, which an entry that takes
 * either passes in (merchant-http-wiring.ts).
 */
export function sagaPorts<K extends keyof SagaWiring>(keys: readonly K[], merchantHttp?: MerchantHttpPorts): Pick<SagaWiring, K> {
  return Object.fromEntries(keys.map((key) => [key, portOf(key, merchantHttp)])) as Pick<SagaWiring, K>;
}

function portOf(key: keyof SagaWiring, merchantHttp: MerchantHttpPorts | undefined): unknown {
  if (key !== 'confirmer' && key !== 'webhookSender') return wiring[key];
  if (!merchantHttp) throw new Error(`saga-wiring: the ${key} port needs the entry's merchant HTTP ports`);
  return merchantHttp[key];
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

/**
 * Every port (the reconciliation sweep drives every step's logic), the merchant HTTP ones from
 * `merchantHttp` (the sweep's: merchant-http-lazy.ts).
 */
export function allSagaPorts(merchantHttp: MerchantHttpPorts): SagaWiring {
  return { ...wiring, confirmer: merchantHttp.confirmer, webhookSender: merchantHttp.webhookSender };
}

/**
 * Adapts a saga step to a Lambda handler: the state's input in, the step's result out, observed
 * with the checkout id (`input.checkoutId`) as correlation id. Errors are not caught: their `name`
 * is what the state machine's Retry/Catch match on. `onResult` lets a step's handler emit the
 * metric of what the step did (CapturePayment: CheckoutSucceeded; VoidAuthorization: CheckoutFailed).
 * `merchantHttp`: the inventory confirmer and webhook sender, for an entry whose keys name either.
 */
export function sagaStep<K extends keyof SagaWiring, I, O>(
  keys: readonly K[],
  step: (deps: Pick<SagaWiring, K>, input: I) => Promise<O>,
  options: { onResult?: (input: I, output: O) => void; merchantHttp?: MerchantHttpPorts } = {},
): (input: I, context?: Context) => Promise<O> {
  const deps = sagaPorts(keys, options.merchantHttp); // only the ports this entry's use case takes
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
