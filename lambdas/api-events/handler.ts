/**
 * The merchant's event log: GET /v1/events (newest first, with each delivery's status and attempt
 * log: HTTP status, latency, response excerpt), GET /v1/events/{id}, and
 * POST /v1/events/{id}/redeliver (re-queues the event to its endpoints with a fresh retry
 * schedule; Idempotency-Key aware like every POST). The webhook dispatcher does the sending.
 * Use cases: lambdas/use-cases/events/ and redeliverEvent (webhook-delivery.ts).
 */
import { apiDependencies } from '../shared/api-wiring';
import { requireMerchant } from '../shared/auth';
import { createApiHandler, type ApiRequest, type ApiResult } from '../shared/http';
import { parseInput } from '../shared/validation';
import { listEventsQuerySchema, redeliverEventInputSchema } from '../shared/request-schemas';
import { toEventLogView, toListView } from '../shared/views';
import { eventStore } from '../shared/event-wiring';
import { webhookEndpointRepository } from '../shared/webhook-endpoint-wiring';
import { getEvent } from '../use-cases/events/get-event';
import { listEvents } from '../use-cases/events/list-events';
import { redeliverEvent } from '../use-cases/webhook-delivery';

const deps = { events: eventStore, webhookEndpoints: webhookEndpointRepository };

async function list(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const query = parseInput(listEventsQuerySchema(), request.query);
  const page = await listEvents(deps, {
    merchantId: merchant.id,
    ...(query.limit !== undefined ? { limit: query.limit } : {}),
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    ...(query.type !== undefined ? { type: query.type } : {}),
  });
  return { statusCode: 200, body: toListView(page.events.map(toEventLogView), page.nextCursor) };
}

async function get(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const found = await getEvent(deps, { merchantId: merchant.id, eventId: request.pathParameters.id ?? '' });
  return { statusCode: 200, body: toEventLogView(found) };
}

async function redeliver(request: ApiRequest): Promise<ApiResult> {
  const merchant = requireMerchant(request.principal);
  const input = parseInput(redeliverEventInputSchema(), request.body);
  const result = await redeliverEvent(
    { ...deps, now: () => request.now },
    {
      merchantId: merchant.id,
      eventId: request.pathParameters.id ?? '',
      ...(input.endpoint_id !== undefined ? { endpointId: input.endpoint_id } : {}),
    },
  );
  return { statusCode: 202, body: toEventLogView(result) };
}

export const handler = createApiHandler(
  {
    'GET /v1/events': { auth: ['merchant'], handle: list },
    'GET /v1/events/{id}': { auth: ['merchant'], handle: get },
    'POST /v1/events/{id}/redeliver': { auth: ['merchant'], handle: redeliver },
  },
  apiDependencies,
);
