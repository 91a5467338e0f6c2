/**
 * The merchant-facing HTTP ports of the saga (saga-wiring.ts): the inventory confirmer and the
 * webhook sender, both behind the SSRF guard (url-guard.ts's DNS check, merchant-http.ts), each
 * built on first use. CapturePayment and VoidAuthorization import this at their cold start (they
 * call the merchant on every payment); the reconciliation sweep imports it through
 * merchant-http-lazy.ts, only when it re-drives a stuck checkout.
 */
import { HttpInventoryConfirmer } from '../adapters/http-inventory-confirmer';
import type { InventoryConfirmer } from '../ports/inventory';
import type { WebhookSender } from '../ports/webhooks';
import { observeInventoryConfirmer } from './observability';
import { webhookSender } from './webhook-wiring';
import { merchantUrlPolicy } from './wiring';

/** The saga ports that call a merchant's URL. */
export interface MerchantHttpPorts {
  readonly confirmer: InventoryConfirmer;
  readonly webhookSender: WebhookSender;
}

let confirmer: InventoryConfirmer | undefined;

export const merchantHttp: MerchantHttpPorts = {
  get confirmer() {
    return (confirmer ??= observeInventoryConfirmer(new HttpInventoryConfirmer(undefined, merchantUrlPolicy)));
  },
  get webhookSender() {
    return webhookSender();
  },
};
