/**
 * A checkout's result events: their ids and the timeline rows derived from their attempt logs
 * (one row per attempt, the last attempt of a dead-lettered or disabled delivery marked; events
 * whose rows were written to the timeline are skipped so nothing shows twice).
 */
import { describe, expect, it } from 'vitest';
import type { WebhookDelivery } from '../../../lambdas/domain/webhook-delivery';
import type { StoredEvent } from '../../../lambdas/domain/webhook-events';
import { checkoutWebhookRows, resultEventId, webhookTimelineRows } from '../../../lambdas/domain/webhook-result-events';
import { aCheckout } from '../fakes';

const event = (overrides: Partial<StoredEvent> = {}): StoredEvent => ({
  id: resultEventId('chk_1', 'checkout.succeeded'),
  merchantId: 'mer_1',
  type: 'checkout.succeeded',
  created: 1,
  createdAt: '2026-03-01T12:00:00.000Z',
  checkoutId: 'chk_1',
  timelineDerived: true,
  body: '{}',
  ...overrides,
});

const delivery = (overrides: Partial<WebhookDelivery>): WebhookDelivery => ({
  eventId: resultEventId('chk_1', 'checkout.succeeded'),
  endpointId: 'we_1',
  merchantId: 'mer_1',
  status: 'delivered',
  attempt: 1,
  nextAttemptAt: '2026-03-01T12:00:00.000Z',
  attempts: [],
  updatedAt: '2026-03-01T12:00:00.000Z',
  ...overrides,
});

describe('webhook timeline rows derived from the result events', () => {
  it('gives one row per attempt, oldest first, and marks the last attempt of a dead-lettered delivery', () => {
    // Prepare
    const failedTwice = delivery({
      endpointId: 'we_down',
      status: 'dead_lettered',
      attempts: [
        { number: 1, at: '2026-03-01T12:00:01.000Z', ok: false, httpStatus: 500, latencyMs: 4 },
        { number: 2, at: '2026-03-01T12:00:06.000Z', ok: false, httpStatus: 500, latencyMs: 5 },
      ],
    });
    const delivered = delivery({
      attempts: [{ number: 1, at: '2026-03-01T12:00:02.000Z', ok: true, httpStatus: 204, latencyMs: 3 }],
    });
    // Act
    const rows = webhookTimelineRows([{ event: event(), deliveries: [failedTwice, delivered] }]);
    // Assess
    expect(rows.map((row) => [row.type, row.at, row.data?.endpoint_id, row.data?.dead_lettered])).toEqual([
      ['webhook_failed', '2026-03-01T12:00:01.000Z', 'we_down', undefined],
      ['webhook_delivered', '2026-03-01T12:00:02.000Z', 'we_1', undefined],
      ['webhook_failed', '2026-03-01T12:00:06.000Z', 'we_down', true],
    ]);
    expect(rows[1]).toMatchObject({
      checkoutId: 'chk_1',
      data: { event_type: 'checkout.succeeded', attempt: 1, http_status: 204, latency_ms: 3 },
    });
  });

  it('skips events whose rows were written to the timeline when they were delivered', () => {
    // Prepare
    const attempts = [{ number: 1, at: '2026-03-01T12:00:02.000Z', ok: true, latencyMs: 3 }];
    const { timelineDerived: _derived, ...written } = event();
    // Act
    const rows = webhookTimelineRows([{ event: written, deliveries: [delivery({ attempts })] }]);
    // Assess
    expect(rows).toEqual([]);
  });

  it('reads the result events of a terminal checkout by their derived ids, and nothing for an open one', async () => {
    // Prepare
    const asked: string[][] = [];
    const events = {
      getEvents: async (ids: readonly string[]) => {
        asked.push([...ids]);
        return [];
      },
    };
    // Act
    await checkoutWebhookRows(events, aCheckout({ status: 'open' }));
    await checkoutWebhookRows(events, aCheckout({ status: 'failed' }));
    // Assess
    expect(asked).toEqual([[resultEventId('chk_1', 'checkout.failed')]]);
  });
});
