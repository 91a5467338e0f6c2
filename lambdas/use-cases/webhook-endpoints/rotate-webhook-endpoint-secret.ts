/**
 * Rotate a webhook endpoint's signing secret (POST /v1/webhook_endpoints/{id}/rotate_secret).
 *
 * Primary course:
 * 1. Load the merchant's endpoint (404 when unknown).
 * 2. Generate a new `whsec_` secret; keep the previous one signing alongside it until the overlap
 *    ends, so the merchant can deploy the new secret without losing events.
 * 3. Store the rotation; a concurrent rotation is 409 `concurrent_modification`.
 * 4. Return the endpoint and the new secret (shown in this answer only).
 */
import { generateSigningSecret } from '../../domain/ids';
import type { WebhookEndpoint } from '../../domain/webhook-endpoint';
import { ConflictError, NotFoundError } from '../../errors';
import type { SecretCipher } from '../../ports/secrets';
import type { WebhookEndpointRepository } from '../../ports/webhooks';

export async function rotateWebhookEndpointSecret(
  deps: { webhookEndpoints: WebhookEndpointRepository; cipher: SecretCipher },
  input: { merchantId: string; endpointId: string; overlapSeconds: number; now: Date },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const { merchantId, endpointId } = input;
  const endpoint = await deps.webhookEndpoints.getEndpoint(merchantId, endpointId);
  if (!endpoint) throw new NotFoundError(`No webhook endpoint ${endpointId}`, { param: 'id' });
  const secret = generateSigningSecret();
  const rotated = await deps.webhookEndpoints.rotateSecret(merchantId, endpointId, {
    secretCiphertext: await deps.cipher.encrypt(secret),
    previousSecretCiphertext: endpoint.secretCiphertext,
    previousSecretExpiresAt: new Date(input.now.getTime() + input.overlapSeconds * 1000).toISOString(),
  });
  if (!rotated)
    throw new ConflictError('The secret was rotated concurrently; read the endpoint and retry', {
      code: 'concurrent_modification',
    });
  return { endpoint: rotated, secret };
}
