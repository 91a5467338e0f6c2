/**
 * Delivers one signed Standard Webhooks message to a merchant endpoint. Only 2xx is success;
 * redirects are failures and never followed; 15 s timeout; the URL passes the SSRF guard at
 * connect time. During a secret rotation's overlap the message is signed with both secrets
 * (`webhook-signature: v1,<new> v1,<old>`, space-separated as Standard Webhooks allows), so a
 * receiver still verifying with either secret accepts it. The caller decides about retries.
 */
import type { WebhookAttempt, WebhookMessage, WebhookSender } from '../ports/webhooks';
import { postToMerchant } from './merchant-http';
import { signWebhook, type SignedHeaders } from './standard-webhooks';
import { STRICT_URL_POLICY, withMerchantPorts, type UrlPolicy } from './url-guard';
import { API_VERSION_HEADER } from '../domain/api-version';

export const WEBHOOK_TIMEOUT_MS = 15_000;

/** Longest response excerpt kept in the delivery log. */
export const RESPONSE_EXCERPT_CHARS = 256;

/** The three Standard Webhooks headers, with one `v1,<sig>` per secret in `webhook-signature`. */
export function signWithSecrets(secrets: readonly string[], message: WebhookMessage): SignedHeaders {
  const [first, ...rest] = secrets;
  if (first === undefined) throw new Error('at least one signing secret is required');
  const headers = signWebhook(first, message.id, message.timestamp, message.body);
  const extra = rest.map((secret) => signWebhook(secret, message.id, message.timestamp, message.body)['webhook-signature']);
  return { ...headers, 'webhook-signature': [headers['webhook-signature'], ...extra].join(' ') };
}

export class HttpWebhookSender implements WebhookSender {
  constructor(
    private readonly timeoutMs: number = WEBHOOK_TIMEOUT_MS,
    private readonly urlPolicy: UrlPolicy = STRICT_URL_POLICY,
  ) {}

  async send(
    url: string,
    secret: string | readonly string[],
    message: WebhookMessage,
    options: { allowedPorts?: readonly number[] } = {},
  ): Promise<WebhookAttempt> {
    const headers = signWithSecrets(typeof secret === 'string' ? [secret] : secret, message);
    const versionHeader = message.apiVersion !== undefined ? { [API_VERSION_HEADER.toLowerCase()]: message.apiVersion } : {};
    const result = await postToMerchant(url, message.body, { ...headers, ...versionHeader }, this.timeoutMs, {
      policy: withMerchantPorts(this.urlPolicy, options.allowedPorts),
    });
    if (result.kind === 'timeout')
      return { ok: false, latencyMs: result.latencyMs, error: `timeout after ${this.timeoutMs / 1000} s` };
    if (result.kind === 'unreachable' || result.kind === 'blocked')
      return { ok: false, latencyMs: result.latencyMs, error: result.message };
    const ok = result.status >= 200 && result.status < 300;
    return {
      ok,
      httpStatus: result.status,
      latencyMs: result.latencyMs,
      responseExcerpt: result.body.slice(0, RESPONSE_EXCERPT_CHARS),
      ...(result.retryAfter !== undefined ? { retryAfter: result.retryAfter } : {}),
      ...(ok
        ? {}
        : {
            error:
              result.status >= 300 && result.status < 400 ? `redirect (${result.status}) not followed` : `HTTP ${result.status}`,
          }),
    };
  }
}
