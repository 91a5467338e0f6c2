/**
 * The endpoint test event (POST /v1/webhook_endpoints/{id}/test) on the in-memory fakes: it queues
 * one delivery to the tested endpoint only, whatever the endpoints subscribe to, is a new event on
 * every call, is refused for a disabled endpoint, and its attempt carries the endpoint's pinned
 * API version like every delivery.
 */
import { describe, expect, it } from 'vitest';
import { LATEST_API_VERSION } from '../../../lambdas/domain/api-version';
import { ConflictError } from '../../../lambdas/errors';
import type { WebhookEndpoint } from '../../../lambdas/domain/webhook-endpoint';
import { attemptDelivery, sendTestEvent, type DispatchDependencies } from '../../../lambdas/use-cases/webhook-delivery';
import { FakeCheckouts, fakeCipher, FakeEventStore, FakeWebhookEndpoints, FakeWebhookSender } from '../fakes';

function anEndpoint(overrides: Partial<WebhookEndpoint>): WebhookEndpoint {
  return {
    id: 'we_1',
    merchantId: 'mer_1',
    url: 'https://shop.example/hooks',
    enabledEvents: ['checkout.succeeded'],
    secretCiphertext: 'enc(whsec_x)',
    status: 'enabled',
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function setup(endpoints: WebhookEndpoint[]) {
  const events = new FakeEventStore();
  const webhookEndpoints = new FakeWebhookEndpoints();
  webhookEndpoints.rows.push(...endpoints);
  const sender = new FakeWebhookSender();
  const deps: DispatchDependencies = {
    events,
    webhookEndpoints,
    webhookSender: sender,
    cipher: fakeCipher,
    checkouts: new FakeCheckouts(),
    schedule: { delaysMs: [0, 1000], jitterRatio: 0, maxRetryAfterMs: 1000 },
    now: () => new Date('2026-11-30T12:00:00.000Z'),
  };
  return { deps, events, sender };
}

describe('sendTestEvent', () => {
  it('queues one webhook_endpoint.test delivery to the tested endpoint only, even though it subscribes to other types', async () => {
    // Prepare
    const tested = anEndpoint({ id: 'we_tested' });
    const other = anEndpoint({ id: 'we_other', enabledEvents: ['*'] });
    const { deps } = setup([tested, other]);

    // Act
    const first = await sendTestEvent(deps, {
      merchantId: 'mer_1',
      endpoint: tested,
      endpointView: { id: tested.id },
      nonce: 'n1',
    });
    const second = await sendTestEvent(deps, {
      merchantId: 'mer_1',
      endpoint: tested,
      endpointView: { id: tested.id },
      nonce: 'n2',
    });

    // Assess
    expect(first.event.type).toBe('webhook_endpoint.test');
    expect(JSON.parse(first.event.body)).toMatchObject({
      type: 'webhook_endpoint.test',
      id: first.event.id,
      data: { object: { id: 'we_tested' } },
    });
    expect(first.deliveries.map((delivery) => [delivery.endpointId, delivery.status])).toEqual([['we_tested', 'pending']]);
    expect(second.event.id).not.toBe(first.event.id);
  });

  it('refuses a disabled endpoint with 409 endpoint_disabled and queues nothing', async () => {
    // Prepare
    const disabled = anEndpoint({ status: 'disabled', disabledReason: 'the receiver answered 410 Gone' });
    const { deps, events } = setup([disabled]);

    // Act
    const attempt = sendTestEvent(deps, { merchantId: 'mer_1', endpoint: disabled, endpointView: {}, nonce: 'n' });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toMatchObject({ code: 'endpoint_disabled' });
    expect(events.events.size).toBe(0);
  });

  it("sends through the normal delivery path with the endpoint's pinned API version", async () => {
    // Prepare
    const pinned = anEndpoint({ apiVersion: LATEST_API_VERSION });
    const { deps, sender } = setup([pinned]);
    const queued = await sendTestEvent(deps, { merchantId: 'mer_1', endpoint: pinned, endpointView: {}, nonce: 'n' });

    // Act
    const outcome = await attemptDelivery(deps, { eventId: queued.event.id, endpointId: pinned.id });

    // Assess
    expect(outcome).toMatchObject({ kind: 'attempted', status: 'delivered' });
    expect(sender.sent.map((sent) => [sent.url, sent.message.id, sent.message.apiVersion, sent.secret])).toEqual([
      [pinned.url, queued.event.id, LATEST_API_VERSION, 'whsec_x'],
    ]);
  });
});
