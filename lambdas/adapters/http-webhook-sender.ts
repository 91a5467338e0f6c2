/**
 * Delivers one signed Standard Webhooks message to a merchant endpoint. Only 2xx is success;
 * redirects are failures and never followed; 15 s timeout. The caller decides about retries.
 */
import type { WebhookAttempt, WebhookMessage, WebhookSender } from '../ports';
import { postToMerchant } from './merchant-http';
import { signWebhook } from './standard-webhooks';

export const WEBHOOK_TIMEOUT_MS = 15_000;

export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly timeoutMs: number = WEBHOOK_TIMEOUT_MS) {}

  async send(url: string, secret: string, message: WebhookMessage): Promise<WebhookAttempt> {
    const headers = signWebhook(secret, message.id, message.timestamp, message.body);
    const result = await postToMerchant(url, message.body, { ...headers }, this.timeoutMs);
    if (result.kind === 'timeout') return { ok: false, latencyMs: result.latencyMs, error: 'timeout' };
    if (result.kind === 'unreachable') return { ok: false, latencyMs: result.latencyMs, error: result.message };
    const ok = result.status >= 200 && result.status < 300;
    return {
      ok,
      httpStatus: result.status,
      latencyMs: result.latencyMs,
      responseExcerpt: result.body.slice(0, 256),
      ...(ok ? {} : { error: result.status >= 300 && result.status < 400 ? 'redirect not followed' : `HTTP ${result.status}` }),
    };
  }
}
