/**
 * The merchant-facing HTTP ports (merchant-http-wiring.ts) for the reconciliation sweep, imported
 * on first use as a chunk of its own (lib/bundling.ts), not at the cold start: a pass calls a
 * merchant only when it re-drives a checkout stuck past the recovery threshold (the inventory
 * confirmation of a checkout left in `confirming`, the result webhook of one that reached its
 * terminal state without it), which takes a dead execution or host. CapturePayment and
 * VoidAuthorization call the merchant on every payment and import merchant-http-wiring.ts directly.
 * Same instances as merchant-http-wiring.ts once loaded.
 */
import { importOnce } from './import-once';
import type { MerchantHttpPorts } from './merchant-http-wiring';

/** The ports, imported once; a failed import is retried on the next call. */
const load = importOnce(async (): Promise<MerchantHttpPorts> => (await import('./merchant-http-wiring')).merchantHttp);

export const lazyMerchantHttp: MerchantHttpPorts = {
  confirmer: {
    confirmInventory: async (url, request, signingSecret, options) =>
      (await load()).confirmer.confirmInventory(url, request, signingSecret, options),
  },
  webhookSender: {
    send: async (url, secret, message, options) => (await load()).webhookSender.send(url, secret, message, options),
  },
};
