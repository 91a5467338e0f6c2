/**
 * The merchant's event log (GET /v1/events).
 *
 * Primary course:
 * 1. Return one page of the merchant's events, newest first (optionally of one type), each with
 *    its deliveries' status and attempt log.
 */
import type { EventStore, EventWithDeliveries } from '../../ports/events';

const DEFAULT_LIST_LIMIT = 20;

export async function listEvents(
  deps: { events: EventStore },
  input: { merchantId: string; limit?: number; cursor?: string; type?: string },
): Promise<{ events: EventWithDeliveries[]; nextCursor?: string }> {
  return deps.events.listEvents(input.merchantId, {
    limit: input.limit ?? DEFAULT_LIST_LIMIT,
    ...(input.cursor !== undefined ? { cursor: input.cursor } : {}),
    ...(input.type !== undefined ? { type: input.type } : {}),
  });
}
