/**
 * Saga step 2's adapter: POSTs the signed inventory-confirmation request to the merchant exactly
 * once. 200 = confirmed (body ignored); any other status = rejected with the JSON `reason` (or the
 * status line when the body is not JSON); a redirect is never followed and counts as unreachable;
 * no answer within the timeout (10 s, or less: the time the saga step has left) = inventory_timeout;
 * refused connection or DNS failure =
 * inventory_unreachable. The URL passes the SSRF guard (url-guard.ts) at connect time; a refused
 * URL or address counts as unreachable and nothing is sent.
 */
import type { InventoryConfirmationRequest, InventoryConfirmer, InventoryDecision } from '../ports/inventory';
import { postToMerchant } from './merchant-http';
import { signWebhook } from './standard-webhooks';
import { STRICT_URL_POLICY, withMerchantPorts, type UrlPolicy } from './url-guard';

export const INVENTORY_CONFIRMATION_TIMEOUT_MS = 10_000;

export class HttpInventoryConfirmer implements InventoryConfirmer {
  constructor(
    private readonly timeoutMs: number = INVENTORY_CONFIRMATION_TIMEOUT_MS,
    private readonly urlPolicy: UrlPolicy = STRICT_URL_POLICY,
  ) {}

  async confirmInventory(
    url: string,
    request: InventoryConfirmationRequest,
    signingSecret: string,
    options: { timeoutMs?: number; allowedPorts?: readonly number[] } = {},
  ): Promise<InventoryDecision> {
    const timeoutMs = Math.max(1, Math.min(this.timeoutMs, Math.floor(options.timeoutMs ?? this.timeoutMs)));
    const body = JSON.stringify(request);
    const headers = signWebhook(signingSecret, `msg_confirm_${request.order_ref}`, new Date(), body);
    const result = await postToMerchant(url, body, { ...headers }, timeoutMs, {
      policy: withMerchantPorts(this.urlPolicy, options.allowedPorts),
    });
    switch (result.kind) {
      case 'timeout':
        return {
          outcome: 'rejected',
          reason: 'inventory_timeout',
          message: `The merchant did not answer the inventory confirmation within ${Number((timeoutMs / 1000).toFixed(1))} s`,
          latencyMs: result.latencyMs,
        };
      case 'blocked':
        return {
          outcome: 'rejected',
          reason: 'inventory_unreachable',
          message: `Paystep refused to call the merchant's inventory confirmation URL (${result.message})`,
          latencyMs: result.latencyMs,
        };
      case 'unreachable':
        return {
          outcome: 'rejected',
          reason: 'inventory_unreachable',
          message: `The merchant's inventory confirmation endpoint could not be reached (${result.message})`,
          latencyMs: result.latencyMs,
        };
      case 'response':
        if (result.status === 200) return { outcome: 'confirmed', latencyMs: result.latencyMs, httpStatus: 200 };
        if (result.status >= 300 && result.status < 400) {
          return {
            outcome: 'rejected',
            reason: 'inventory_unreachable',
            message: `The merchant answered with a redirect (${result.status}${result.location ? ` to ${result.location}` : ''}), which is not followed`,
            latencyMs: result.latencyMs,
            httpStatus: result.status,
          };
        }
        return {
          outcome: 'rejected',
          reason: 'inventory_rejected',
          message: rejectionReason(result.status, result.statusText, result.body),
          latencyMs: result.latencyMs,
          httpStatus: result.status,
        };
    }
  }
}

/** The merchant's JSON `reason` when there is one, else the HTTP status line (seed rule). */
export function rejectionReason(status: number, statusText: string, body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'reason' in parsed) {
      const reason = (parsed as { reason: unknown }).reason;
      if (typeof reason === 'string' && reason.trim() !== '') return reason.slice(0, 500);
    }
  } catch {
    // not JSON: fall through to the status line
  }
  return `${status}${statusText ? ` ${statusText}` : ''}`;
}
