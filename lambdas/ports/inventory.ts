/** Port: the merchant's inventory confirmation (lambdas/adapters/http-inventory-confirmer.ts implements it). */
import type { FailureReason } from '../domain/model';

export interface InventoryConfirmationRequest {
  merchant_key: string;
  merchant_order_ref: string;
  order_ref: string; // checkout id
  amount: number; // major units, seed compatibility
  amount_minor: number;
  currency: string;
  items: { sku: string; name?: string; quantity: number }[];
}

export type InventoryDecision =
  | { outcome: 'confirmed'; latencyMs: number; httpStatus: number }
  | {
      outcome: 'rejected';
      reason: Extract<FailureReason, 'inventory_rejected' | 'inventory_timeout' | 'inventory_unreachable'>;
      message: string;
      latencyMs: number;
      httpStatus?: number;
    };

/**
 * Calls the merchant's inventory-confirmation endpoint once (never retried), 10 s timeout at most;
 * `options.timeoutMs` shortens it to the time the saga step has left.
 */
export interface InventoryConfirmer {
  confirmInventory(
    url: string,
    request: InventoryConfirmationRequest,
    signingSecret: string,
    /** allowedPorts: the merchant's `allowed_ports` setting (ports besides 443/80 its URL may use). */
    options?: { timeoutMs?: number; allowedPorts?: readonly number[] },
  ): Promise<InventoryDecision>;
}
